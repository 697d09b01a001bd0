#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# failover-dhcpd-pair — the reference run for joind's failover (issue 13 point 6): two ISC dhcpd 4.4.3
# as a failover pair in the pair bed (test/system/lib/pair.sh), with the failover link captured.
#  - both from empty lease files reach normal/normal (time from the later start to "Both servers
#    normal" recorded; the states each went through, e.g. whether recover-wait);
#  - pool balance: in each failover pool, every address is free (primary's) or backup (secondary's),
#    the same in both lease files, halves ±1;
#  - real clients (udhcpc on macvlans, dhclient on the client veth, dhclient behind dhcrelay) get
#    leases from the server their hash bucket names, and each lease is active in BOTH lease files
#    with the same hardware address and ends;
#    a dhclient -r makes that address inactive in both;
#  - a burst of DISCOVERs with distinct MACs and secs 0 (lib/discover-burst.py, scapy): each is answered
#    by exactly one server, the one the RFC 3074 hash and the split predict; the split is recorded;
#  - the secondary stopped (SIGTERM): the primary moves to communications-interrupted (no STATE
#    shutdown: Debian's dhcpd is built without gentle shutdown);
#  - the failover link's capture holds CONNECT, CONNECTACK, STATE, UPDREQALL, BNDUPD, BNDACK, UPDDONE
#    and CONTACT (lib/failover-pcap.py). With FAILOVER_FIXTURES_DIR=DIR the first two messages of each
#    direction and kind are written there (test/fixtures/failover/README.md: how the golden set is made).
# The measured numbers are printed on one line starting "failover-dhcpd-pair:". KEEP_WORK=1 keeps the
# work folder (logs, lease files, pcap) also on success. Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/need.sh
. "$here/lib/need.sh"
bed_need ip sysctl timeout dhcpd dhcrelay dhclient udhcpc tcpdump /usr/bin/python3 py:scapy
[ "$(id -u)" = 0 ] || { echo "skip: failover-dhcpd-pair needs root (network namespaces)"; exit 77; }
# shellcheck source=lib/pair.sh
. "$here/lib/pair.sh"

pair_test_begin failover-dhcpd-pair fo$$
LIB=$here/lib
FAIL_LOGS=("dhcpd p:p/dhcpd.log" "dhcpd s:s/dhcpd.log")
P_LOG=$WORK/p/dhcpd.log S_LOG=$WORK/s/dhcpd.log P_LEASES=$WORK/p/dhcpd.leases S_LEASES=$WORK/s/dhcpd.leases

pair_up "$P" relay || fail "pair_up"
pair_capture_hb "$P" "$WORK/hb.pcap" 300 || fail "capture of the failover link"
HB_CAPTURE=$CAPTURE_PID

