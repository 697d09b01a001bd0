#!/usr/bin/env bash
# Least privilege: joind started as root with --user opens its sockets, store and pid file, then runs as
# a throwaway system user keeping exactly CAP_NET_RAW and CAP_NET_BIND_SERVICE (raw transport, port 67).
# Checks, on the live process: all four uids and gids are the user's; CapEff = CapPrm = CapBnd = the kept
# pair, no ambient, no_new_privs; no other thread is root or holds more. Then, as the user: a real
# client gets a lease with the ping check on (an address in use answers the ping and is skipped);
# SIGHUP after an address appears on a second link opens a packet socket and binds UDP 67 there (the two
# kept capabilities at work) and a client on that link is served; the leases are in a store file owned
# by the user; TERM removes the pid file; metrics and the control socket answer after the drop. A second
# start on the user's spool with the udp transport keeps no capability at all and serves a relayed
# client. Before all that: a spool the user cannot write and that holds a file not joind's is refused
# with a clear message, and nothing is created in it. joind is started within etc/joind.service's CapabilityBoundingSet= and no_new_privs,
# with every mount read-only but the work folder, under strace: every system call it made must pass the
# unit's SystemCallFilter=, every socket family RestrictAddressFamilies=, every device PrivateDevices=;
# and the unit is checked with systemd-analyze (verify; exposure at most 3.0).
# Needs root (namespaces, useradd); exits 77 (skip) without.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need udhcpc dhcrelay curl setpriv strace ss unshare mount useradd userdel
. "$(dirname "$0")/lib/joind.sh"

P=pv$$
RUN_USER=joind-pvtest
KEPT=0000000000002400 # bits 10 (CAP_NET_BIND_SERVICE) and 13 (CAP_NET_RAW)

joind_test_begin "$P"
# A user of our own, so that its uid and gid are known to be nobody else's; removed again on exit.
trap 'bed_down "$JT_PREFIX" >/dev/null 2>&1; rm -rf "$WORK"; userdel "$RUN_USER" >/dev/null 2>&1' EXIT
userdel "$RUN_USER" >/dev/null 2>&1 # a leftover of a run that was SIGKILLed
useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$RUN_USER" ||
  fail "useradd $RUN_USER"
RUN_UID=$(id -u "$RUN_USER")
RUN_GID=$(id -g "$RUN_USER")
chmod 755 "$WORK" # mktemp made it 0700: the user must reach the spool inside

# The sample configuration with the ping check on and the raw transport required.
cp -r "$ROOT/etc" "$WORK/etc"
sed -i '/^ping_timeout/d; /^transport/d' "$WORK/etc/server.pcy"
printf 'ping_timeout 300\ntransport raw\n' >> "$WORK/etc/server.pcy"

bed_up "$P" || fail "bed_up"
SRV=$(bed_ns "$P" srv)
# Link B has no address at start, so only SIGHUP can bring it in (after the drop).
ip -n "$SRV" addr flush dev b-srv

# 1. A spool the user cannot write, holding a file that is not joind's (so it is not handed over):
# refused before anything is opened.
mkdir -m 755 "$WORK/rootspool"
touch "$WORK/rootspool/notes.txt"
bed_run "$P" "$SRV" refused "$WORK/refused.log" 20 -- node "$DIST/src/cli/main.js" -f -l 2 \
  --config-dir "$WORK/etc" --spool-dir "$WORK/rootspool" --user "$RUN_USER"
rc=$?
[ "$rc" = 1 ] || fail "root-owned spool: exit $rc, expected 1: $(tail -3 "$WORK/refused.log")"
grep -q "not writable by $RUN_USER" "$WORK/refused.log" || fail "no clear refusal: $(tail -3 "$WORK/refused.log")"
[ "$(ls -A "$WORK/rootspool")" = notes.txt ] || fail "the refused start created files: $(ls -A "$WORK/rootspool")"
[ "$(stat -c %U "$WORK/rootspool")" = root ] || fail "the refused spool was chowned"
echo "ok: a spool $RUN_USER cannot write is refused: $(grep -o 'spool directory[^"]*' "$WORK/refused.log" | head -1)"

