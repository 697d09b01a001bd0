#!/usr/bin/env bash
# Runs every system test (test/system/*.test.sh). They need root (network namespaces) and the Debian
# packages that .ci/run installs. Each test builds its own namespaces and removes them on exit.
set -u
cd "$(dirname "$0")/../.."
pass=0; fail=0; skipped=0
for t in test/system/*.test.sh; do
  [ -e "$t" ] || continue
  echo "# system test: $t"
  bash "$t"; rc=$?
  if [ $rc -eq 0 ]; then pass=$((pass+1)); echo "ok - $t"
  elif [ $rc -eq 77 ]; then skipped=$((skipped+1)); echo "skip - $t"
  else fail=$((fail+1)); echo "not ok - $t (exit $rc)"; fi
done
echo "system: $pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
