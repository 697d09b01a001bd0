#!/usr/bin/env bash
# failover-migration-import — failover-migration.test.sh with each joind started on the lease file of
# the dhcpd it replaces (`joind import`: the failover state, binding states and times kept), so neither
# swap waits an MCLT. Exit 0 pass, 1 fail, 77 skip.
here=$(cd "$(dirname "$0")" && pwd)
FO_MIGRATE_IMPORT=1 exec bash "$here/failover-migration.test.sh"
