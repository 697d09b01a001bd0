# shellcheck shell=bash
# joind.sh — what every joind system test starts with: root check, the bed, a work folder removed on
# exit, a `fail` that shows joind's log, and starting joind in a bed namespace.
# Source it from a test in test/system/ after `set -u`, and after the test's own `bed_need TOOL…` (from
# need.sh: its tools are checked first, so that a test skipped for want of root still names the tools it
# lacks); it sets ROOT, DIST, WORK and loads bed.sh.

# shellcheck source=need.sh
. "$(dirname "${BASH_SOURCE[0]}")/need.sh"
bed_need ip sysctl timeout # the bed itself
[ "$(id -u)" = 0 ] || { echo "skip: needs root for network namespaces"; exit 77; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
DIST=${JOIND_DIST:-$ROOT/dist}
cd "$ROOT" || exit 1
# shellcheck source=bed.sh
. "$ROOT/test/system/lib/bed.sh"

# joind_test_begin PREFIX — a work folder ($WORK) and the trap that removes the bed and the folder.
joind_test_begin() {
  JT_PREFIX=$1
  WORK=$(mktemp -d "/tmp/joind-$1-XXXXXX")
  trap 'bed_down "$JT_PREFIX" >/dev/null 2>&1; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT
  trap 'exit 130' INT TERM
}

fail() { echo "FAIL: $*"; echo "--- joind log"; tail -n 30 "$WORK/joind.log" 2>/dev/null; exit 1; }

# joind_start NS CONFIG_DIR SPOOL_DIR — start `joind -f -l 2` in NS, logging to $WORK/joind.log; waits
# (≤ 10 s) for JOIND_STARTED. Sets JOIND (its bed PID, for bed_stop).
joind_start() {
  bed_spawn "$JT_PREFIX" "$1" joind "$WORK/joind.log" -- node "$DIST/src/cli/main.js" -f -l 2 \
    --config-dir "$2" --spool-dir "$3"
  JOIND=$BED_PID
  bed_wait_for 10 grep -q '"JOIND_STARTED"' "$WORK/joind.log" || fail "joind did not start"
}

# joind_bed_up — the bed of joind_test_begin's prefix, and SRV, CLA, CLB, CLC, RLY: its namespaces.
# shellcheck disable=SC2034  # the namespaces are for the caller
joind_bed_up() {
  bed_up "$JT_PREFIX" || fail "bed_up"
  SRV=$(bed_ns "$JT_PREFIX" srv) CLA=$(bed_ns "$JT_PREFIX" cla) CLB=$(bed_ns "$JT_PREFIX" clb)
  CLC=$(bed_ns "$JT_PREFIX" clc) RLY=$(bed_ns "$JT_PREFIX" rly)
}

# conf_sample — CONF=$WORK/conf, a copy of the sample configuration (etc/) for the test to change, and
# an empty spool folder $WORK/spool.
conf_sample() {
  CONF=$WORK/conf
  mkdir -p "$CONF" "$WORK/spool" && cp "$ROOT"/etc/* "$CONF/" || fail "copying the sample configuration"
}

# joind_expect_dropped SPOOL_DIR REASON — asks joind (SIGUSR1) for its counters and fails unless at least
# one request was dropped for REASON (docs/joind-metrics.md lists them): a test that expects silence
# says why the server kept it.
joind_expect_dropped() {
  local pid mark
  pid=$(cat "$1/joind.pid") || fail "no pid file in $1"
  mark=$(stat -c %s "$WORK/joind.log")
  kill -USR1 "$pid"
  bed_wait_for 5 sh -c "tail -c +$((mark + 1)) '$WORK/joind.log' | grep -q '\"STATE_DUMP\"'" || fail "no state dump"
  tail -c +"$((mark + 1))" "$WORK/joind.log" | grep '"STATE_DUMP"' | grep -q "\"$2\":[1-9]" \
    || fail "no request was dropped as $2"
}
