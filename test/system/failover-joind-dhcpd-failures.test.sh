#!/usr/bin/env bash
# failover-joind-dhcpd-failures — failover-joind-failures.test.sh with ISC dhcpd 4.4.3 as the secondary:
# the failover link cut and healed, dhcpd killed (SIGKILL) while the joind primary serves on and goes
# partner-down on evidence, then dhcpd restarted on its lease file through recover and recover-wait
# back to normal. Exit 0 pass, 1 fail, 77 skip.
here=$(cd "$(dirname "$0")" && pwd)
FO_SECONDARY=dhcpd FO_TEST=failover-joind-dhcpd-failures exec bash "$here/failover-joind-failures.test.sh"
