#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# failover-joind-scenarios — a joind pair (primary p, secondary s) in three more failures, short form,
# in the pair bed (test/system/lib/pair.sh; the research's test plan, shared/failover-research.md 4.7,
# rows 11-13). Each scenario starts from a new pair at normal/normal with balanced pools, captures the
# client LAN, and ends with no address handed to two clients at once (lan-leases.py: ACKed leases
# that overlap, or OFFERs within the 60 s an offer holds its address). The script calls the unit that
# fails V and the joind unit that survives it (and whose clock is off in 3) J: V=p, J=s for joind+joind
# and for a dhcpd primary, V=s, J=p for a dhcpd secondary (only joind counts the evidence of
# partner-down, failover_unacked_clients). As written here for joind+joind:
#  1. p cut from the client LAN, the failover link up (row 11): both stay normal; s stays silent for
#     DISCOVERs of p's hash buckets with secs 0 (dropped as failover-peer-bucket), answers them at secs
#     5 (past load balance max seconds, 3), and answers the REBINDING of a lease p granted (a client
#     that renews or rebinds is served by whichever server hears it, as dhcpd does). p's port back: p
#     answers its buckets again.
#  2. p cut from everything, LAN and failover link (row 12): both go communications-interrupted after
#     max-response-delay (6 s) of silence; DISCOVERs with secs 15 from 10 distinct clients of p's
#     buckets put s in partner-down (FAILOVER_PEER_UNRESPONSIVE); s then serves every client, p's
#     included (new ones and the rebinding of p's leases), p serves nobody. Both back: p (comm-int,
#     peer partner-down) goes potential-conflict -> conflict-done -> normal, s partner-down ->
#     potential-conflict -> normal (src/failover/states.ts, dhcpd's dhcp_failover_peer_state_changed).
#  3. clock skew (row 13): s runs under libfaketime (Debian's libfaketime, LD_PRELOAD; node's Date.now
#     follows it), its offset read from a file. At +90 s the session ends and every CONNECT is refused
#     (FAILOVER_CONNECT_REJECTED on both, clocks differ: dhcpd's 60 s limit), both stay
#     communications-interrupted, neither goes partner-down, each answers its own clients; at +45 s the
#     pair forms again (normal) and FAILOVER_CLOCK_SKEW is logged on both.
#  4. row 13 as the research has it: s killed and started again under the offset (+90 s, then +45 s):
#     each client still answered by its own server (a restarted secondary keeps the primary's hash
#     bucket assignment in its store), normal again at +45 s.
#  5. s killed and started again with the failover link down, after a partner-down and its recovery:
#     s answers its own clients (the partner's last state, normal, was saved, not the conflict-done it
#     had when s itself last changed state).
# FO_PRIMARY=dhcpd (failover-dhcpd-joind-scenarios.test.sh) runs scenarios 1-3 with ISC dhcpd 4.4.3 as
# the primary p and joind as the secondary s. 4 and 5 kill and restart the secondary after states a
# joind primary drives here: they stay joind+joind only (with dhcpd in the pair, either side, SCEN
# defaults to "1 2 3"; naming 4 or 5 fails).
# dhcpd has no ctl: its state is read from its log (the last "I move from X to STATE" and "peer moves
# from X to PARTNER"), what it sent to clients from its DHCPOFFER/DHCPACK lines, its store from its
# lease file, and an update it sent or took as the lease showing up active in the other store. Where
# dhcpd differs, the test checks what it does:
#  - its first lease to a client is MCLT long (20 s; dhcp.c ack_lease: desired time > MCLT and no acked
#    tstp yet), too short to last until the rebinding. Once s holds it, the client asks again at T1
#    (MCLT/2 + 1 s) and gets the full 300 s; asked sooner, inside dhcp-cache-threshold (25 % of the
#    lease), dhcpd gives the unaltered lease back ("reuse_lease: lease age 3 (secs) under 25%
#    threshold"), and the lease runs out in s's store.
#  - 2: the way back is the joind one. dhcpd logs "timeout waiting for failover peer", "I move from
#    normal to communications-interrupted"; back: "peer moves from normal to partner-down", "I move from
#    communications-interrupted to potential-conflict" (dhcp_failover_peer_state_changed), "Sent update
#    request", "peer update completed.", "I move from potential-conflict to conflict-done" (UPDDONE,
#    process_update_done), "Update request from dhcp_fail: nothing pending" (s's UPDREQ), "peer moves
#    from potential-conflict to normal", "I move from conflict-done to normal".
#  - 3: dhcpd checks the time of CONNECT and CONNECTACK only (failover.c "time offset too large", :579
#    and :1417), never of a message in session, and as primary it receives no CONNECT; the reject reason
#    of a CONNECTACK is read before its time. So joind s does the refusing: at dhcpd's next message it
#    ends the session (DISCONNECT, TIMEMISMATCH; dhcpd: "Failover DISCONNECT from dhcp_fail: Connection
#    rejected, time mismatch too great.", then communications-interrupted), and refuses dhcpd's CONNECTs
#    5 s later on both links (CONNECTACK TIMEMISMATCH; dhcpd: "Failover CONNECT to dhcp_fail rejected:
#    Connection rejected, time mismatch too great."). At +45 s only joind warns (FAILOVER_CLOCK_SKEW
#    -45 s): dhcpd logs nothing for a skew under 60 s (checked: no "time offset" or "time mismatch"
#    line from its "Both servers normal" after the step on).
#  - 3: dhcpd does not load-balance in communications-interrupted (dhcp.c dhcpdiscover: only in the
#    cooperating service state, normal's), so with the clocks 90 s apart it answers every client from its
#    own free addresses, s's too, while joind s answers exactly its own buckets: every client answered,
#    p's by p alone, s's by s (and dhcpd). Back in normal its pool balance gives s the addresses it
#    offered s's clients (pass 1 of dhcp_failover_pool_dobalance: free leases whose last client hashes
#    to the peer; "balanced pool … free 45 backup 55"), so the duplicate check holds an OFFER against its
#    own server only (lan-leases.py --offers-per-server); ACKs hold against both.
# FO_SECONDARY=dhcpd (failover-joind-dhcpd-scenarios.test.sh) runs scenarios 1-3 with joind as the
# primary p and ISC dhcpd 4.4.3 as the secondary s, the unit that fails: s cut from the LAN (1), s
# isolated and back (2; the evidence is 12 DISCOVERs from clients 8640.. of discover-burst.py, 11 in
# s's buckets); in 3 the joind p runs under libfaketime. dhcpd is read as above, and as secondary:
#  - its first lease is MCLT long too (ack_lease does not look at the role): once p holds it, the
#    client asks s again at T1 and gets the full 300 s (full_lease).
#  - 2: the way back is the secondary's: dhcpd logs "timeout waiting for failover peer", "I move from
#    normal to communications-interrupted" ("network unreachable" while its connects fail); back: "peer
#    moves from normal to partner-down", "I move from communications-interrupted to potential-conflict",
#    "Update request from dhcp_fail: nothing pending" (p's UPDREQ: it granted nothing alone), "peer
#    moves from potential-conflict to conflict-done", "Sent update request message", "peer update
#    completed.", "I move from potential-conflict to normal" (process_update_done: the secondary, its
#    partner conflict-done); joind p partner-down -> potential-conflict -> conflict-done -> normal.
#    Then dhcpd balances its pool as a primary would (dhcp_failover_pool_dobalance runs on both sides:
#    a secondary gives (backup - free) / 2 of its backup addresses to the primary, those whose last
#    client hashes to the primary first; "balancing pool … free 39 backup 47 lts 4").
#  - 3: as secondary dhcpd does check the time of a CONNECT (failover.c :579). p, 90 s ahead, ends the
#    session at dhcpd's next message (DISCONNECT, TIMEMISMATCH; dhcpd: "Failover DISCONNECT from
#    dhcp_fail: Connection rejected, time mismatch too great.", then communications-interrupted), and
#    dhcpd refuses p's CONNECTs on both links from then on ("Failover CONNECT from dhcp_fail: time
#    offset too large", "failover: disconnect: time offset too large"; CONNECTACK TIMEMISMATCH, which
#    joind logs as FAILOVER_CONNECT_REJECTED "the peer refused: time-mismatch: time offset too
#    large"). Communications-interrupted, dhcpd answers every client again, p's too from its backup
#    addresses, while joind p answers exactly its own buckets. At +45 s dhcpd takes the CONNECT and logs
#    nothing of the time (checked as for the primary); joind warns, FAILOVER_CLOCK_SKEW -45 s (the
#    time of dhcpd's CONNECTACK). Back in normal its pool balance gives p the backup addresses it
#    offered p's clients ("balanced pool … free 57 backup 43 lts -7"), so the duplicate check holds an
#    OFFER against its own server only here too.
# SCEN="1 2 3 4 5" (the default; "1 2 3" with dhcpd in the pair) picks scenarios. The measured numbers
# are printed on one line starting "failover-joind-scenarios:" (FO_TEST names it otherwise), naming the
# pair. KEEP_WORK=1 keeps the work folder. Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
P_KIND=${FO_PRIMARY:-joind} S_KIND=${FO_SECONDARY:-joind}
FO_TEST=${FO_TEST:-failover-joind-scenarios}
# V: the unit that fails (cut from the LAN, isolated), J: the joind unit that survives it (and whose
# clock is off in scenario 3); V_KIND: what V is.
case "$P_KIND+$S_KIND" in
  joind+joind|dhcpd+joind) V=p J=s V_KIND=$P_KIND ;;
  joind+dhcpd) V=s J=p V_KIND=dhcpd ;;
  *) echo "FAIL: FO_PRIMARY+FO_SECONDARY: joind+joind, dhcpd+joind or joind+dhcpd, not '$P_KIND+$S_KIND'"; exit 1 ;;
