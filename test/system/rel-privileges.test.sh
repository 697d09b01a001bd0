#!/usr/bin/env bash
# Least privilege (issue 6, item 6): `joind --user nobody` opens its sockets as root, then runs as nobody
# with only CAP_NET_RAW and CAP_NET_BIND_SERVICE (effective, permitted and bounding set; no_new_privs),
# and no thread keeps more. As nobody it still grants leases (commits to the spool it was handed), pings,
# re-reads its configuration on SIGHUP, and writes its backup at a clean stop. An unknown user is a clear
# start error. etc/joind.service passes `systemd-analyze verify` where systemd-analyze exists.
# Needs root (namespaces); exits 77 (skip) without.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need udhcpc
. "$(dirname "$0")/lib/joind.sh"

ADDON=${JOIND_NATIVE_ADDON:-$ROOT/build/Release/joind_net.node}
node -e 'process.exit(typeof require(process.argv[1]).userGroups === "function" ? 0 : 1)' "$ADDON" 2>/dev/null \
  || { echo "skip: the native addon $ADDON predates --user: rebuild it (npx node-gyp rebuild)"; exit 77; }
export JOIND_NATIVE_ADDON=$ADDON
P=ro$$
joind_test_begin "$P"
chmod 755 "$WORK"
if command -v systemd-analyze >/dev/null; then
  # verify checks that ExecStart's program exists, so point a copy at this checkout.
  sed "s|^ExecStart=[^ ]*joind |ExecStart=$DIST/src/cli/main.js |" "$ROOT/etc/joind.service" >"$WORK/joind.service"
  out=$(systemd-analyze verify "$WORK/joind.service" 2>&1) || fail "systemd-analyze verify: $out"
  [ -z "$out" ] || fail "systemd-analyze verify complains: $out"
  echo "ok: systemd-analyze verify etc/joind.service"
  echo "  exposure: $(systemd-analyze security --offline=true "$WORK/joind.service" 2>/dev/null | tail -1)"
fi

out=$(timeout 20 node "$DIST/src/cli/main.js" -f --user no-such-user-here --config-dir "$ROOT/etc" --spool-dir "$WORK/spool0" 2>&1); rc=$?
[ "$rc" = 2 ] && grep -q "joind: --user no-such-user-here: no such user" <<<"$out" || fail "unknown user: rc $rc: $out"
echo "ok: an unknown --user is a clear start error"

joind_bed_up
conf_sample
# Link B gets its address only after the drop: serving it then needs a new packet socket (CAP_NET_RAW)
# and a UDP socket on port 67 (CAP_NET_BIND_SERVICE), opened as nobody at SIGHUP.
ip netns exec "$SRV" ip addr del "$BED_SRV_B/24" dev b-srv || fail "cannot remove link B's address"
bed_spawn "$P" "$SRV" joind "$WORK/joind.log" -- node "$DIST/src/cli/main.js" -f -l 2 --user nobody \
  --config-dir "$WORK/conf" --spool-dir "$WORK/spool"
JOIND=$BED_PID
bed_wait_for 15 grep -q '"JOIND_STARTED"' "$WORK/joind.log" || fail "joind did not start"
grep -q '"PRIVILEGES_DROPPED".*"user":"nobody"' "$WORK/joind.log" || fail "no PRIVILEGES_DROPPED"
PID=$(cat "$WORK/spool/joind.pid")
NOBODY=$(id -u nobody)
status=/proc/$PID/status
awk '/^Uid:/ {print $2, $3, $4, $5}' "$status" | grep -qx "$NOBODY $NOBODY $NOBODY $NOBODY" || fail "uids: $(grep ^Uid: "$status")"
[ "$(awk '/^Groups:/ {$1 = ""; print}' "$status" | xargs -n1 | sort -n | xargs)" = "$(id -G nobody | xargs -n1 | sort -n | xargs)" ] ||
  fail "supplementary groups are not nobody's own: $(grep ^Groups: "$status")"
KEEP=0000000000002400 # bits 10 (net_bind_service) and 13 (net_raw)
for field in CapEff CapPrm CapBnd; do
  [ "$(awk -v f="$field:" '$1 == f {print $2}' "$status")" = "$KEEP" ] || fail "$field: $(grep "^$field" "$status")"
done
[ "$(awk '/^NoNewPrivs:/ {print $2}' "$status")" = 1 ] || fail "no_new_privs is not set"
echo "ok: main thread: uid $NOBODY, CapEff=CapPrm=CapBnd=$KEEP ($(capsh --decode=$KEEP 2>/dev/null | cut -d= -f2)), NoNewPrivs 1"
threads=0
for task in /proc/"$PID"/task/*/status; do
  threads=$((threads + 1))
  uid=$(awk '/^Uid:/ {print $2 $3 $4 $5}' "$task")
  [ "$uid" = "$NOBODY$NOBODY$NOBODY$NOBODY" ] || fail "a thread kept uid: $task: $uid"
  for field in CapEff CapPrm; do
    value=$(awk -v f="$field:" '$1 == f {print $2}' "$task")
    [ "$value" = 0000000000000000 ] || [ "$value" = "$KEEP" ] || fail "a thread has $field $value ($task)"
  done
done
echo "ok: all $threads threads run as $NOBODY with no capability beyond those two"

run_udhcpc "$(bed_ns "$P" cla)" a-cli "$WORK/a" || fail "no lease from joind as nobody: $(tail -3 "$WORK/a/log")"
echo "ok: as nobody joind granted $(bed_result "$WORK/a" ip) (ping check and commit)"
[ "$(stat -c %u "$WORK/spool/joind.db")" = "$NOBODY" ] || fail "joind.db not handed to nobody"
ip netns exec "$SRV" ip addr add "$BED_SRV_B/24" dev b-srv || fail "cannot give link B its address"
kill -HUP "$PID"
bed_wait_for 10 grep -q '"CONFIG_RELOADED"' "$WORK/joind.log" || fail "SIGHUP as nobody did not reload"
if grep '"SOCKET_ERROR".*"interface"' "$WORK/joind.log"; then fail "a socket for the new interface failed"; fi
run_udhcpc "$(bed_ns "$P" clb)" b-cli "$WORK/b" || fail "link B, added after the drop, is not served: $(tail -3 "$WORK/b/log")"
echo "ok: SIGHUP as nobody re-read the configuration and served link B, given its address after the drop ($(bed_result "$WORK/b" ip))"
bed_stop "$P" "$JOIND" || fail "joind did not stop"
grep -q '"JOIND_STOPPED"' "$WORK/joind.log" || fail "no orderly stop"
[ "$(grep -c '"STORE_BACKUP"' "$WORK/joind.log")" -ge 2 ] || fail "no backup at the clean stop as nobody"
[ "$(stat -c %u "$WORK/spool/joind.db.bak")" = "$NOBODY" ] || fail "backup not written by nobody"
[ ! -e "$WORK/spool/joind.pid" ] || fail "pid file left behind"
echo "ok: clean stop as nobody: backup written, pid file removed"
echo "PASS"