# --- normal/normal from empty lease files ------------------------------------------------------------
pair_dhcpd_start "$P" primary "$WORK/p" || fail "dhcpd primary did not start"
pair_dhcpd_start "$P" secondary "$WORK/s" || fail "dhcpd secondary did not start"
S_DHCPD=$PAIR_DHCPD_PID
later=$(cat "$WORK/s/started")
# Our own bounded poll (50 ms) rather than bed_wait_for's 100 ms: the time is one of the measurements.
p_normal='' s_normal=''
for (( i = 0; i < 1200 && (${#p_normal} == 0 || ${#s_normal} == 0); i++ )); do
  [ -n "$p_normal" ] || ! grep -q 'Both servers normal' "$P_LOG" || p_normal=$(date +%s.%N)
  [ -n "$s_normal" ] || ! grep -q 'Both servers normal' "$S_LOG" || s_normal=$(date +%s.%N)
  sleep 0.05
done
[ -n "$p_normal" ] && [ -n "$s_normal" ] || fail "no 'Both servers normal' within 60 s (primary ${p_normal:-no}, secondary ${s_normal:-no})"
t_normal=$(awk -v a="$p_normal" -v b="$s_normal" -v l="$later" 'BEGIN { m = a > b ? a : b; printf "%.2f", m - l }')
p_states=$(pair_states "$P_LOG") s_states=$(pair_states "$S_LOG")
recover_wait=no
grep -q 'to recover-wait$' "$P_LOG" "$S_LOG" && recover_wait=yes
echo "ok: normal/normal ${t_normal} s after the later start; primary: $p_states; secondary: $s_states; recover-wait: $recover_wait"

# --- pool balance: free (primary's) vs backup (secondary's), per address, both lease files agree -----
# range_balanced NET3 FIRST LAST — addresses NET3.FIRST..NET3.LAST: each free or backup, the same in
# both lease files (PL, SL), halves ±1. Appends to BALANCE (a description), or sets it to what is wrong.
range_balanced() {
  local net=$1 lo=$2 hi=$3 a ps ss free=0 backup=0 n=$(( $3 - $2 + 1 ))
  for (( a = lo; a <= hi; a++ )); do
    ps=${PL["$net.$a"]:-none} ss=${SL["$net.$a"]:-none}
    [ "$ps" = "$ss" ] || { BALANCE="$net.$a: primary says $ps, secondary $ss"; return 1; }
    case $ps in free) free=$((free + 1)) ;; backup) backup=$((backup + 1)) ;;
      *) BALANCE="$net.$a is $ps"; return 1 ;; esac
  done
  [ $(( 2 * free - n )) -le 2 ] && [ $(( n - 2 * free )) -le 2 ] || { BALANCE="$net.$lo-$hi: $free free, $backup backup"; return 1; }
  BALANCE="${BALANCE:+$BALANCE, }$net.$lo-$hi free $free backup $backup"
}
# balanced — both failover pools (the LAN's, the relayed subnet's) balanced.
balanced() {
  declare -gA PL=() SL=()
  local ip st rest
  while read -r ip st rest; do PL[$ip]=$st; done < <(pair_leases "$P_LEASES")
  while read -r ip st rest; do SL[$ip]=$st; done < <(pair_leases "$S_LEASES")
  BALANCE=''
  range_balanced 10.77.0 100 199 && range_balanced 10.79.0 100 149
}
bed_wait_for 30 balanced || fail "pools not balanced within 30 s: $BALANCE"
balance=$BALANCE
echo "ok: pool balance, the same in both lease files: $balance"

# --- real clients: each lease active in both lease files, same hardware address and ends --------------
# The bed's MACs are fixed, so who serves whom is too: each client must be served by the server its
# hash bucket names (udhcpc's key is its client id 01:MAC, dhclient's its chaddr); cli6 and the client
# behind the relay fall to the secondary.
pair_real_clients "$P" "$WORK" 6
C=$(bed_ns "$P" c)

# in_both IP MAC — IP active in both lease files with hardware MAC and the same ends; LEASE_WHY else.
in_both() {
  local pl sl
  pl=$(pair_leases "$P_LEASES" | awk -v ip="$1" '$1 == ip') sl=$(pair_leases "$S_LEASES" | awk -v ip="$1" '$1 == ip')
  LEASE_WHY="primary: ${pl:-none}; secondary: ${sl:-none}"
  [ -n "$pl" ] && [ "$pl" = "$sl" ] && [ "$(awk '{ print $2, $3 }' <<< "$pl")" = "active $2" ]
}
served_p=0 served_s=0 leases=''
for c in "${CLIENTS[@]}"; do
  read -r out mac net key <<< "$c"
  ip=$(bed_result "$out" ip) sid=$(bed_result "$out" serverid) who=$(bed_result "$out" client)
  bed_ip_in_net "$ip" "$net" || fail "$who in $net got $ip"
  case $sid in "$PAIR_P_LAN") by=p served_p=$((served_p + 1)) ;; "$PAIR_S_LAN") by=s served_s=$((served_s + 1)) ;;
    *) fail "$ip came from server id '$sid'" ;; esac
  want=$(/usr/bin/python3 "$LIB/discover-burst.py" --split "$PAIR_SPLIT" --predict "$key" | awk '{ print $2 }')
  [ "$by" = "$want" ] || fail "$who ($mac, hash key $key) was served by $by, its bucket belongs to $want"
  bed_wait_for 10 in_both "$ip" "$mac" || fail "lease $ip ($mac, from $sid) not the same in both lease files: $LEASE_WHY"
  leases="$leases $ip/$by"
done
lt=$(bed_result "$WORK/u1" lease)
echo "ok: ${#CLIENTS[@]} clients got leases from the server their hash names (primary $served_p, secondary $served_s; first lease ${lt:-?} s), each active in both lease files with the same MAC and ends:$leases"
bed_stop "$P" "$(bed_result "$WORK/dr" pid)"

# A RELEASE: the address is no longer active in either file.
rel_ip=$(bed_result "$WORK/d0" ip)
dhclient_release "$C" cli "$WORK/d0" || fail "dhclient -r"
released_both() {
  local ps ss
  ps=$(pair_leases "$P_LEASES" | awk -v ip="$rel_ip" '$1 == ip { print $2 }')
  ss=$(pair_leases "$S_LEASES" | awk -v ip="$rel_ip" '$1 == ip { print $2 }')
  REL_STATES="primary $ps, secondary $ss"
  [ -n "$ps" ] && [ -n "$ss" ] && [ "$ps" != active ] && [ "$ss" != active ]
}
bed_wait_for 10 released_both || fail "after dhclient -r, $rel_ip is still active: $REL_STATES"
echo "ok: dhclient -r: $rel_ip $REL_STATES"

# --- a burst of DISCOVERs, secs 0: who answers ---------------------------------------------------------
# An OFFER holds its address for about 2 minutes, so the burst is cut to what each server can still
# offer (its free addresses, less one for safety).
p_free=$(pair_leases "$P_LEASES" | awk '$2 == "free" && $1 ~ /^10\.77\.0\./' | wc -l)
s_free=$(pair_leases "$S_LEASES" | awk '$2 == "backup" && $1 ~ /^10\.77\.0\./' | wc -l)
BURST=${PAIR_BURST:-200}
bed_run "$P" "$C" discover-burst "$WORK/burst.log" 60 -- /usr/bin/python3 "$LIB/discover-burst.py" \
  --iface cli --count "$BURST" --secs 0 --split "$PAIR_SPLIT" --primary "$PAIR_P_LAN" --secondary "$PAIR_S_LAN" \
  --max-p $((p_free - 1)) --max-s $((s_free - 1)) --out "$WORK/burst.txt"