esac
# shellcheck source=lib/need.sh
. "$here/lib/need.sh"
bed_need ip sysctl timeout tcpdump node /usr/bin/python3 py:scapy
[ "$V_KIND" = joind ] || bed_need dhcpd
[ "$(id -u)" = 0 ] || { echo "skip: $FO_TEST needs root (network namespaces)"; exit 77; }
# A short MCLT, as in failover-joind-failures.
PAIR_MCLT=${PAIR_MCLT:-20}
# shellcheck source=lib/pair.sh
. "$here/lib/pair.sh"
[ -f "$PAIR_JOIND_DIST/src/cli/main.js" ] || { echo "skip: $FO_TEST: joind is not built"; exit 77; }
if [ "$V_KIND" = dhcpd ]; then : "${SCEN:=1 2 3}"; else : "${SCEN:=1 2 3 4 5}"; fi
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
if [ "$V" = p ]; then V_LAN=$PAIR_P_LAN J_LAN=$PAIR_S_LAN; else V_LAN=$PAIR_S_LAN J_LAN=$PAIR_P_LAN; fi
# The first of 12 clients of discover-burst.py of which 11 are in V's hash buckets (scenario 2's evidence).
if [ "$V" = p ]; then EV_FIRST=8610; else EV_FIRST=8640; fi

pair_test_begin "$FO_TEST" fs$$
pair_up "$P" || fail "pair_up"
SW=$(bed_ns "$P" sw) CNS=$(bed_ns "$P" c)
summary=()

# ---- helpers -----------------------------------------------------------------------------------------
# D: the running scenario's folder ($WORK/N), holding p/, s/, lan.pcap and the clients' output.

# kind_of R — what R (p or s) is: joind or dhcpd; is_dhcpd R — R is dhcpd.
kind_of() { if [ "$1" = p ]; then echo "$P_KIND"; else echo "$S_KIND"; fi; }
is_dhcpd() { [ "$(kind_of "$1")" = dhcpd ]; }