# 2. Start as root with --user, within what etc/joind.service allows: its CapabilityBoundingSet= and
# NoNewPrivileges= (setpriv does what systemd would), and, like ProtectSystem=strict with one
# ReadWritePaths=, every mount read-only but the work folder (a private mount namespace). A capability
# the start-up needs and the unit lacks, or a write outside the spool, fails here. The spool does not
# exist yet: joind creates it for the user.
UNIT_CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$ROOT/etc/joind.service")
[ -n "$UNIT_CAPS" ] || fail "no CapabilityBoundingSet= in etc/joind.service"
BOUNDING=-all$(for c in $UNIT_CAPS; do c=${c#CAP_}; printf ',+%s' "${c,,}"; done)
# shellcheck disable=SC2016 # expanded by the inner shell
READ_ONLY_BUT_1='for m in $(awk "{print \$2}" /proc/self/mounts | sort -u); do mount -o remount,bind,ro "$m" 2>/dev/null; done
  mount --bind "$1" "$1" && mount -o remount,bind,rw "$1" && shift && exec "$@"'
SPOOL=$WORK/spool
bed_spawn "$P" "$SRV" joind "$WORK/joind.log" -- unshare --mount --propagation private -- sh -c "$READ_ONLY_BUT_1" sandbox "$WORK" \
  setpriv --bounding-set "$BOUNDING" --inh-caps -all --no-new-privs \
  strace -f -qq -o "$WORK/syscalls.trace" -- \
  node "$DIST/src/cli/main.js" -f -l 2 --config-dir "$WORK/etc" --spool-dir "$SPOOL" --user "$RUN_USER"
JOIND=$BED_PID
bed_wait_for 20 grep -q '"JOIND_STARTED"' "$WORK/joind.log" || fail "joind did not start"
PID=$(cat "$SPOOL/joind.pid") # under strace, the command bed_spawn saw is strace
grep -q '"TRANSPORT_READY".*"raw"' "$WORK/joind.log" || fail "joind is not on the raw transport"
grep -q '"PRIVILEGES_DROPPED"' "$WORK/joind.log" || fail "no PRIVILEGES_DROPPED"
[ "$(stat -c %U "$SPOOL")" = "$RUN_USER" ] || fail "spool created for $(stat -c %U "$SPOOL")"
root_mount=$(awk '$5 == "/" { print $6 }' "/proc/$PID/mountinfo")
case $root_mount in ro,* | ro) ;; *) fail "the read-only sandbox did not take: / is '$root_mount' for joind" ;; esac

# status_field KEY FILE — the values of a /proc/PID/status line, separated by single spaces.
status_field() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$2"; }
S=/proc/$PID/status
[ "$(status_field Uid "$S")" = "$RUN_UID $RUN_UID $RUN_UID $RUN_UID" ] ||
  fail "Uid: $(status_field Uid "$S"), expected $RUN_UID four times"
[ "$(status_field Gid "$S")" = "$RUN_GID $RUN_GID $RUN_GID $RUN_GID" ] ||
  fail "Gid: $(status_field Gid "$S"), expected $RUN_GID four times"
[ "$(status_field Groups "$S" | tr -d ' ')" = "$RUN_GID" ] || fail "Groups: '$(status_field Groups "$S")', expected $RUN_GID"
for set in CapEff CapPrm CapBnd; do
  [ "$(status_field $set "$S")" = $KEPT ] || fail "$set: $(status_field $set "$S"), expected $KEPT"
