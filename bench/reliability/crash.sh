#!/usr/bin/env bash
# Full form of the crash run (issue 6, item 1): CRASH_KILLS (default 100) SIGKILLs of joind under
# perfdhcp load, through test/system/rel-crash.test.sh (CI does 22). Needs root. About 3 minutes.
set -u
cd "$(dirname "$0")/../.." || exit 1
CRASH_KILLS=${CRASH_KILLS:-100} exec bash test/system/rel-crash.test.sh