# state R — R's own state and its partner's: "STATE PARTNER". joind's from `joind ctl failover`;
# dhcpd's from its log: the last "I move from X to STATE" and "peer moves from X to PARTNER".
state() {
  if is_dhcpd "$1"; then
    awk '/failover peer [^:]+: I move from / { me = $NF } /failover peer [^:]+: peer moves from / { peer = $NF }
         END { print (me == "" ? "-" : me), (peer == "" ? "-" : peer) }' "$D/$1/dhcpd.log"
  else
    pair_joind_failover "$D/$1/spool" state partnerState 2>/dev/null
  fi
}
# is_state R STATE — R's own state is STATE now.
is_state() { [[ "$(state "$1")" == "$2 "* ]]; }
# wait_state R STATE SECONDS — until R's own state is STATE (bounded).
wait_state() {
  if is_dhcpd "$1"; then bed_wait_for "$3" is_state "$1" "$2"
  else pair_joind_wait_own "$D/$1/spool" "$2" "$3"; fi
}
# wait_normal R SECONDS — until R and its partner are normal as R sees it (bounded); LAST: the last
# answer, for the failure message.
wait_normal() {
  local rc
  if is_dhcpd "$1"; then
    bed_wait_for "$2" is_normal "$1"; rc=$?
    LAST="dhcpd $1: $(state "$1") (states: $(pair_states "$D/$1/dhcpd.log"))"
  else
    pair_joind_wait_normal "$D/$1/spool" "$2"; rc=$?
    LAST=$PAIR_JOIND_LAST
  fi
  return $rc
}
# is_normal R — R says normal, its peer normal.
is_normal() { [ "$(state "$1")" = "normal normal" ]; }
# log_of R — R's log file.
log_of() { pair_server_log "$(kind_of "$1")" "$D/$1"; }
# went R STATE — R's log says it moved to STATE (at any time).
went() {
  if is_dhcpd "$1"; then grep -Eq "failover peer [^:]+: I move from [^ ]+ to $2\$" "$D/$1/dhcpd.log"
  else pair_joind_in_state "$(log_of "$1")" "$2"; fi
}
# states R — R's own states in order (pair_states, pair_joind_states).
states() { pair_server_states "$(kind_of "$1")" "$D/$1"; }
# way_back R — how R's conflict resolution ends after potential-conflict (the draft, dhcpd's
# process_update_done, src/failover/states.ts): the primary's UPDDONE takes it to conflict-done, then
# the secondary's STATE normal to normal; the secondary goes straight to normal at its UPDDONE.
way_back() { if [ "$1" = p ]; then echo "conflict-done normal"; else echo normal; fi; }
# replies R — what R sent to clients: joind's counters sent DHCP_OFFER and DHCP_ACK, dhcpd's count of
# DHCPOFFER and DHCPACK log lines.
replies() {
  if is_dhcpd "$1"; then echo "$(grep -c '^DHCPOFFER on' "$D/$1/dhcpd.log") $(grep -c '^DHCPACK on' "$D/$1/dhcpd.log")"
  else counter "$1" sent DHCP_OFFER sent DHCP_ACK; fi
}
# has_lease R IP MAC — R's store has IP active for MAC (dhcpd.leases, or joind's export).
has_lease() {
  pair_server_leases "$(kind_of "$1")" "$D/$1" 2>/dev/null | grep -q "^$2 active $3 "
}
# replicated R IP MAC — wait (≤ 10 s) until R's store has IP active for MAC: R's peer granted it and R
# took the update (what a dhcpd unit acknowledged shows up nowhere else).
replicated() { bed_wait_for 10 has_lease "$@"; }
# full_lease MAC=IP@T… — a dhcpd unit's first lease is MCLT long: once joind J holds it (V's tstp
# acked), each client asks dhcpd V again (a DORA) at T + MCLT/2 + 1, T its first ACK or just after (its
# renewal time T1; sooner, inside dhcpd's dhcp-cache-threshold, 25 % of the lease, dhcpd gives the
# unaltered MCLT lease back: dhcp.c reuse_lease), and must get its address for the full lease time
# (PAIR_LEASE). The client's index is the last two bytes of its MAC (dhcp-clients.py: 02:7e:00:00:HI:LO).
full_lease() {
  local e ml t idx
  for e in "$@"; do ml=${e%@*}; replicated "$J" "${ml#*=}" "${ml%%=*}" || fail "$V's lease $ml not in $J's store"; done
  for e in "$@"; do
    ml=${e%@*} t=${e##*@}
    sleep "$(awk -v t="$t" -v n="$(pair_now)" -v m="$PAIR_MCLT" 'BEGIN { w = t + m / 2 + 1 - n; printf "%.1f", (w > 0 ? w : 0) }')"
    idx=$(( 16#$(echo "${ml%%=*}" | cut -d: -f5,6 | tr -d :) ))
    clients "full-$idx" --dora --first "$idx" --wait 1
    [ "$(field "${CL[0]}" reply)" = ACK ] && [ "$(field "${CL[0]}" reply_from)" = "$V_LAN" ] \
      && [ "$(field "${CL[0]}" yiaddr)" = "${ml#*=}" ] && [ "$(field "${CL[0]}" lease)" = "$PAIR_LEASE" ] \
      || fail "$V's client asking again at T1 should get ${ml#*=} from $V for $PAIR_LEASE s: ${CL[0]}"
  done
}

# counter R NAME… — joind R's counters (`joind ctl status`: counters.NAME, e.g. dropped
# failover-peer-bucket, sent DHCP_OFFER), one value per pair of words (0 when absent).
counter() {
  local r=$1 out
  shift
  out=$(pair_joind_cli ctl status --spool-dir "$D/$r/spool" 2>/dev/null) || { echo "?"; return 1; }
  /usr/bin/python3 -c '
import json, sys
c = json.loads(sys.argv[1]).get("counters", {})
a = sys.argv[2:]
print(" ".join(str(c.get(a[i], {}).get(a[i + 1], 0)) for i in range(0, len(a), 2)))' "$out" "$@"
}

# burst NAME ARGS… — pair_burst into D; B: its key=value summary.
burst() { pair_burst "$P" "$D" "$@" || fail "discover-burst ($1): $(tail -n 5 "$D/burst-$1.log")"; }

# clients NAME ARGS… — dhcp-clients.py (beside pair.sh) from the client veth; its output in
# D/clients-NAME.txt, per-client lines in CL (array), the summary in C (associative array).
clients() {
  local name=$1 kv
  shift
  bed_run "$P" "$CNS" "dhcp-clients-$name" "$D/clients-$name.txt" 60 -- /usr/bin/python3 \
    "$here/lib/dhcp-clients.py" --iface cli "$@" || fail "dhcp-clients ($name): $(tail -n 5 "$D/clients-$name.txt")"
  mapfile -t CL < <(grep '^mac=' "$D/clients-$name.txt")
  declare -gA C=()
  for kv in $(tail -n 1 "$D/clients-$name.txt"); do C[${kv%%=*}]=${kv#*=}; done
  [ -n "${C[clients]:-}" ] || fail "dhcp-clients ($name) printed no summary: $(tail -n 5 "$D/clients-$name.txt")"
}
# field LINE KEY — KEY's value in one of dhcp-clients.py's client lines.
field() { local kv; for kv in $1; do [ "${kv%%=*}" = "$2" ] && { echo "${kv#*=}"; return 0; }; done; echo -; }
# pick WANT N FROM — N client indexes (FROM on) of dhcp-clients.py whose hash bucket is WANT's (p or s).
pick() { /usr/bin/python3 "$here/lib/dhcp-clients.py" --predict-first "$3" --count "$2" --want "$1" --split "$PAIR_SPLIT"; }

# stop_pair — stop both servers and the LAN capture of the last scenario, if running.
stop_pair() {
  [ -n "${LAN_CAPTURE:-}" ] && capture_stop "$P" "$LAN_CAPTURE"
  [ -n "${S_PID:-}" ] && bed_stop "$P" "$S_PID"
  [ -n "${P_PID:-}" ] && bed_stop "$P" "$P_PID"
  LAN_CAPTURE='' S_PID='' P_PID=''
}

# fresh_pair N [clock] — scenario N's folder D, the bed whole again (both LAN ports and the failover
# link up), the LAN captured to D/lan.pcap, p and s (each joind or dhcpd) started on empty stores,
# normal/normal with balanced pools. With "clock", the joind J runs under libfaketime, its clock offset
# read from D/clock (+0 at first).
fresh_pair() {
  local i r port
  local -A clock_env=([p]="" [s]="")
  stop_pair
  D=$WORK/$1
  mkdir -p "$D" || fail "mkdir $D"
  if [ "${2:-}" = clock ]; then
    clock_env[$J]="LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$D/clock FAKETIME_CACHE_DURATION=1 FAKETIME_DONT_FAKE_MONOTONIC=1"
    echo +0 > "$D/clock" || fail "$D/clock"
  fi
  FAIL_CONTEXT="scenario $1" FAIL_LOGS=("$P_KIND p:$1/p/$(basename "$(log_of p)")" "$S_KIND s:$1/s/$(basename "$(log_of s)")")
  for port in p s; do
    ip -n "$SW" link set "$port" up && bed_wait_carrier "$SW" "$port" || fail "$port's LAN port up"
  done
  pair_link "$P" up || fail "pair_link up"
  BED_LIFETIME=400 capture_start "$P" "$SW" br0 "$D/lan.pcap" || fail "capture of the LAN"
  LAN_CAPTURE=$CAPTURE_PID
  PAIR_JOIND_ENV=${clock_env[p]} pair_server_start "$P" "$P_KIND" primary "$D/p" || fail "$P_KIND primary did not start"
  P_PID=$PAIR_SERVER_PID
  PAIR_JOIND_ENV=${clock_env[s]} pair_server_start "$P" "$S_KIND" secondary "$D/s" || fail "$S_KIND secondary did not start"
  S_PID=$PAIR_SERVER_PID
  wait_normal p 30 || fail "not normal/normal: $LAST"
  wait_normal s 10 || fail "secondary not normal/normal: $LAST"
  # Balanced: half the range (50) the secondary's, nothing in flight, seen from a joind side (dhcpd has
  # no ctl): a joind primary's backup count is the secondary's half; a joind secondary's its own.
  r=p; [ "$P_KIND" = dhcpd ] && r=s
  for (( i = 0; i < 100; i++ )); do
    [ "$(pair_joind_failover "$D/$r/spool" backup unackedUpdates queuedUpdates)" = "50 0 0" ] && break
    sleep 0.1
  done
  [ "$i" -lt 100 ] || fail "pools not balanced: $(pair_joind_failover "$D/$r/spool")"
}

# synced R — wait (≤ 10 s) until joind R has no binding update queued or unacked.
synced() {
  local i
  for (( i = 0; i < 100; i++ )); do
    [ "$(pair_joind_failover "$D/$1/spool" unackedUpdates queuedUpdates)" = "0 0" ] && return 0
    sleep 0.1
  done
  return 1
}
# both_synced — the updates of the scenario have been acknowledged both ways: each joind has none queued
# or unacked; with dhcpd V, what dhcpd acknowledged is checked by the caller in its lease file.
both_synced() {
  if [ "$V_KIND" = dhcpd ]; then synced "$J"; else synced p && synced s; fi
}

# no_dups [HOLD] — stop the capture and fail if lan-leases.py finds an address handed to two clients at
# once (an ACK holds its address for its lease, an OFFER for the HOLD seconds joind keeps it for its
# client, default 60; 0 where a server restarts, since offers live in memory and a restarted server may
# offer an address again: its REQUEST is checked against the store, so only ACKs can overlap). DUPS:
# its summary line. With dhcpd in the pair an OFFER holds only against its own server's replies
# (--offers-per-server, as failover-joind-failures): a dhcpd primary gives addresses it has merely
# offered to its peer in the pool balance after a session returns (scenario 3: "balanced pool … free 45
# backup 55", the addresses it offered s's clients while cut off), and s may offer them at once.
no_dups() {
  local per_server=()
  [ "$V_KIND" = dhcpd ] && per_server=(--offers-per-server)
  capture_stop "$P" "$LAN_CAPTURE"
  LAN_CAPTURE=''
  /usr/bin/python3 "$here/lib/lan-leases.py" --hold "${1:-60}" "${per_server[@]}" "$D/lan.pcap" > "$D/overlaps.txt" 2>&1 \
    || fail "lan-leases.py: $(tail -n 3 "$D/overlaps.txt")"
  DUPS=$(head -n 1 "$D/overlaps.txt")
  [[ "$DUPS" == replies=* ]] || fail "lan-leases.py printed no summary: $(tail -n 3 "$D/overlaps.txt")"
  [[ "$DUPS" == *" dups=0 "* ]] || fail "addresses handed to two clients at once: $(grep '^dup ' "$D/overlaps.txt" | head -n 5); $DUPS"
}

# ---- 1. V cut from the client LAN, the failover link up ----------------------------------------------
scenario_lan_cut() {
  local va ja mac ip lease t_lease t_cut drop0 drop1 served=0
  fresh_pair 1
  read -r va < <(pick "$V" 1 1) && read -r ja < <(pick "$J" 1 1) || fail "no client indexes of $V's and $J's buckets"
  # A lease from V while it is on the LAN (and one from J), both replicated.
  clients "lease-$V" --dora --first "$va"
  t_lease=$(pair_now)
  mac=$(field "${CL[0]}" mac) ip=$(field "${CL[0]}" yiaddr)
  [ "$(field "${CL[0]}" reply)" = ACK ] && [ "$(field "${CL[0]}" reply_from)" = "$V_LAN" ] \
    || fail "$V's client should get its lease from $V: ${CL[0]}"
  if [ "$V_KIND" = dhcpd ]; then
    lease=$(field "${CL[0]}" lease)
    full_lease "$mac=$ip@$t_lease"
    echo "ok: 1: dhcpd's first lease to $mac: $lease s (MCLT $PAIR_MCLT), asked again at T1: $(field "${CL[0]}" lease) s"
  fi
  clients "lease-$J" --dora --first "$ja"
  [ "$(field "${CL[0]}" reply)" = ACK ] && [ "$(field "${CL[0]}" reply_from)" = "$J_LAN" ] \
    || fail "$J's client should get its lease from $J: ${CL[0]}"
  if [ "$V_KIND" = dhcpd ]; then
    replicated "$V" "$(field "${CL[0]}" yiaddr)" "$(field "${CL[0]}" mac)" && replicated "$J" "$ip" "$mac" && synced "$J" \
      || fail "updates not taken: $J's lease in $V's dhcpd.leases, $V's in $J's store, $J $(pair_joind_failover "$D/$J/spool")"
  else
    synced p && synced s || fail "updates not acknowledged: p $(pair_joind_failover "$D/p/spool"), s $(pair_joind_failover "$D/s/spool")"
  fi
  echo "ok: 1: leases from $V ($ip to $mac) and from $J, both acknowledged by the peer"

  t_cut=$(pair_now)
  ip -n "$SW" link set "$V" down || fail "$V's LAN port down"
  drop0=$(counter "$J" dropped failover-peer-bucket)
  burst cut0 --first 6001 --count 12 --secs 0
  [ "${B[$V]}" = 0 ] && [ "${B[both]}" = 0 ] && [ "${B[strangers]}" = 0 ] && [ "${B[$J]}" = "${B[predicted_$J]}" ] \
    && [ "${B[none]}" = "${B[predicted_$V]}" ] && [ "${B[predicted_$V]}" -ge 3 ] \
    || fail "$V cut, secs 0: $J should answer its own buckets only, $V's clients nobody: $(tail -n 1 "$D/burst-cut0.log")"
  drop1=$(counter "$J" dropped failover-peer-bucket)
  [ $(( drop1 - drop0 )) -ge "${B[predicted_$V]}" ] \
    || fail "$J dropped $(( drop1 - drop0 )) DISCOVERs as failover-peer-bucket, expected ≥ ${B[predicted_$V]}"
  served=$(( served + B[$J] ))
  echo "ok: 1: $V cut from the LAN, secs 0: $J answered its ${B[$J]} clients, $V's ${B[predicted_$V]} unanswered ($J dropped $(( drop1 - drop0 )) as failover-peer-bucket)"
  burst cut5 --first 6101 --count 12 --secs 5 "--max-$J" 40
  [ "${B[$J]}" = "${B[count]}" ] && [ "${B[strangers]}" = 0 ] && [ "${B[predicted_$V]}" -ge 3 ] \
    || fail "$V cut, secs 5: $J should answer every client: $(tail -n 1 "$D/burst-cut5.log")"
  served=$(( served + B[$J] ))
  echo "ok: 1: secs 5 (past load balance max seconds 3): $J answered all ${B[count]} (${B[predicted_$V]} of $V's buckets)"

  # The REBINDING of V's lease: a broadcast REQUEST with ciaddr, no server id.
  clients rebind --rebind "$mac=$ip"
  [ "$(field "${CL[0]}" reply)" = ACK ] && [ "$(field "${CL[0]}" reply_from)" = "$J_LAN" ] \
    && [ "$(field "${CL[0]}" yiaddr)" = "$ip" ] \
    || fail "the rebinding of $V's lease $ip should be ACKed by $J: ${CL[0]}"
  lease=$(field "${CL[0]}" lease)
  served=$(( served + 1 ))
  echo "ok: 1: the rebinding of $V's lease $ip ACKed by $J (lease $lease s)"

  # Both stay normal: the link is up, V is alive; two max-response-delays and more have passed.
  sleep "$(awk -v a="$t_cut" -v b="$(pair_now)" -v m="$PAIR_MRD" 'BEGIN { w = 2 * m + 2 - (b - a); printf "%.1f", (w > 0 ? w : 0) }')"
  [ "$(state p)" = "normal normal" ] && [ "$(state s)" = "normal normal" ] \
    || fail "$V cut from the LAN, link up: both should stay normal: p $(state p), s $(state s)"
  went s partner-down && fail "s went partner-down"
  went p partner-down && fail "p went partner-down"
  grep -q '"msgId":"FAILOVER_PEER_UNRESPONSIVE"' "$(log_of p)" "$(log_of s)" && fail "FAILOVER_PEER_UNRESPONSIVE logged"
  echo "ok: 1: both still normal $(pair_since "$t_cut") s after the cut; no partner-down"

  ip -n "$SW" link set "$V" up && bed_wait_carrier "$SW" "$V" || fail "$V's LAN port up"
  burst back --first 6201 --count 12 --secs 0
  [ "${B[both]}" = 0 ] && [ "${B[none]}" = 0 ] && [ "${B[as_predicted]}" = "${B[count]}" ] && [ "${B[strangers]}" = 0 ] \
    || fail "$V back on the LAN: each client should be answered by its own server: $(tail -n 1 "$D/burst-back.log")"
  echo "ok: 1: $V back on the LAN: ${B[count]} clients each answered by its own server (p ${B[p]}, s ${B[s]})"
  no_dups
  echo "ok: 1: no address to two clients at once ($DUPS)"
  summary+=("LAN cut ($V): normal throughout (no detection, no partner-down), $J silent for $V's secs-0 clients ($(( drop1 - drop0 )) failover-peer-bucket), answered secs 5 and the rebinding (lease $lease s): $served served by $J while $V was cut, dups 0")
}

# ---- 2. V isolated (LAN and failover link), then back ---------------------------------------------------
scenario_isolation() {
  local idx mac ip line pre_v=() pd_leases=() t_lease=() fast='' t0 t_j t_v t_ev t_pd t_back v_sent0 v_sent1 served=0 vst jst
  fresh_pair 2
  # Leases from each server before the failure: three of V's buckets, three of J's. A dhcpd V's get
  # their full length (full_lease) before their MCLT lease runs out: quick exchanges (fast).
  [ "$V_KIND" = dhcpd ] && fast=1
  for idx in $(pick "$V" 3 1); do
    clients "pre-$V-$idx" --dora --first "$idx" ${fast:+--wait 1}
    t_lease+=("$(pair_now)")
    [ "$(field "${CL[0]}" reply)" = ACK ] && [ "$(field "${CL[0]}" reply_from)" = "$V_LAN" ] || fail "pre-lease from $V: ${CL[0]}"
    pre_v+=("$(field "${CL[0]}" mac)=$(field "${CL[0]}" yiaddr)")
  done
  if [ "$V_KIND" = dhcpd ]; then
    full_lease "${pre_v[0]}@${t_lease[0]}" "${pre_v[1]}@${t_lease[1]}" "${pre_v[2]}@${t_lease[2]}"
  fi
  for idx in $(pick "$J" 3 1); do
    clients "pre-$J-$idx" --dora --first "$idx"
    [ "$(field "${CL[0]}" reply)" = ACK ] && [ "$(field "${CL[0]}" reply_from)" = "$J_LAN" ] || fail "pre-lease from $J: ${CL[0]}"
    [ "$V_KIND" = joind ] || replicated "$V" "$(field "${CL[0]}" yiaddr)" "$(field "${CL[0]}" mac)" \
      || fail "$J's lease not in $V's dhcpd.leases: ${CL[0]}"
  done
  if [ "$V_KIND" = dhcpd ]; then
    for ip in "${pre_v[@]}"; do replicated "$J" "${ip#*=}" "${ip%%=*}" || fail "$V's lease $ip not in $J's store"; done
  fi
  both_synced || fail "updates not acknowledged: $J $(pair_joind_failover "$D/$J/spool")"
  echo "ok: 2: 3 leases from $V (${pre_v[*]}), 3 from $J"

  v_sent0=$(replies "$V")
  t0=$(pair_now)
  ip -n "$SW" link set "$V" down && pair_link "$P" down || fail "isolating $V"
  wait_state "$J" communications-interrupted 20 || fail "$J not communications-interrupted after $V's isolation: $(state "$J")"
  t_j=$(pair_since "$t0")
  wait_state "$V" communications-interrupted 20 || fail "$V not communications-interrupted: $(state "$V")"
  t_v=$(pair_since "$t0")
  echo "ok: 2: $V isolated: $J communications-interrupted after $t_j s, $V after $t_v s"

  burst iso0 --first 7001 --count 8 --secs 0
  [ "${B[$V]}" = 0 ] && [ "${B[both]}" = 0 ] && [ "${B[$J]}" = "${B[predicted_$J]}" ] && [ "${B[none]}" = "${B[predicted_$V]}" ] \
    || fail "isolated $V, secs 0: $J answers its own clients only: $(tail -n 1 "$D/burst-iso0.log")"
  is_state "$J" communications-interrupted || fail "secs 0 clients are no evidence, yet $J is $(state "$J")"
  served=$(( served + B[$J] ))
  echo "ok: 2: secs 0: $J answered its ${B[$J]} clients, $V's ${B[predicted_$V]} unanswered; $J still communications-interrupted"

  # Clients EV_FIRST.. of discover-burst.py: 11 of 12 in V's buckets. J answers all of them (secs 15 is
  # past load balance max seconds) from its own half of the pool, and holds each offer 60 s: the bursts
  # are kept small so that J's half lasts the scenario.
  t_ev=$(pair_now)
  burst iso15 --first "$EV_FIRST" --count 12 --secs 15
  wait_state "$J" partner-down 10 || fail "no partner-down after ${B[predicted_$V]} clients of $V's buckets waited 15 s: $(state "$J")"
  t_pd=$(pair_since "$t_ev")
  grep -q '"msgId":"FAILOVER_PEER_UNRESPONSIVE"' "$(log_of "$J")" || fail "no FAILOVER_PEER_UNRESPONSIVE line"
  [ "${B[predicted_$V]}" -ge 10 ] || fail "partner-down with fewer than 10 clients of evidence (${B[predicted_$V]})"
  served=$(( served + B[$J] ))
  echo "ok: 2: $J partner-down $t_pd s after ${B[predicted_$V]} clients of $V's buckets waited 15 s (FAILOVER_PEER_UNRESPONSIVE)"

  # Partner-down: J serves everyone, V's clients too, new ones and the rebinding of V's leases.
  clients pd-new --dora --first 300 --count 8
  [ "${C[acks]}" = 8 ] || fail "partner-down: $J should ACK all 8 new clients: $(cat "$D/clients-pd-new.txt")"
  for mac in "${CL[@]}"; do [ "$(field "$mac" reply_from)" = "$J_LAN" ] || fail "partner-down: not from $J: $mac"; done
  pd_leases=("${CL[@]}")
  clients pd-rebind --rebind "${pre_v[@]}"
  pd_leases+=("${CL[@]}")
  [ "${C[acks]}" = 3 ] || fail "partner-down: $J should ACK the rebinding of $V's 3 leases: $(cat "$D/clients-pd-rebind.txt")"
  for ip in "${pre_v[@]}"; do
    grep -q "^mac=${ip%%=*} .* yiaddr=${ip#*=} reply=ACK reply_from=$J_LAN " "$D/clients-pd-rebind.txt" \
      || fail "partner-down: the rebinding of $ip not ACKed by $J with its address: $(cat "$D/clients-pd-rebind.txt")"
  done
  served=$(( served + 8 + 3 ))
  is_state "$V" communications-interrupted || fail "$V, cut from everything, should stay communications-interrupted: $(state "$V")"
  went "$V" partner-down && fail "$V, cut from everything, went partner-down"
  v_sent1=$(replies "$V")
  [ "$v_sent1" = "$v_sent0" ] || fail "$V, cut from the LAN, sent OFFERs/ACKs meanwhile ($v_sent0 -> $v_sent1)"
  echo "ok: 2: partner-down: $J ACKed 8 new clients and the rebinding of $V's 3 leases; $V communications-interrupted, served nobody (OFFER/ACK sent: $v_sent1)"

  t_back=$(pair_now)
  ip -n "$SW" link set "$V" up && bed_wait_carrier "$SW" "$V" && pair_link "$P" up || fail "bringing $V back"
  wait_normal "$V" 150 || fail "$V not normal again: $LAST; $V: $(states "$V"); $J: $(states "$J")"
  wait_normal "$J" 20 || fail "$J not normal again: $LAST"
  t_back=$(pair_since "$t_back")
  vst=$(states "$V") jst=$(states "$J")
  echo "ok: 2: both normal $t_back s after $V came back; $V: $vst; $J: $jst"
  # states.ts: in comm-int or partner-down with the peer in the other (or in potential-conflict) ->
  # potential-conflict; the primary's UPDDONE -> conflict-done, then the secondary's normal -> normal;
  # the secondary's UPDDONE with the primary conflict-done -> normal. dhcpd's
  # dhcp_failover_peer_state_changed and process_update_done the same, as primary and as secondary.
  [[ "$vst" == *" communications-interrupted potential-conflict $(way_back "$V")" ]] \
    || fail "$V's way back should be communications-interrupted -> potential-conflict -> $(way_back "$V"): $vst"
  [[ "$jst" == *" communications-interrupted partner-down potential-conflict $(way_back "$J")" ]] \
    || fail "$J's way back should be partner-down -> potential-conflict -> $(way_back "$J"): $jst"

  # What J granted alone reached V in potential-conflict: each lease active for its client in V's store.
  both_synced || fail "updates not acknowledged after the return: $J $(pair_joind_failover "$D/$J/spool")"
  if [ "$V_KIND" = dhcpd ]; then
    for line in "${pd_leases[@]}"; do replicated "$V" "$(field "$line" yiaddr)" "$(field "$line" mac)"; done
  fi
  pair_server_leases "$V_KIND" "$D/$V" > "$D/$V-leases.txt" || fail "$V's store"
  for line in "${pd_leases[@]}"; do
    grep -q "^$(field "$line" yiaddr) active $(field "$line" mac) " "$D/$V-leases.txt" \
      || fail "$V's store lacks the lease $J granted in partner-down: $line; $V has: $(grep "^$(field "$line" yiaddr) " "$D/$V-leases.txt")"
  done
  echo "ok: 2: the ${#pd_leases[@]} leases $J granted or extended in partner-down are active for their clients in $V's store"

  burst after --first 7201 --count 12 --secs 0 "--max-$J" 8
  [ "${B[both]}" = 0 ] && [ "${B[none]}" = 0 ] && [ "${B[as_predicted]}" = "${B[count]}" ] \
    || fail "back to normal: each client should be answered by its own server: $(tail -n 1 "$D/burst-after.log")"
  clients after --dora --first 400 --count 6
  [ "${C[acks]}" = 6 ] || fail "back to normal: 6 new clients should get leases: $(cat "$D/clients-after.txt")"
  echo "ok: 2: normal again: ${B[count]} DISCOVERs each answered by its own server, 6 new leases"
  no_dups
  echo "ok: 2: no address to two clients at once ($DUPS)"
  summary+=("isolation ($V): comm-int after $t_j s ($J) / $t_v s ($V), partner-down $t_pd s after the evidence, $served clients served by $J meanwhile, $V none; normal $t_back s after the return ($V ...communications-interrupted ${vst##* communications-interrupted }; $J ...partner-down ${jst##* partner-down }), dups 0")
}

# ---- 3. clock skew --------------------------------------------------------------------------------------
# J runs under libfaketime, its offset read from D/clock (again every second): skew_to OFFSET sets it
# (libfaketime's syntax, +90s) and waits until J has read it.
skew_to() { echo "$1" > "$D/clock" && sleep 1.5; }

# since_mark R MARK ERE — true when a line of R's log after its first MARK lines matches ERE.
since_mark() { tail -n +$(( $2 + 1 )) "$(log_of "$1")" | grep -Eq -- "$3"; }
# first_skew R MARK — the seconds of joind R's first FAILOVER_CLOCK_SKEW after line MARK, or nothing.
first_skew() {
  tail -n +$(( $2 + 1 )) "$(log_of "$1")" | grep '"msgId":"FAILOVER_CLOCK_SKEW"' | head -n 1 | grep -o '"seconds":-\?[0-9]*' | cut -d: -f2
}

have_faketime() {
  [ -e "$FAKETIME_LIB" ] || bed_require_packages "$FAKETIME_LIB" || {
    echo "skip: $1: no libfaketime ($FAKETIME_LIB, Debian package faketime)"; summary+=("$1: skipped, no libfaketime"); return 1; }
}

scenario_skew() {
  local t0 t_end t_rej t_ci mark_v mark_j skew_v skew_j t_pair rejects v_rej v_end said wrong answered quiet=''
  # V's refusal as its log says it: joind's FAILOVER_CONNECT_REJECTED; a dhcpd primary's CONNECT refused
  # by J for the time (failover.c, dhcp_failover_reject_reason_print); a dhcpd secondary's refusal of
  # J's CONNECT ("time offset too large", failover.c :579, before its CONNECTACK with TIMEMISMATCH).
  # v_end: dhcpd's line for the DISCONNECT by which J ended the session.
  v_rej='"msgId":"FAILOVER_CONNECT_REJECTED".*clocks differ by -?(8|9|10)[0-9] s' v_end=''
  if [ "$V_KIND" = dhcpd ]; then
    v_end='^Failover DISCONNECT from [^:]+: Connection rejected, time mismatch too great'
    if [ "$V" = p ]; then v_rej='^Failover CONNECT to [^:]+ rejected: Connection rejected, time mismatch too great'
    else v_rej='^Failover CONNECT from [^:]+: time offset too large'; fi
  fi
  have_faketime "clock skew" || return 0
  fresh_pair 3 clock
  echo "ok: 3: normal/normal with $J under libfaketime (offset +0)"
  mark_v=$(wc -l < "$(log_of "$V")") mark_j=$(wc -l < "$(log_of "$J")")
  t0=$(pair_now)
  skew_to +90s
  # dhcpd's rule: clocks more than 60 s apart end the session (DISCONNECT, TIMEMISMATCH), and CONNECT
  # is refused until they agree.
  bed_wait_for 20 since_mark "$J" "$mark_j" '"msgId":"FAILOVER_CONNECT_REJECTED".*clocks differ by -(8|9|10)[0-9] s' \
    || fail "$J (+90 s) did not end the session for the clocks"
  t_end=$(pair_since "$t0")
  [ -z "$v_end" ] || bed_wait_for 10 since_mark "$V" "$mark_v" "$v_end" || fail "dhcpd did not log the DISCONNECT for the time"
  bed_wait_for 30 since_mark "$V" "$mark_v" "$v_rej" || fail "$V did not log a refused CONNECT (clocks differ)"
  t_rej=$(pair_since "$t0")
  wait_state "$J" communications-interrupted 20 && wait_state "$V" communications-interrupted 20 \
    || fail "clocks 90 s apart: both should be communications-interrupted: p $(state p), s $(state s)"
  t_ci=$(pair_since "$t0")
  said=''
  [ -z "$v_end" ] || said=" (dhcpd: $(tail -n +$(( mark_v + 1 )) "$(log_of "$V")" | grep -E -- "$v_end|$v_rej" | sort -u | paste -sd '|'))"
  echo "ok: 3: $J's clock +90 s: $J ended the session after $t_end s, the CONNECT refused after $t_rej s$said; both communications-interrupted after $t_ci s"
  burst skew90 --first 8001 --count 12 --secs 0
  if [ "$V_KIND" = dhcpd ]; then
    # dhcpd, not load balancing in communications-interrupted, answers every client; joind J exactly its
    # own buckets (a line of burst-skew90.txt: MAC BUCKET PREDICTED ANSWERED).
    wrong=$(awk -v j="$J" -v v="$V" '($3 == v && $4 != v) || ($3 == j && $4 != j && $4 != "both")' "$D/burst-skew90.txt" | head -n 3 | paste -sd ';')
    [ "${B[none]}" = 0 ] && [ "${B[strangers]}" = 0 ] && [ "${B[predicted_p]}" -ge 1 ] && [ "${B[predicted_s]}" -ge 1 ] && [ -z "$wrong" ] \
      || fail "clocks 90 s apart: every client answered, $V's by $V alone, $J's by $J: $(tail -n 1 "$D/burst-skew90.log")${wrong:+; $wrong}"
    answered="${B[count]} clients all answered, $V's ${B[predicted_$V]} by $V alone, $J's ${B[predicted_$J]} by $J (by dhcpd too: ${B[both]})"
  else
    [ "${B[both]}" = 0 ] && [ "${B[none]}" = 0 ] && [ "${B[as_predicted]}" = "${B[count]}" ] && [ "${B[strangers]}" = 0 ] \
      || fail "clocks 90 s apart: each client should be answered by its own server: $(tail -n 1 "$D/burst-skew90.log")"
    answered="${B[count]} clients each answered by its own server (p ${B[p]}, s ${B[s]})"
  fi
  is_state p communications-interrupted && is_state s communications-interrupted \
    || fail "clocks 90 s apart: both should stay communications-interrupted: p $(state p), s $(state s)"
  went p partner-down || went s partner-down && fail "partner-down with the clocks 90 s apart"
  since_mark "$J" "$mark_j" '"msgId":"FAILOVER_LINK_UP"' && fail "a session formed with the clocks 90 s apart"
  rejects=$(tail -n +$((mark_j + 1)) "$(log_of "$J")" | grep -c '"msgId":"FAILOVER_CONNECT_REJECTED"')
  echo "ok: 3: clocks 90 s apart: $answered, both communications-interrupted, no partner-down, no session ($rejects refusals logged by $J)"

  mark_j=$(wc -l < "$(log_of "$J")") mark_v=$(wc -l < "$(log_of "$V")")
  t0=$(pair_now)
  skew_to +45s
  wait_normal p 60 || fail "clocks 45 s apart: p not normal: $LAST"
  wait_normal s 10 || fail "clocks 45 s apart: s not normal: $LAST"
  t_pair=$(pair_since "$t0")
  skew_j=$(first_skew "$J" "$mark_j") skew_v=''
  if [ "$V_KIND" = dhcpd ]; then
    [ -n "$skew_j" ] || fail "clocks 45 s apart: no FAILOVER_CLOCK_SKEW warning from joind $J"
  else
    skew_v=$(first_skew "$V" "$mark_v")
    [ -n "$skew_j$skew_v" ] || fail "clocks 45 s apart: no FAILOVER_CLOCK_SKEW warning"
  fi
  burst skew45 --first 8101 --count 12 --secs 0
  [ "${B[both]}" = 0 ] && [ "${B[none]}" = 0 ] && [ "${B[as_predicted]}" = "${B[count]}" ] \
    || fail "clocks 45 s apart, normal: each client should be answered by its own server: $(tail -n 1 "$D/burst-skew45.log")"
  if [ "$V_KIND" = dhcpd ]; then
    # dhcpd has no warning below its 60 s limit: from its "Both servers normal" after the step on (the
    # session back, the burst served), nothing of the time in its log.
    since_mark "$V" "$mark_v" 'failover peer [^:]+: Both servers normal' || fail "clocks 45 s apart: dhcpd never said Both servers normal"
    tail -n +$(( mark_v + 1 )) "$(log_of "$V")" | sed -n '/failover peer [^:]*: Both servers normal/,$p' \
      | grep -Ei 'time (offset|mismatch)' && fail "clocks 45 s apart: dhcpd still logs the time once normal"
    quiet=', dhcpd silent about the time once normal'
  fi
  echo "ok: 3: $J's clock +45 s: normal/normal after $t_pair s; FAILOVER_CLOCK_SKEW $J ${skew_j:-none} s, $V ${skew_v:-none} s$quiet; ${B[count]} clients each answered by its own server"
  no_dups
  echo "ok: 3: no address to two clients at once ($DUPS)"
  summary+=("clock skew ($J): +90 s session ended in $t_end s, CONNECT refused in $t_rej s, both comm-int after $t_ci s, no partner-down, $answered; +45 s normal in $t_pair s, skew warned ($J ${skew_j:-none}, $V ${skew_v:-none}), dups 0")
}

# ---- restarts of the secondary ---------------------------------------------------------------------------------
# restart_s [ENV] — kill s (SIGKILL: no shutdown, so p does not take over) and start it again on its store,
# with PAIR_JOIND_ENV ENV. S_PID: the new one.
restart_s() {
  local pid
  pid=$(cat "$D/s/spool/joind.pid") || fail "no pid file of s"
  kill -KILL "$pid" || fail "kill -KILL $pid"
  # Its wrapper (timeout) ends with it: reaped here, quietly (bash reports a job killed by a signal).
  { wait "$S_PID"; } 2>/dev/null
  bed_stop "$P" "$S_PID"
  bed_wait_for 10 sh -c "! kill -0 $pid 2>/dev/null" || fail "s ($pid) did not die"
  PAIR_JOIND_ENV=${1:-} pair_joind_start "$P" secondary "$D/s" || fail "s did not start again"
  S_PID=$PAIR_JOIND_PID
}

# 4. Scenario 3 as research row 13 has it: s killed and started again with its clock 90 s ahead. A
# secondary learns the hash bucket assignment from the primary's CONNECT; restarted without a session
# (here the clocks refuse it; equally a link down) it must still know it, or it answers every client
# (both servers offer) and never counts evidence. joind keeps it in the store (failover_state.hba).
scenario_skew_restart() {
  local t0 t_rej mark_p mark_s
  have_faketime "clock skew, restart" || return 0
  fresh_pair 4
  mark_p=$(wc -l < "$D/p/joind.log") mark_s=$(wc -l < "$D/s/joind.log")
  t0=$(pair_now)
  restart_s "LD_PRELOAD=$FAKETIME_LIB FAKETIME=+90s FAKETIME_DONT_FAKE_MONOTONIC=1"
  bed_wait_for 20 since_mark s "$mark_s" '"msgId":"FAILOVER_CONNECT_REJECTED".*clocks differ' \
    || fail "s (+90 s) did not refuse the session for the clocks"
  bed_wait_for 20 since_mark p "$mark_p" '"msgId":"FAILOVER_CONNECT_REJECTED".*clocks differ' \
    || fail "p did not log the refusal (clocks differ)"
  t_rej=$(pair_since "$t0")
  wait_state s communications-interrupted 25 || fail "s (+90 s) should end startup in communications-interrupted: $(state s)"
  [[ "$(state p)" == "communications-interrupted "* ]] || fail "p should be communications-interrupted: $(state p)"
  echo "ok: 4: s restarted at +90 s: the session refused after $t_rej s, s communications-interrupted (startup ended)"
  burst skew90 --first 8001 --count 12 --secs 0
  [ "${B[both]}" = 0 ] && [ "${B[none]}" = 0 ] && [ "${B[as_predicted]}" = "${B[count]}" ] && [ "${B[strangers]}" = 0 ] \
    || fail "s restarted with its clock 90 s off: each client should be answered by its own server: $(tail -n 1 "$D/burst-skew90.log")"
  echo "ok: 4: ${B[count]} clients each answered by its own server (p ${B[p]}, s ${B[s]})"
  restart_s "LD_PRELOAD=$FAKETIME_LIB FAKETIME=+45s FAKETIME_DONT_FAKE_MONOTONIC=1"
  pair_joind_wait_normal "$D/p/spool" 60 && pair_joind_wait_normal "$D/s/spool" 10 || fail "clocks 45 s apart: not normal: $PAIR_JOIND_LAST"
  no_dups 0
  summary+=("clock skew with restarts: refused in $t_rej s, each served its own, +45 s normal")
}

# 5. After scenario 2's way back, s is killed and started again while the failover link is down. s
# entered normal while p was conflict-done; p's later STATE normal changed nothing of s's own, and must
# be saved all the same (dhcpd's write_failover_state in dhcp_failover_peer_state_changed): a saved
# partner in conflict-done would silence s (serviceOf) for its own clients too, until the link returns.
# The partner-down here comes from made-up evidence (secs 15 while p is alive: the link cut alone).
scenario_restart_after_recovery() {
  local saved
  fresh_pair 5
  pair_link "$P" down || fail "pair_link down"
  wait_state s communications-interrupted 20 && wait_state p communications-interrupted 20 || fail "not communications-interrupted"
  burst ev --first 8610 --count 12 --secs 15
  wait_state s partner-down 10 || fail "s not partner-down: $(state s)"
  pair_link "$P" up || fail "pair_link up"
  pair_joind_wait_normal "$D/p/spool" 150 && pair_joind_wait_normal "$D/s/spool" 20 || fail "not normal again: $PAIR_JOIND_LAST"
  echo "ok: 5: s partner-down on evidence (the link cut alone), then normal again; s: $(pair_joind_states "$D/s/joind.log")"
  pair_link "$P" down || fail "pair_link down"
  restart_s
  wait_state s communications-interrupted 25 || fail "s should end startup in communications-interrupted: $(state s)"
  saved=$(pair_joind_failover "$D/s/spool" state partnerState service)
  burst own --first 8701 --count 12 --secs 0
  [ "${B[s]}" = "${B[predicted_s]}" ] && [ "${B[both]}" = 0 ] \
    || fail "s restarted with the link down ($saved) should answer its own clients: $(tail -n 1 "$D/burst-own.log")"
  echo "ok: 5: s restarted with the link down ($saved) answered its ${B[s]} clients"
  no_dups 0
  summary+=("restart after recovery: s serves its own clients")
}

for n in $SCEN; do
  case $n in
    4|5) [ "$P_KIND+$S_KIND" = joind+joind ] || fail "SCEN: scenario $n is joind+joind only" ;;
  esac
  case $n in
    1) scenario_lan_cut ;;
    2) scenario_isolation ;;
    3) scenario_skew ;;
    4) scenario_skew_restart ;;
    5) scenario_restart_after_recovery ;;
    *) fail "SCEN: no scenario $n" ;;
  esac
done
stop_pair

line=$(printf '%s; ' "${summary[@]}")
echo "$FO_TEST: $P_KIND+$S_KIND: ${line}duplicates 0"
echo PASS
