#!/usr/bin/env bash
# Full form of the hostile-packet run (issue 6, item 3): 2,000,000 packets (HOSTILE_COUNT to change), a
# million with the raw transport and a million with the UDP transport, at 15,000 per second, through
# test/system/rel-hostile.test.sh (same checks as in CI, which sends 200,000). Needs root. About 2.5
# minutes. Build first: npm run build.
set -u
cd "$(dirname "$0")/../.." || exit 1
HOSTILE_COUNT=${HOSTILE_COUNT:-2000000} HOSTILE_PPS=${HOSTILE_PPS:-15000} exec bash test/system/rel-hostile.test.sh
