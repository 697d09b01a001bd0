#!/usr/bin/env bash
# Runs the system tests: bash test/system/run-all.sh [NAME…] — every test/system/*.test.sh, or those
# whose name (without .test.sh) is one of NAME… (a name or a glob: ops-exchange, 'rel-*').
# First, as root, it installs the Debian packages of test/system/debian-packages.txt that are missing
# (test/system/lib/need.sh: apt-get update, then apt-get install --no-install-recommends, no daemon
# started), once for all the tests. Without root, or when that fails (no network), it says which
# packages are missing, and each test that needs one skips (exit 77) naming the tool and its package.
# BED_INSTALL=0 installs nothing. Most tests need root (network namespaces) and skip without it.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=test/system/lib/need.sh
. test/system/lib/need.sh

tests=()
for t in test/system/*.test.sh; do
  [ -e "$t" ] || continue
  if [ $# -gt 0 ]; then
    name=$(basename "$t" .test.sh) match=
    # shellcheck disable=SC2053 # NAME may be a glob
    for want in "$@"; do [[ $name == $want ]] && match=1; done
    [ -n "$match" ] || continue
  fi
  tests+=("$t")
done
[ ${#tests[@]} -gt 0 ] || { echo "run-all: no system test is named $*" >&2; exit 2; }

# The Debian packages, once, before the tests.
missing=$(bed_missing_packages | paste -sd ' ')
if [ -z "$missing" ]; then
  echo "# system tests: the Debian packages of test/system/debian-packages.txt are installed"
elif [ "$(id -u)" != 0 ]; then
  echo "# system tests: not root, so these missing Debian packages are not installed: $missing"
  echo "# (the tests that need them skip; run as root, or apt-get install them)"
elif [ "$BED_INSTALL" = 0 ]; then
  echo "# system tests: BED_INSTALL=0, so these missing Debian packages are not installed: $missing"
else
  start=$SECONDS
  # shellcheck disable=SC2086 # a list of package names
  if bed_install $missing; then
    echo "# system tests: Debian packages installed in $((SECONDS - start)) s"
  else
    echo "# system tests: still missing after $((SECONDS - start)) s: $(bed_missing_packages | paste -sd ' '); the tests that need them skip"
  fi
fi
export BED_INSTALL_TRIED=1 # the tests do not try again

pass=0; fail=0; skipped=0
for t in "${tests[@]}"; do
  echo "# system test: $t"
  bash "$t"; rc=$?
  if [ $rc -eq 0 ]; then pass=$((pass+1)); echo "ok - $t"
  elif [ $rc -eq 77 ]; then skipped=$((skipped+1)); echo "skip - $t"
  else fail=$((fail+1)); echo "not ok - $t (exit $rc)"; fi
done
echo "system: $pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