burst=$(tail -n 1 "$WORK/burst.log")
declare -A B=()
for kv in $burst; do B[${kv%%=*}]=${kv#*=}; done
[ -n "${B[count]:-}" ] || fail "discover-burst: $(tail -n 5 "$WORK/burst.log")"
n=${B[count]}
[ "$n" -ge 40 ] || fail "only $n DISCOVERs fitted in the free addresses (primary $p_free, secondary $s_free)"
[ "${B[none]}" = 0 ] && [ "${B[both]}" = 0 ] && [ "${B[strangers]}" = 0 ] || fail "burst: $burst"
[ "${B[as_predicted]}" = "$n" ] || fail "burst: responders not as the hash predicts: $burst (see $WORK/burst.txt)"
pct_p=$(( (100 * B[p] + n / 2) / n ))
[ "$pct_p" -ge 30 ] && [ "$pct_p" -le 70 ] || fail "burst split p=${B[p]} s=${B[s]}: not about half"
split="p ${B[p]} s ${B[s]} of $n (${pct_p}%/$((100 - pct_p))%)"
echo "ok: $n DISCOVERs (secs 0): $split, each answered by one server, $n/$n as the RFC 3074 hash predicts"

# --- the secondary stops (SIGTERM): the primary loses its peer ------------------------------------------
# Debian's dhcpd is built without --enable-gentle-shutdown: SIGTERM ends it at once, with no STATE
# shutdown sent, so the primary sees only the link close: communications-interrupted, not partner-down.
bed_stop "$P" "$S_DHCPD" || fail "stopping the secondary"
pair_wait_state "$P_LOG" communications-interrupted 15 \
  || fail "primary not communications-interrupted after the secondary stopped: $(pair_states "$P_LOG")"
! grep -q 'to shutdown$' "$S_LOG" || fail "the secondary did move to shutdown: a gentle-shutdown build?"
p_after=$(pair_states "$P_LOG" | awk '{ print $(NF-1), "->", $NF }')
echo "ok: secondary stopped (SIGTERM, no shutdown state sent); primary: $p_after"

# --- the failover link's messages ----------------------------------------------------------------------
capture_stop "$P" "$HB_CAPTURE"
summary=$(/usr/bin/python3 "$LIB/failover-pcap.py" "$WORK/hb.pcap" --port "$PAIR_FO_PORT" --primary "$PAIR_P_HB" --summary) \
  || fail "failover-pcap.py could not read the capture"
for kind in p2s-connect s2p-connectack p2s-state- s2p-state- p2s-updreqall s2p-updreqall p2s-upddone s2p-upddone \
            p2s-bndupd-backup p2s-bndupd-active s2p-bndupd-active s2p-bndack p2s-bndack p2s-contact s2p-contact; do
  [[ " $summary" == *" $kind"* ]] || fail "no $kind message on the failover link: $summary"
done
total=$(/usr/bin/python3 "$LIB/failover-pcap.py" "$WORK/hb.pcap" --port "$PAIR_FO_PORT" --primary "$PAIR_P_HB" | wc -l)
echo "ok: $total failover messages: $summary"
if [ -n "${FAILOVER_FIXTURES_DIR:-}" ]; then
  mkdir -p "$FAILOVER_FIXTURES_DIR" && rm -f "$FAILOVER_FIXTURES_DIR"/[0-9][0-9][0-9][0-9]-*.bin
  /usr/bin/python3 "$LIB/failover-pcap.py" "$WORK/hb.pcap" --port "$PAIR_FO_PORT" --primary "$PAIR_P_HB" \
    --out "$FAILOVER_FIXTURES_DIR" --keep 2 || fail "writing the fixtures"
  cp "$WORK/p/dhcpd.conf" "$FAILOVER_FIXTURES_DIR/primary.conf" && cp "$WORK/s/dhcpd.conf" "$FAILOVER_FIXTURES_DIR/secondary.conf"
  echo "ok: golden messages written to $FAILOVER_FIXTURES_DIR ($(find "$FAILOVER_FIXTURES_DIR" -name '*.bin' | wc -l) files)"
fi

echo "failover-dhcpd-pair: dhcpd $(dhcpd --version 2>&1 | sed 's/^isc-dhcpd-//'): normal/normal ${t_normal} s after the later start" \
  "(primary $p_states; secondary $s_states; recover-wait $recover_wait); pool balance $balance;" \
  "${#CLIENTS[@]} clients, primary served $served_p, secondary $served_s, all in both lease files;" \
  "DISCOVER burst secs 0: $split, ${B[as_predicted]}/$n as hashed; secondary SIGTERM -> primary $p_after;" \
  "$total failover messages"
echo PASS