done
[ "$(status_field CapAmb "$S")" = 0000000000000000 ] || fail "CapAmb: $(status_field CapAmb "$S")"
[ "$(status_field CapInh "$S")" = 0000000000000000 ] || fail "CapInh: $(status_field CapInh "$S")"
[ "$(status_field NoNewPrivs "$S")" = 1 ] || fail "NoNewPrivs: $(status_field NoNewPrivs "$S")"
threads=0
for T in /proc/"$PID"/task/*/status; do
  threads=$((threads + 1))
  [ "$(status_field Uid "$T" | tr ' ' '\n' | sort -u)" = "$RUN_UID" ] || fail "thread $T: Uid $(status_field Uid "$T")"
  eff=$((16#$(status_field CapEff "$T")))
  [ $((eff & ~16#$KEPT)) = 0 ] || fail "thread $T: CapEff $(status_field CapEff "$T") beyond $KEPT"
done
echo "ok: running as $RUN_USER ($RUN_UID:$RUN_GID, all four ids, $threads threads), CapEff=CapPrm=CapBnd=$KEPT, no ambient, no_new_privs"

# 3. A client on link A, with the ping check working as the user: the first address of the range
# (10.77.1.100) is already taken by a host on link A that answers pings, so joind must see the echo
# reply, log PING_CONFLICT and offer another address.
CLA=$(bed_ns "$P" cla)
SQUATTER=$(bed_add_clients "$P" cla 1) || fail "bed_add_clients"
ip -n "$CLA" addr add 10.77.1.100/24 dev "$SQUATTER"
run_udhcpc "$CLA" a-cli "$WORK/a" || fail "udhcpc on link A: $(tail -3 "$WORK/a/log")"
A_IP=$(bed_result "$WORK/a" ip)
case $A_IP in 10.77.1.1[0-9][0-9]) [ "$A_IP" != 10.77.1.100 ] || fail "offered 10.77.1.100, which answers pings" ;;
  *) fail "link A client got '$A_IP'" ;; esac
grep -q '"PING_CONFLICT".*"10.77.1.100"' "$WORK/joind.log" || fail "no PING_CONFLICT for 10.77.1.100: the ping check did not work"
! grep -q '"PING_UNAVAILABLE"' "$WORK/joind.log" || fail "PING_UNAVAILABLE logged"
echo "ok: as $RUN_USER the ping check found 10.77.1.100 in use (PING_CONFLICT); the link A client got $A_IP"

# 4. SIGHUP after the drop: an address appears on link B; joind must open a packet socket there (CAP_NET_RAW)
# and bind UDP 67 on 10.77.2.1 (CAP_NET_BIND_SERVICE), then serve link B.
ip -n "$SRV" addr add "$BED_SRV_B/24" dev b-srv
kill -HUP "$PID"
bed_wait_for 10 grep -q '"CONFIG_RELOADED"' "$WORK/joind.log" || fail "no CONFIG_RELOADED after SIGHUP"
udp_on_b() { ss -N "$SRV" -H -uln "src $BED_SRV_B:67" | grep -q .; }
bed_wait_for 10 udp_on_b || fail "no UDP socket on $BED_SRV_B:67 after SIGHUP"
run_udhcpc "$(bed_ns "$P" clb)" b-cli "$WORK/b" || fail "udhcpc on link B after SIGHUP: $(tail -3 "$WORK/b/log")"
B_IP=$(bed_result "$WORK/b" ip)
case $B_IP in 10.77.2.*) ;; *) fail "link B client got '$B_IP'" ;; esac
! grep -q '"SEND_FAILED"' "$WORK/joind.log" || fail "SEND_FAILED: $(grep '"SEND_FAILED"' "$WORK/joind.log" | head -2)"
echo "ok: after SIGHUP link B is served as $RUN_USER (packet socket and UDP $BED_SRV_B:67 opened after the drop); client got $B_IP"

# The listeners opened before the drop serve after it: metrics over TCP, the control API on its socket.
ip netns exec "$SRV" curl -fsS --max-time 5 http://127.0.0.1:9267/metrics | grep -q '^joind_' || fail "no metrics after the drop"
curl -fsS --max-time 5 --unix-socket "$SPOOL/joind.sock" http://joind/v1/version | grep -q '"version"' ||
  fail "control socket does not answer after the drop"
echo "ok: metrics and control socket (opened before the drop) answer"

# 5. The leases are on disk, in files owned by the user; TERM as the user removes the pid file.
for f in joind.db joind.db-wal joind.pid joind.sock; do
  [ "$(stat -c %U:%G "$SPOOL/$f")" = "$RUN_USER:$RUN_USER" ] || fail "$f owned by $(stat -c %U:%G "$SPOOL/$f")"
done
bed_stop "$P" "$JOIND"
grep -q '"JOIND_STOPPED"' "$WORK/joind.log" || fail "no JOIND_STOPPED"
[ ! -e "$SPOOL/joind.pid" ] || fail "pid file left behind (the user could not remove it)"
[ ! -e "$SPOOL/joind.sock" ] || fail "control socket left behind (the user could not remove it)"
dump=$(node "$DIST/src/cli/main.js" dump -c --config-dir "$WORK/etc" --spool-dir "$SPOOL")
for ip in "$A_IP" "$B_IP"; do
  echo "$dump" | grep -q "$ip" || fail "no lease for $ip in the store: $dump"
done
[ "$(stat -c %U "$SPOOL/joind.db")" = "$RUN_USER" ] || fail "joind.db owned by $(stat -c %U "$SPOOL/joind.db") after the dump"
echo "ok: started within the unit's bounding set ($UNIT_CAPS), no_new_privs, everything read-only but the work folder"
echo "ok: both leases in $SPOOL/joind.db (owned by $RUN_USER); pid file and control socket removed at stop"

# 6. A second start on the spool the user now owns, with the udp transport: its one socket and the ping
# socket are opened before the drop, so nothing at all is kept, and a client is still served.
sed -i 's/^transport raw$/transport udp/' "$WORK/etc/server.pcy"
bed_spawn "$P" "$SRV" joind "$WORK/joind-udp.log" -- node "$DIST/src/cli/main.js" -f -l 2 \
  --config-dir "$WORK/etc" --spool-dir "$SPOOL" --user "$RUN_USER"
JOIND=$BED_PID
PID=$BED_CMD_PID
bed_wait_for 10 grep -q '"JOIND_STARTED"' "$WORK/joind-udp.log" || fail "second start (udp): $(tail -3 "$WORK/joind-udp.log")"
grep -q '"TRANSPORT_READY".*"udp"' "$WORK/joind-udp.log" || fail "second start is not on the udp transport"
S=/proc/$PID/status
for set in CapEff CapPrm CapBnd; do
  [ "$(status_field $set "$S")" = 0000000000000000 ] || fail "udp transport: $set $(status_field $set "$S"), expected none"
done
[ "$(status_field Uid "$S")" = "$RUN_UID $RUN_UID $RUN_UID $RUN_UID" ] || fail "udp transport: Uid $(status_field Uid "$S")"
bed_start_relay "$P" || fail "relay did not start"
run_udhcpc "$(bed_ns "$P" clc)" c-cli "$WORK/c" || fail "udhcpc behind the relay (udp transport, no capability): $(tail -3 "$WORK/c/log")"
bed_stop "$P" "$JOIND"
echo "ok: second start on the user's spool with transport udp keeps no capability at all; relayed client got $(bed_result "$WORK/c" ip)"

# 7. The unit itself: systemd-analyze verify (with ExecStart pointing at this build) and its exposure score.
if command -v systemd-analyze >/dev/null; then
  sed "s|^ExecStart=/usr/local/bin/joind |ExecStart=$DIST/src/cli/main.js |" "$ROOT/etc/joind.service" > "$WORK/joind.service"
  grep -q "^ExecStart=$DIST/src/cli/main.js -f --user joind" "$WORK/joind.service" || fail "ExecStart of etc/joind.service not as expected"
  systemd-analyze verify "$WORK/joind.service" > "$WORK/verify.log" 2>&1 || fail "systemd-analyze verify: $(cat "$WORK/verify.log")"
  exposure=$(systemd-analyze security --offline=true "$WORK/joind.service" 2>/dev/null | sed -n 's/.*Overall exposure level for joind.service: \([0-9.]*\).*/\1/p')
  [ -n "$exposure" ] || fail "no exposure level from systemd-analyze security"
  awk -v e="$exposure" 'BEGIN { exit !(e <= 3.0) }' || fail "exposure level $exposure > 3.0: the sandbox was weakened"
  echo "ok: etc/joind.service verifies; systemd-analyze security exposure $exposure"
  # Every system call joind made above (strace, all threads) must pass the unit's SystemCallFilter=.
  expand_syscalls() { # names and @groups → syscall names, groups expanded recursively
    local s
    for s in "$@"; do
      case $s in
        @*) expand_syscalls $(systemd-analyze syscall-filter "$s" | awk 'NR > 1 && NF && $1 !~ /^#/ { print $1 }') ;;
        *) echo "$s" ;;
      esac
    done
  }
  # In order, as systemd applies them: the first line (an allow-list) sets the default, then each
  # allow line adds its calls and each ~deny line removes its own.
  : > "$WORK/allowed"
  while IFS= read -r filter; do
    case $filter in
      '~'*) expand_syscalls ${filter#\~} | sort -u > "$WORK/deny"; comm -23 "$WORK/allowed" "$WORK/deny" > "$WORK/next" ;;
      *) { cat "$WORK/allowed"; expand_syscalls $filter; } | sort -u > "$WORK/next" ;;
    esac
    mv "$WORK/next" "$WORK/allowed"
  done < <(sed -n 's/^SystemCallFilter=//p' "$ROOT/etc/joind.service")
  sed -nE 's/^[0-9]+ +([a-z_0-9]+)\(.*/\1/p' "$WORK/syscalls.trace" | sort -u > "$WORK/used"
  [ "$(wc -l < "$WORK/used")" -gt 30 ] || fail "too few system calls traced: $(wc -l < "$WORK/used")"
  refused=$(comm -23 "$WORK/used" "$WORK/allowed" | tr '\n' ' ')
  [ -z "$refused" ] || fail "system calls joind made that etc/joind.service's SystemCallFilter= refuses: $refused"
  echo "ok: all $(wc -l < "$WORK/used") system calls joind made pass the unit's filter ($(wc -l < "$WORK/allowed") allowed)"
  # The socket families it opened must be in RestrictAddressFamilies=, the devices it opened in what
  # PrivateDevices= leaves (null, zero, full, random, urandom, tty, ptmx, pts, shm).
  families=$(grep -oE 'socket\(AF_[A-Z0-9]+' "$WORK/syscalls.trace" | sed 's/socket(//' | sort -u)
  allowed_families=" $(sed -n 's/^RestrictAddressFamilies=//p' "$ROOT/etc/joind.service") "
  for f in $families; do
    case $allowed_families in *" $f "*) ;; *) fail "joind opened an $f socket, which RestrictAddressFamilies= refuses" ;; esac
  done
  devices=$(grep -oE 'open(at2?)?\([^"]*"/dev/[^"]*"' "$WORK/syscalls.trace" | grep -oE '/dev/[^"]*' | sort -u)
  for d in $devices; do
    case $d in /dev/null | /dev/zero | /dev/full | /dev/random | /dev/urandom | /dev/tty | /dev/ptmx | /dev/pts* | /dev/shm*) ;;
      *) fail "joind opened $d, which PrivateDevices= hides" ;; esac
  done
  echo "ok: socket families used: $(echo $families); devices opened: $(echo $devices) (all within the unit)"
else
  echo "note: no systemd-analyze, the unit was not verified"
fi
echo "PASS"
