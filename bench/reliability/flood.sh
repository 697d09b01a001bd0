#!/usr/bin/env bash
# Full form of the flood run (issue 6, item 4): FLOOD_PPS (default 10,000) DISCOVERs per second from new
# MACs for FLOOD_SECONDS (default 30) on one link, through test/system/rel-flood.test.sh (CI: 3,000/s for
# 12 s). Needs root. About 50 s.
set -u
cd "$(dirname "$0")/../.." || exit 1
FLOOD_PPS=${FLOOD_PPS:-10000} FLOOD_SECONDS=${FLOOD_SECONDS:-30} exec bash test/system/rel-flood.test.sh
