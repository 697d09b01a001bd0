#!/usr/bin/env bash
# failover-dhcpd-joind-failures — failover-joind-failures.test.sh with ISC dhcpd 4.4.3 as the primary and
# joind as the secondary: the failover link cut and healed, the dhcpd primary killed (SIGKILL) while the
# joind secondary serves on and goes partner-down on evidence, then dhcpd restarted on its lease file
# through recover and recover-wait back to normal. Exit 0 pass, 1 fail, 77 skip.
here=$(cd "$(dirname "$0")" && pwd)
FO_PRIMARY=dhcpd FO_TEST=failover-dhcpd-joind-failures exec bash "$here/failover-joind-failures.test.sh"
