#!/usr/bin/env bash
# failover-joind-dhcpd-scenarios — failover-joind-scenarios.test.sh with joind as the primary and ISC
# dhcpd 4.4.3 as the secondary: scenarios 1-3 with dhcpd as the unit that fails (the secondary cut from
# the client LAN, the secondary isolated from everything and back) and the joind primary's clock 90 s
# then 45 s off; what dhcpd does differently is in that test's header. Exit 0 pass, 1 fail, 77 skip.
here=$(cd "$(dirname "$0")" && pwd)
FO_SECONDARY=dhcpd FO_TEST=failover-joind-dhcpd-scenarios exec bash "$here/failover-joind-scenarios.test.sh"
