#!/usr/bin/env bash
# failover-joind-dhcpd-restore — failover-joind-restore.test.sh with ISC dhcpd 4.4.3 as the secondary:
# the joind primary's catch-up after a restart and its recovery from an old backup are answered by
# dhcpd, and dhcpd itself comes back from an emptied lease file. Exit 0 pass, 1 fail, 77 skip.
here=$(cd "$(dirname "$0")" && pwd)
FO_SECONDARY=dhcpd FO_TEST=failover-joind-dhcpd-restore exec bash "$here/failover-joind-restore.test.sh"
