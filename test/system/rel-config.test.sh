#!/usr/bin/env bash
# Configuration faults (issue 6, item 5). A running joind that is sent SIGHUP, or that notices by
# auto_reread that dhcpcap changed, with a broken configuration keeps the configuration in force and
# logs file:line of every problem; once the files are fixed the new configuration takes over (so the
# test would see a reload that silently took a broken file, or one that never happens). At start, a
# missing, unreadable or non-directory configuration directory, and a spool that cannot be a
# directory, are a clear one-line reason and exit status 1, never a half-started server.
# Needs root (namespaces); exits 77 (skip) without.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need udhcpc setpriv
. "$(dirname "$0")/lib/joind.sh"

P=rl$$
joind_test_begin "$P"
JOIND_MAIN=$DIST/src/cli/main.js

# expect_start_failure WHAT PATTERN -- ARGS… : joind exits 1, and its stderr names the reason.
expect_start_failure() {
  local what=$1 pattern=$2 out rc
  shift 3
  out=$(timeout 20 "$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" = 1 ] || fail "$what: exit status $rc, expected 1 (output: $out)"
  grep -q -- "$pattern" <<<"$out" || fail "$what: no clear reason on stderr (wanted /$pattern/): $out"
  echo "ok: $what → exit 1, \"$(grep -- "$pattern" <<<"$out" | tail -1 | cut -c1-110)\""
}

# --- start-up faults (no namespace needed; nothing listens) ---
expect_start_failure "missing configuration directory" "cannot open the configuration directory: ENOENT" -- \
  node "$JOIND_MAIN" -f --config-dir "$WORK/nowhere" --spool-dir "$WORK/spool0"
: >"$WORK/plainfile"
expect_start_failure "configuration directory is a file" "is not a directory" -- \
  node "$JOIND_MAIN" -f --config-dir "$WORK/plainfile" --spool-dir "$WORK/spool0"
# root reads everything: an unreadable directory is shown as the unprivileged user joind may run as.
cp -r "$ROOT/etc" "$WORK/closed"; chmod 000 "$WORK/closed"; chmod 755 "$WORK"
if setpriv --reuid nobody --regid nogroup --clear-groups test -r "$JOIND_MAIN"; then
  expect_start_failure "unreadable configuration directory" "cannot read the configuration directory: EACCES" -- \
    setpriv --reuid nobody --regid nogroup --clear-groups node "$JOIND_MAIN" -f --config-dir "$WORK/closed" --spool-dir "$WORK/spool0"
  cp -r "$ROOT/etc" "$WORK/closedfile"; chmod 000 "$WORK/closedfile/dhcpcap"
  expect_start_failure "unreadable dhcpcap" "dhcpcap: error: cannot read" -- \
    setpriv --reuid nobody --regid nogroup --clear-groups node "$JOIND_MAIN" -f --config-dir "$WORK/closedfile" --spool-dir "$WORK/spool0"
else
  echo "note: $JOIND_MAIN is not readable by nobody; unreadable-directory checks skipped"
fi
expect_start_failure "spool path is a file" "cannot create spool directory" -- \
  node "$JOIND_MAIN" -f --config-dir "$ROOT/etc" --spool-dir "$WORK/plainfile"
[ ! -e "$WORK/spool0" ] || fail "a failed start left a spool directory behind"

# --- faults while running ---
bed_up "$P" || fail "bed_up"
SRV=$(bed_ns "$P" srv); CLA=$(bed_ns "$P" cla)
CONF=$WORK/conf
cp -r "$ROOT/etc" "$CONF"
mkdir -p "$WORK/spool"
joind_start "$SRV" "$CONF" "$WORK/spool"
PID=$(cat "$WORK/spool/joind.pid")

n=0
# lease_is SECONDS WHY — a fresh udhcpc on link A gets an address with this lease time.
lease_is() {
  n=$((n + 1))
  run_udhcpc "$CLA" a-cli "$WORK/c$n" || fail "no lease ($2): $(tail -3 "$WORK/c$n/log")"
  local got; got=$(bed_result "$WORK/c$n" lease)
  [ "$got" = "$1" ] || fail "$2: lease time $got, expected $1"
  echo "ok: $2: lease $got s"
}
# rejected_with WHY FILE:LINE… — a CONFIG_RELOAD_REJECTED line (new since the mark) names every place.
mark=0
log_since_mark() { tail -c +"$((mark + 1))" "$WORK/joind.log"; }
set_mark() { mark=$(stat -c %s "$WORK/joind.log"); }
rejected_with() {
  local why=$1 line place; shift
  bed_wait_for 10 sh -c "tail -c +$((mark + 1)) '$WORK/joind.log' | grep -q '\"CONFIG_RELOAD_REJECTED\".*\"why\":\"$why\"'" \
    || fail "no CONFIG_RELOAD_REJECTED for $why"
  line=$(log_since_mark | grep '"CONFIG_RELOAD_REJECTED"' | tail -1)
  for place in "$@"; do
    grep -q "$CONF/$place:" <<<"$line" || fail "$why: rejection does not name $place: $line"
  done
  if log_since_mark | grep -q '"CONFIG_RELOADED"'; then fail "$why: a broken configuration was put in force"; fi
  echo "ok: $why with a broken file rejected, naming $*"
}
reloaded() {
  bed_wait_for 10 sh -c "tail -c +$((mark + 1)) '$WORK/joind.log' | grep -q '\"CONFIG_RELOADED\".*\"why\":\"$1\"'" \
    || fail "fixed configuration not reloaded by $1: $(log_since_mark | grep CONFIG_ | tail -2)"
}

