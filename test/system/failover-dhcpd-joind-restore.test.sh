#!/usr/bin/env bash
# failover-dhcpd-joind-restore — failover-joind-restore.test.sh with ISC dhcpd 4.4.3 as the primary and
# joind as the secondary: the joind secondary's catch-up after a restart and its recovery from an old
# backup are answered by dhcpd (partner-down meanwhile), and dhcpd itself comes back from an emptied
# lease file (recover, recover-wait, recover-done, normal). Exit 0 pass, 1 fail, 77 skip.
here=$(cd "$(dirname "$0")" && pwd)
FO_PRIMARY=dhcpd FO_TEST=failover-dhcpd-joind-restore exec bash "$here/failover-joind-restore.test.sh"
