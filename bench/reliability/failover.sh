#!/usr/bin/env bash
# Long form of the failover pair's bad days (issue 14): each scenario test of test/system run
# FAILOVER_ROUNDS times (default 3) with the seed's kind of MCLT shortened to FAILOVER_MCLT seconds
# (default 60; CI runs them once with 20), then one line per test with its passes and, per round, the
# summary line it printed (times to detect, to partner-down, to normal; duplicates). Needs root and a
# build. About FAILOVER_ROUNDS × (4 + 3 × MCLT/60) minutes per test. FAILOVER_TESTS names the tests.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROUNDS=${FAILOVER_ROUNDS:-3}
MCLT=${FAILOVER_MCLT:-60}
TESTS=${FAILOVER_TESTS:-failover-joind-failures failover-joind-dhcpd-failures failover-dhcpd-joind-failures failover-joind-scenarios failover-dhcpd-joind-scenarios failover-joind-dhcpd-scenarios failover-joind-restore failover-joind-dhcpd-restore failover-dhcpd-joind-restore}
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 50 ] || { echo "FAILOVER_ROUNDS: 1 to 50" >&2; exit 2; }
out=$(mktemp -d /tmp/failover-long.XXXXXX)
rc=0
for t in $TESTS; do
  passed=0
  for (( r = 1; r <= ROUNDS; r++ )); do
    log="$out/$t.$r.log"
    # Each test bounds itself (every wait, and BED_LIFETIME for what it starts); this bounds the round.
    if PAIR_MCLT=$MCLT timeout -k 10 $(( 600 + 6 * MCLT )) bash "test/system/$t.test.sh" > "$log" 2>&1; then
      passed=$(( passed + 1 ))
    else
      rc=1
      echo "# $t round $r failed: $log"
    fi
    grep -E "^$t: " "$log" | sed "s/^/# round $r: /"
  done
  echo "$t: $passed of $ROUNDS rounds passed (MCLT $MCLT s)"
done
echo "# logs in $out"
exit "$rc"