lease_is 600 "sample configuration"

# A new lease time for link A, plus an error in server.pcy and one in dhcpcap. dhcpcap is replaced in
# one rename, so auto_reread never sees a half-edited file.
set_mark
printf 'default_ttl   banana\n' >>"$CONF/server.pcy"; pcy_line=$(wc -l <"$CONF/server.pcy")
sed 's/:lt=600:t1=300:t2=525:hn:tc=.site:/:lt=900:t1=300:t2=525:hn:tc=.site:/' "$CONF/dhcpcap" >"$WORK/cap.new"
grep -q 'lt=900' "$WORK/cap.new" || fail "could not edit dhcpcap"
printf 'bad-host:ht=ethernet:ha=0277zz:ip=10.77.1.300:\n' >>"$WORK/cap.new"; cap_line=$(wc -l <"$WORK/cap.new")
mv "$WORK/cap.new" "$CONF/dhcpcap"
rejected_with auto_reread "server.pcy:$pcy_line" "dhcpcap:$cap_line"
set_mark
kill -HUP "$PID"
rejected_with SIGHUP "server.pcy:$pcy_line" "dhcpcap:$cap_line"
lease_is 600 "after the rejected SIGHUP"
bed_proc_alive "$PID" || fail "joind died on a broken reload"

# Fix server.pcy only: still rejected (dhcpcap), naming dhcpcap alone.
sed -i '$d' "$CONF/server.pcy"
set_mark
kill -HUP "$PID"
rejected_with SIGHUP "dhcpcap:$cap_line"
if log_since_mark | grep '"CONFIG_RELOAD_REJECTED"' | grep -q 'server.pcy:'; then fail "a fixed file is still reported"; fi
# Fix dhcpcap: auto_reread takes it, lease time 900 now.
set_mark
sed -i '$d' "$CONF/dhcpcap"
reloaded auto_reread
lease_is 900 "after the fixed dhcpcap was re-read"

# auto_reread alone: break dhcpcap again with lt 1200; the running one (900) stays.
set_mark
sed 's/:lt=900:/:lt=1200:/' "$CONF/dhcpcap" >"$WORK/cap.new"
printf 'another-bad:\\\n\t:ip=10.77.1.7:sm=255.255.0.255x:\n' >>"$WORK/cap.new"; cap_line=$(wc -l <"$WORK/cap.new")
mv "$WORK/cap.new" "$CONF/dhcpcap"
rejected_with auto_reread "dhcpcap:$cap_line"
lease_is 900 "after the rejected auto_reread"
# The same broken file is reported once, not every second.
sleep 3
count=$(log_since_mark | grep -c '"CONFIG_RELOAD_REJECTED"')
[ "$count" = 1 ] || fail "the broken dhcpcap was reported $count times in 3 s, expected once"
echo "ok: a broken file is reported once"
set_mark
head -n -2 "$CONF/dhcpcap" >"$CONF/dhcpcap.new" && mv "$CONF/dhcpcap.new" "$CONF/dhcpcap"
reloaded auto_reread
lease_is 1200 "after the second fix"

# A configuration directory that vanishes: SIGHUP keeps the running configuration.
mv "$CONF" "$CONF.away"
set_mark
kill -HUP "$PID"
bed_wait_for 10 sh -c "tail -c +$((mark + 1)) '$WORK/joind.log' | grep -q 'CONFIG_RELOAD_REJECTED.*cannot open the configuration directory'" \
  || fail "a missing directory on SIGHUP was not reported"
echo "ok: SIGHUP with the directory gone is rejected"
lease_is 1200 "with the configuration directory gone"
mv "$CONF.away" "$CONF"
bed_proc_alive "$PID" || fail "joind is gone"
echo "PASS"
