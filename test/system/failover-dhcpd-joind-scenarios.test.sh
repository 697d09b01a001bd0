#!/usr/bin/env bash
# failover-dhcpd-joind-scenarios — failover-joind-scenarios.test.sh with ISC dhcpd 4.4.3 as the primary and
# joind as the secondary: scenarios 1-3 (the primary cut from the client LAN, the primary isolated from
# everything and back, the secondary's clock 90 s then 45 s off); what dhcpd does differently is in that
# test's header. Exit 0 pass, 1 fail, 77 skip.
here=$(cd "$(dirname "$0")" && pwd)
FO_PRIMARY=dhcpd FO_TEST=failover-dhcpd-joind-scenarios exec bash "$here/failover-joind-scenarios.test.sh"
