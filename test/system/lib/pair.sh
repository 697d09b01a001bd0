# shellcheck shell=bash source-path=SCRIPTDIR
# pair.sh — the failover pair bed: two DHCP servers on one client LAN, with a failover link of their
# own, and ISC dhcpd as either or both of them. Built on bed.sh (sourced here): bed_init, bed_add_ns,
# bed_veth, bed_spawn, capture_start and bed_down do the work. See README.md beside it.
#
#   PREFIX-p   lan 10.77.0.1/16 ─┐                      ┌─ cli (no address), cli1..N macvlans  PREFIX-c
#              hb  10.78.0.1/30  │   PREFIX-sw: br0     │
#               │ failover link  ├── ports p s c [rly] ─┤
#              hb  10.78.0.2/30  │   (the client LAN)   └─ lan 10.77.0.3/16  PREFIX-rly (pair_up … relay)
#   PREFIX-s   lan 10.77.0.2/16 ─┘                          rcl 10.79.0.1/24 ── cli (no address)  PREFIX-cr
#
# The LAN is a bridge in a namespace of its own (STP off: ports forward at once), so both servers see
# every broadcast of the clients, and a server can be cut from the LAN (`ip -n PREFIX-sw link set p
# down`) apart from the failover link (`pair_link down`). IPv6 is off everywhere.
# MACs are the same in every pair bed (nothing of a bed is ever seen outside its namespaces), so that
# which server a client's hash bucket belongs to is the same on every run: 02:77:00:00:SS:II on the
# LAN (SS 01 p, 02 s, 03 rly, 0c the clients; II 00 the veth, 1..N the macvlans), 02:77:00:f0:SS:00
# the switch's end of each port, 02:78:00:00:00:01/02 the failover link, 02:79:00:00:01:00 the relay's
# client side and 02:79:00:00:0c:II the clients behind it.

[ -n "${_PAIR_LOADED:-}" ] && return 0
_PAIR_LOADED=1

_PAIR_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bed.sh
. "$_PAIR_LIB/bed.sh"

# shellcheck disable=SC2034 # facts for the tests
PAIR_P_LAN=10.77.0.1 PAIR_S_LAN=10.77.0.2 PAIR_RLY_LAN=10.77.0.3 PAIR_NET=10.77.0.0/16
# shellcheck disable=SC2034
PAIR_P_HB=10.78.0.1 PAIR_S_HB=10.78.0.2 PAIR_HB_NET=10.78.0.0/30 PAIR_RLY_GW=10.79.0.1 PAIR_RLY_NET=10.79.0.0/24

# dhcpd's failover settings for pair_dhcpd_conf (the test timings of the failover research, §2).
: "${PAIR_FO_NAME:=dhcp_fail}"        # relationship name
: "${PAIR_FO_PORT:=519}"              # both servers listen and connect on it
: "${PAIR_MCLT:=60}"
: "${PAIR_MRD:=6}"                    # max-response-delay
: "${PAIR_MAX_UNACKED:=10}"           # max-unacked-updates
: "${PAIR_LBMS:=3}"                   # load balance max seconds
: "${PAIR_SPLIT:=128}"                # split (primary only): hash buckets 0..SPLIT-1 are the primary's
: "${PAIR_LEASE:=300}"                # default- and max-lease-time
: "${PAIR_RANGE:=10.77.0.100 10.77.0.199}"
: "${PAIR_RLY_RANGE:=10.79.0.100 10.79.0.149}"

# _pair_mac PREFIX BYTE2 LL SS [II] — 02:BYTE2:00:LL:SS:II (PREFIX unused: the same in every pair bed).
_pair_mac() { printf '02:%s:00:%s:%s:%02x\n' "$2" "$3" "$4" "${5:-0}"; }

# pair_mac PREFIX HOST [INDEX] — the MAC of a host's interface on the LAN: HOST p, s, rly, c (the client
# veth for INDEX 0, macvlan INDEX otherwise) or cr (behind the relay).
pair_mac() {
  case $2 in
    p) _pair_mac "$1" 77 00 01 ;;
    s) _pair_mac "$1" 77 00 02 ;;
    rly) _pair_mac "$1" 77 00 03 ;;
    c) _pair_mac "$1" 77 00 0c "${3:-0}" ;;
    cr) _pair_mac "$1" 79 00 0c "${3:-0}" ;;
    *) echo "pair_mac: host $2?" >&2; return 2 ;;
  esac
}

# pair_up PREFIX [relay] — build the pair bed (after removing any leftover with this PREFIX); with
# "relay", also PREFIX-rly and PREFIX-cr (the servers route 10.79.0.0/24 via 10.77.0.3; start the relay
# with pair_start_relay). Returns 0, or 1 (having removed what it built).
pair_up() {
  local p=$1 relay=${2:-} role
  bed_init "$p" || return $?
  local ns_p ns_s sw c rly cr
  ns_p=$(bed_ns "$p" p) ns_s=$(bed_ns "$p" s) sw=$(bed_ns "$p" sw) c=$(bed_ns "$p" c)
  rly=$(bed_ns "$p" rly) cr=$(bed_ns "$p" cr)
  for role in p s sw c ${relay:+rly cr}; do
    bed_add_ns "$p" "$role" || { echo "pair_up: namespace $role" >&2; bed_down "$p"; return 1; }
  done
  if ! { ip -n "$sw" link add br0 type bridge stp_state 0 && ip -n "$sw" link set br0 up &&
         _pair_port "$p" "$ns_p" lan 01 "$(pair_mac "$p" p)" &&
         _pair_port "$p" "$ns_s" lan 02 "$(pair_mac "$p" s)" &&
         _pair_port "$p" "$c" cli 0c "$(pair_mac "$p" c)" &&
         ip -n "$ns_p" addr add "$PAIR_P_LAN/16" dev lan && ip -n "$ns_s" addr add "$PAIR_S_LAN/16" dev lan &&
         bed_veth "$ns_p" hb "$(_pair_mac "$p" 78 00 00 1)" "$ns_s" hb "$(_pair_mac "$p" 78 00 00 2)" &&
         ip -n "$ns_p" addr add "$PAIR_P_HB/30" dev hb && ip -n "$ns_s" addr add "$PAIR_S_HB/30" dev hb &&
         bed_wait_carrier "$ns_p" lan hb && bed_wait_carrier "$ns_s" lan hb && bed_wait_carrier "$c" cli; }; then
    echo "pair_up: building pair bed '$p' failed" >&2
    bed_down "$p"
    return 1
  fi
  if [ -n "$relay" ]; then
    if ! { _pair_port "$p" "$rly" lan 03 "$(pair_mac "$p" rly)" &&
           ip -n "$rly" addr add "$PAIR_RLY_LAN/16" dev lan &&
           bed_veth "$rly" rcl "$(_pair_mac "$p" 79 00 01)" "$cr" cli "$(pair_mac "$p" cr)" &&
           ip -n "$rly" addr add "$PAIR_RLY_GW/24" dev rcl &&
           ip netns exec "$rly" sysctl -qw net.ipv4.ip_forward=1 >/dev/null &&
           ip -n "$ns_p" route add "$PAIR_RLY_NET" via "$PAIR_RLY_LAN" &&
           ip -n "$ns_s" route add "$PAIR_RLY_NET" via "$PAIR_RLY_LAN" &&
           bed_wait_carrier "$rly" lan rcl && bed_wait_carrier "$cr" cli; }; then
      echo "pair_up: building the relay of pair bed '$p' failed" >&2
      bed_down "$p"
      return 1
    fi
    : > "$(bed_dir "$p")/relay"
  fi
  return 0
}

# _pair_port PREFIX NS IFNAME SS MAC — a veth from NS (IFNAME, MAC) to a port of br0 in PREFIX-sw.
_pair_port() {
  local sw port
  sw=$(bed_ns "$1" sw) port=${2##*-}
  bed_veth "$2" "$3" "$5" "$sw" "$port" "$(_pair_mac "$1" 77 f0 "$4")" &&
    ip -n "$sw" link set "$port" master br0 && bed_wait_carrier "$sw" "$port"
}

# pair_down PREFIX — stop the bed's processes by PID and remove its namespaces (bed_down).
pair_down() { bed_down "$1"; }

# pair_test_begin NAME PREFIX — what every pair test starts with: P=PREFIX, a work folder WORK
# (/tmp/NAME.*), the bed's trap, and `fail MESSAGE`, which prints FAIL_CONTEXT and MESSAGE, then the
# last lines of each log named in FAIL_LOGS ("label:path" entries, paths below WORK; missing ones are
# skipped) and exits 1. The work folder is removed after a pass or a skip, kept after a failure or
# with KEEP_WORK=1.
pair_test_begin() {
  P=$2
  WORK=$(mktemp -d "/tmp/$1.XXXXXX") || exit 1
  failed='' FAIL_CONTEXT=${FAIL_CONTEXT:-} FAIL_LOGS=()
  bed_trap "$P"
}
bed_after_down() {
  if [ -z "${failed:-}" ] && { [ "$1" = 0 ] || [ "$1" = 77 ]; } && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$WORK"
  else echo "# logs, stores and captures kept in $WORK"; fi
}
fail() {
  local entry log
  failed=1
  echo "FAIL: ${FAIL_CONTEXT:+$FAIL_CONTEXT: }$*"
  for entry in "${FAIL_LOGS[@]}"; do
    log=$WORK/${entry#*:}
    [ -f "$log" ] && { echo "--- ${entry%%:*} (last lines)"; tail -n 15 "$log"; }
  done
  exit 1
}

# pair_real_clients PREFIX WORK N [-R] — the pair tests' real clients, one after the other: dhcrelay
# started, then udhcpc on macvlans cli1..cliN (with -R the last one keeps running and releases when
# stopped), dhclient on the client veth and dhclient behind the relay. Each leaves its lease in its own
# folder below WORK. Sets CLIENTS: "OUTDIR MAC NET HASH_KEY" per client (the hash key is what the
# failover hash is computed on: udhcpc's client id 01:MAC, dhclient's chaddr). Calls fail on an error.
pair_real_clients() {
  local p=$1 work=$2 n=$3 keep=${4:-} c cr i mac
  local -a ifs
  pair_start_relay "$p" || fail "dhcrelay did not start"
  c=$(bed_ns "$p" c) cr=$(bed_ns "$p" cr)
  mapfile -t ifs < <(pair_add_clients "$p" "$n")
  [ "${#ifs[@]}" = "$n" ] || fail "macvlan clients"
  CLIENTS=()
  for (( i = 1; i <= n; i++ )); do
    mac=$(pair_mac "$p" c "$i")
    if [ "$keep" = -R ] && [ "$i" = "$n" ]; then
      start_udhcpc "$c" "cli$i" "$work/u$i" -R || fail "udhcpc -R on cli$i got nothing: $(tail -n 3 "$work/u$i/log")"
    else
      run_udhcpc "$c" "cli$i" "$work/u$i" || fail "udhcpc on cli$i got nothing: $(tail -n 3 "$work/u$i/log")"
    fi
    CLIENTS+=("$work/u$i $mac $PAIR_NET 01:$mac")
  done
  run_dhclient "$c" cli "$work/d0" || fail "dhclient on the client veth got nothing: $(tail -n 3 "$work/d0/log")"
  CLIENTS+=("$work/d0 $(pair_mac "$p" c) $PAIR_NET $(pair_mac "$p" c)")
  run_dhclient "$cr" cli "$work/dr" || fail "dhclient behind the relay got nothing: $(tail -n 3 "$work/dr/log")"
  CLIENTS+=("$work/dr $(pair_mac "$p" cr) $PAIR_RLY_NET $(pair_mac "$p" cr)")
}

# pair_add_clients PREFIX N [c|cr] — macvlans cli1..cliN on the client veth of PREFIX-c (or of
# PREFIX-cr, behind the relay), MAC pair_mac PREFIX c|cr I, up, no address. Prints their names.
# Idempotent; N ≤ 250.
pair_add_clients() {
  local p=$1 n=$2 host=${3:-c} ns name i
  ns=$(bed_ns "$p" "$host")
  if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 250 ]; then
    echo "pair_add_clients: N must be 1..250" >&2; return 2
  fi
  for (( i = 1; i <= n; i++ )); do
    name=cli$i
    if ! ip -n "$ns" link show "$name" >/dev/null 2>&1; then
      ip -n "$ns" link add link cli name "$name" address "$(pair_mac "$p" "$host" "$i")" type macvlan mode bridge &&
        ip -n "$ns" link set "$name" up || return 1
    fi
    echo "$name"
  done
}

# pair_link PREFIX up|down — the failover link (both ends): a partition of the two servers, the LAN
# untouched.
pair_link() {
  ip -n "$(bed_ns "$1" p)" link set hb "$2" && ip -n "$(bed_ns "$1" s)" link set hb "$2" || return 1
  [ "$2" = down ] || { bed_wait_carrier "$(bed_ns "$1" p)" hb && bed_wait_carrier "$(bed_ns "$1" s)" hb; }
}

# pair_start_relay PREFIX [EXTRA_DHCRELAY_ARGS...] — ISC dhcrelay in PREFIX-rly: clients on rcl
# (giaddr 10.79.0.1), forwarding to both servers over lan. Needs pair_up … relay. Sets BED_PID;
# log $(bed_dir PREFIX)/dhcrelay.log; waits (≤ 5 s) until it listens.
pair_start_relay() {
  local p=$1 dir log
  shift
  dir=$(bed_dir "$p")
  [ -e "$dir/relay" ] || { echo "pair_start_relay: pair bed '$p' has no relay (pair_up $p relay)" >&2; return 2; }
  log=$dir/dhcrelay.log
  bed_spawn "$p" "$(bed_ns "$p" rly)" dhcrelay "$log" -- \
    dhcrelay -d -4 -pf "$dir/dhcrelay.pid" -iu lan -id rcl "$@" "$PAIR_P_LAN" "$PAIR_S_LAN" || return 1
  bed_wait_for 5 grep -q '^Sending on' "$log" && return 0
  echo "pair_start_relay: dhcrelay did not start; its log:" >&2
  cat "$log" >&2
  return 1
}

# pair_dhcpd_conf PREFIX primary|secondary — print a dhcpd.conf for that side of the pair: one
# failover peer (PAIR_FO_* and the timings above), the LAN's subnet with one failover pool
# (PAIR_RANGE), and, when the bed has a relay, the relayed subnet with another (PAIR_RLY_RANGE).
pair_dhcpd_conf() {
  local role=$2 me peer extra=''
  case $role in
    primary) me=$PAIR_P_HB peer=$PAIR_S_HB extra="
  mclt $PAIR_MCLT;
  split $PAIR_SPLIT;" ;;
    secondary) me=$PAIR_S_HB peer=$PAIR_P_HB ;;
    *) echo "pair_dhcpd_conf: role $role?" >&2; return 2 ;;
  esac
  cat <<EOF
# dhcpd.conf for the $role of failover pair "$PAIR_FO_NAME" (test/system/lib/pair.sh)
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time $PAIR_LEASE;
max-lease-time $PAIR_LEASE;
failover peer "$PAIR_FO_NAME" {
  $role;
  address $me;
  port $PAIR_FO_PORT;
  peer address $peer;
  peer port $PAIR_FO_PORT;
  max-response-delay $PAIR_MRD;
  max-unacked-updates $PAIR_MAX_UNACKED;
  load balance max seconds $PAIR_LBMS;$extra
}
subnet ${PAIR_NET%/*} netmask 255.255.0.0 {
  pool {
    failover peer "$PAIR_FO_NAME";
    deny dynamic bootp clients;
    range $PAIR_RANGE;
  }
}
EOF
  [ -e "$(bed_dir "$1")/relay" ] && cat <<EOF
subnet ${PAIR_RLY_NET%/*} netmask 255.255.255.0 {
  option routers $PAIR_RLY_GW;
  pool {
    failover peer "$PAIR_FO_NAME";
    deny dynamic bootp clients;
    range $PAIR_RLY_RANGE;
  }
}
EOF
  return 0
}

# pair_dhcpd_start PREFIX primary|secondary DIR — ISC dhcpd in PREFIX-p (primary) or PREFIX-s
# (secondary), in the foreground (-f -d: it never daemonises, logs to DIR/dhcpd.log), serving the LAN
# interface only: `dhcpd -4 -f -d -cf DIR/dhcpd.conf -lf DIR/dhcpd.leases -pf DIR/dhcpd.pid lan`.
# DIR/dhcpd.conf is written by pair_dhcpd_conf unless the test put one there; it is checked with
# `dhcpd -t` first. DIR/dhcpd.leases is created if missing (dhcpd needs it). DIR/started gets the
# start time (date +%s.%N). Sets BED_PID (stop it with bed_stop PREFIX PID) and PAIR_DHCPD_PID (the
# same); waits (≤ 10 s) for "Server starting service." Returns 1 (log shown) if it did not start.
pair_dhcpd_start() {
  local p=$1 role=$2 dir=$3 ns
  case $role in primary) ns=$(bed_ns "$p" p) ;; secondary) ns=$(bed_ns "$p" s) ;;
    *) echo "pair_dhcpd_start: role $role?" >&2; return 2 ;; esac
  mkdir -p "$dir" || return 1
  [ -e "$dir/dhcpd.conf" ] || pair_dhcpd_conf "$p" "$role" > "$dir/dhcpd.conf" || return 1
  [ -e "$dir/dhcpd.leases" ] || : > "$dir/dhcpd.leases"
  if ! dhcpd -4 -t -q -cf "$dir/dhcpd.conf" > "$dir/dhcpd-t.log" 2>&1; then
    echo "pair_dhcpd_start: dhcpd -t rejects $dir/dhcpd.conf:" >&2
    cat "$dir/dhcpd-t.log" >&2
    return 1
  fi
  date +%s.%N > "$dir/started"
  bed_spawn "$p" "$ns" "dhcpd-$role" "$dir/dhcpd.log" -- \
    dhcpd -4 -f -d -cf "$dir/dhcpd.conf" -lf "$dir/dhcpd.leases" -pf "$dir/dhcpd.pid" lan || return 1
  # shellcheck disable=SC2034 # for the caller
  PAIR_DHCPD_PID=$BED_PID
  bed_wait_for 10 grep -q '^Server starting service' "$dir/dhcpd.log" && return 0
  echo "pair_dhcpd_start: dhcpd ($role) did not start; its log:" >&2
  tail -n 20 "$dir/dhcpd.log" >&2
  return 1
}

# pair_wait_log LOG SECONDS ERE — wait (bounded) until a line of LOG matches ERE.
pair_wait_log() { bed_wait_for "$2" grep -Eq -- "$3" "$1"; }

# pair_wait_state LOG STATE SECONDS — wait until dhcpd's LOG says "failover peer NAME: I move from X
# to STATE" (STATE: normal, recover-done, communications-interrupted, partner-down, …).
pair_wait_state() { pair_wait_log "$1" "$3" "failover peer [^:]+: I move from [^ ]+ to $2\$"; }

# pair_wait_normal LOG SECONDS — wait until dhcpd's LOG says "failover peer NAME: Both servers normal".
pair_wait_normal() { pair_wait_log "$1" "$2" 'failover peer [^:]+: Both servers normal'; }

# pair_states LOG — dhcpd's own states in order, from its "I move from X to Y" lines: "X Y Z …".
pair_states() {
  awk '/failover peer [^:]+: I move from / { if (!n++) printf "%s", $(NF-2); printf " %s", $NF }
       END { if (n) print "" }' "$1"
}

# pair_leases FILE — one line per address of a dhcpd.leases (its last lease block, as dhcpd reads the
# file), sorted by address: "IP BINDING_STATE HWADDR|- ENDS|-" (ENDS as written, "2024/05/01-12:00:00",
# UTC; "never" kept as is).
pair_leases() {
  awk '
    /^lease [0-9.]+ \{/ { ip = $2; st = "-"; hw = "-"; ends = "-"; inl = 1; next }
    inl && /^  binding state / { st = $3; sub(/;$/, "", st); next }
    inl && /^  hardware ethernet / { hw = $3; sub(/;$/, "", hw); next }
    inl && /^  ends / { if ($2 == "never;") ends = "never"; else { ends = $3 "-" $4; sub(/;$/, "", ends) } next }
    inl && /^\}/ { rec[ip] = ip " " st " " hw " " ends; inl = 0; next }
    END { for (ip in rec) print rec[ip] }' "$1" | sort -t . -k 1,1n -k 2,2n -k 3,3n -k 4,4n
}

# pair_fo_state FILE — the last failover state block of a dhcpd.leases: "MY_STATE PARTNER_STATE"
# ("-" for one not written).
pair_fo_state() {
  awk '
    /^failover peer ".*" state \{/ { my = "-"; partner = "-"; next }
    /^  my state / { my = $3 }
    /^  partner state / { partner = $3 }
    END { if (my == "") my = "-"; if (partner == "") partner = "-"; print my, partner }' "$1"
}

# pair_capture_hb PREFIX PCAP [SECONDS] — capture the failover link (tcp port PAIR_FO_PORT on hb in
# PREFIX-p) to PCAP, for at most SECONDS (default 300: the capture's own lifetime). Sets CAPTURE_PID;
# stop it with capture_stop PREFIX "$CAPTURE_PID". Read it with failover-pcap.py beside this file.
pair_capture_hb() {
  BED_LIFETIME=${3:-300} capture_start "$1" "$(bed_ns "$1" p)" hb "$2" tcp port "$PAIR_FO_PORT"
}

# pair_burst PREFIX DIR NAME ARGS… — discover-burst.py (beside this file) from PREFIX-c's client veth,
# with the bed's servers and split, logging to DIR/burst-NAME.log and writing a line per DISCOVER to
# DIR/burst-NAME.txt; ARGS are its own (--count, --secs, --first, …). Sets B (an associative array):
# its summary, key=value. Returns 1 when it printed none (see the log).
pair_burst() {
  local p=$1 dir=$2 name=$3 kv
  shift 3
  bed_run "$p" "$(bed_ns "$p" c)" "discover-burst-$name" "$dir/burst-$name.log" 60 -- /usr/bin/python3 \
    "$_PAIR_LIB/discover-burst.py" --iface cli --split "$PAIR_SPLIT" --primary "$PAIR_P_LAN" \
    --secondary "$PAIR_S_LAN" --out "$dir/burst-$name.txt" "$@"
  declare -gA B=()
  for kv in $(tail -n 1 "$dir/burst-$name.log"); do B[${kv%%=*}]=${kv#*=}; done
  [ -n "${B[count]:-}" ]
}

# ---- joind as either side of the pair -------------------------------------------------------------
# joind's configuration equivalent to pair_dhcpd_conf's (the same relationship, port, timings, lease
# time and ranges), joind started in the bed, its failover state through `joind ctl failover --json`
# (the failover engine of issue 13), its store read as a dhcpd.leases (`joind export`), and one set of
# pair_server_* helpers that take either kind of server, so a test runs the same checks on any pair.

PAIR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
: "${PAIR_JOIND_DIST:=${JOIND_DIST:-$PAIR_ROOT/dist}}"
: "${PAIR_JOIND_START_WAIT:=15}"     # seconds for JOIND_STARTED

# pair_joind_cli ARGS… — the joind command line (node dist/src/cli/main.js ARGS…), bounded to 30 s.
pair_joind_cli() { timeout -k 2 30 node "$PAIR_JOIND_DIST/src/cli/main.js" "$@"; }

# pair_joind_engine — true when this joind has the failover engine: `joind ctl failover` exists
# (ctl's own help is printed, with status 0, for a subcommand it does not know, so look at the usage).
pair_joind_engine() {
  pair_joind_cli ctl failover --help 2>&1 | grep -q '^Usage: joind ctl failover'
}

# pair_joind_conf PREFIX primary|secondary DIR — write a joind configuration directory DIR (server.pcy,
# nets, netmasks, dhcpcap) for that side of the pair, equivalent to pair_dhcpd_conf's dhcpd.conf: the
# relationship PAIR_FO_NAME on port PAIR_FO_PORT of the hb addresses, PAIR_MRD, PAIR_MAX_UNACKED,
# PAIR_LBMS, and on the primary PAIR_MCLT and PAIR_SPLIT; lease time PAIR_LEASE; no ping check (dhcpd:
# ping-check false), no naming; the LAN's range PAIR_RANGE owned in nets by the relationship and, when
# the bed has a relay, PAIR_RLY_RANGE of the relayed subnet (router PAIR_RLY_GW). PAIR_JOIND_PCY_EXTRA:
# more server.pcy lines. Then checks it (`joind --check --config-dir DIR`, JSON kept in DIR/check.json,
# warnings in DIR/check.err). Returns 1 (the problems shown) if joind refuses it.
pair_joind_conf() {
  local p=$1 role=$2 dir=$3 me peer extra='' relay=''
  case $role in
    primary) me=$PAIR_P_HB peer=$PAIR_S_HB extra="failover_mclt                  $PAIR_MCLT
failover_split                 $PAIR_SPLIT" ;;
    secondary) me=$PAIR_S_HB peer=$PAIR_P_HB ;;
    *) echo "pair_joind_conf: role $role?" >&2; return 2 ;;
  esac
  [ -e "$(bed_dir "$p")/relay" ] && relay=1
  mkdir -p "$dir" || return 1
  local first last rfirst rlast
  read -r first last <<< "$PAIR_RANGE"
  read -r rfirst rlast <<< "$PAIR_RLY_RANGE"
  cat > "$dir/server.pcy" <<EOP
# server.pcy for the $role of failover pair "$PAIR_FO_NAME" (test/system/lib/pair.sh), the same as
# pair_dhcpd_conf's dhcpd.conf.
default_ttl                    $PAIR_LEASE
ping_timeout                   0
assign_name_by_ipaddr          off
failover                       $PAIR_FO_NAME
failover_role                  $role
failover_address               $me
failover_port                  $PAIR_FO_PORT
failover_peer_address          $peer
failover_peer_port             $PAIR_FO_PORT
failover_max_response_delay    $PAIR_MRD
failover_max_unacked_updates   $PAIR_MAX_UNACKED
failover_load_balance_max_secs $PAIR_LBMS
$extra
${PAIR_JOIND_PCY_EXTRA:-}
EOP
  {
    echo "# the pair's ranges belong to the relationship; both units read the same file"
    echo "${PAIR_NET%/*} $PAIR_FO_NAME $first-$last"
    [ -z "$relay" ] || echo "${PAIR_RLY_NET%/*} $PAIR_FO_NAME $rfirst-$rlast"
  } > "$dir/nets"
  {
    echo "${PAIR_NET%/*} 255.255.0.0"
    [ -z "$relay" ] || echo "${PAIR_RLY_NET%/*} 255.255.255.0"
  } > "$dir/netmasks"
  {
    echo "pair-lan:nw=${PAIR_NET%/*}:sm=255.255.0.0:lt=$PAIR_LEASE:"
    [ -z "$relay" ] || echo "pair-relayed:nw=${PAIR_RLY_NET%/*}:sm=255.255.255.0:gw=$PAIR_RLY_GW:lt=$PAIR_LEASE:"
  } > "$dir/dhcpcap"
  if ! pair_joind_cli --check --config-dir "$dir" > "$dir/check.json" 2> "$dir/check.err"; then
    echo "pair_joind_conf: joind --check refuses $dir:" >&2
    cat "$dir/check.err" >&2
    return 1
  fi
  return 0
}

# pair_joind_start PREFIX primary|secondary DIR — joind in PREFIX-p (primary) or PREFIX-s (secondary),
# in the foreground (`-f -l 2`, JSON lines to DIR/joind.log), serving the LAN interface only (`-i lan`),
# configuration DIR (written by pair_joind_conf unless DIR/server.pcy exists; checked either way), spool
# DIR/spool (created). DIR/started gets the start time (date +%s.%N). Sets BED_PID and PAIR_JOIND_PID
# (the same; stop it with bed_stop PREFIX PID); waits (≤ PAIR_JOIND_START_WAIT, 15 s) for JOIND_STARTED.
# PAIR_JOIND_ENV: NAME=VALUE words (no spaces inside) put in node's environment through env(1), e.g.
# libfaketime's LD_PRELOAD and FAKETIME for a server whose clock is off. Returns 1 (log shown) if it did
# not start.
pair_joind_start() {
  local p=$1 role=$2 dir=$3 ns
  local -a envs=()
  case $role in primary) ns=$(bed_ns "$p" p) ;; secondary) ns=$(bed_ns "$p" s) ;;
    *) echo "pair_joind_start: role $role?" >&2; return 2 ;; esac
  read -ra envs <<< "${PAIR_JOIND_ENV:-}"
  mkdir -p "$dir/spool" || return 1
  if [ -e "$dir/server.pcy" ]; then
    pair_joind_cli --check --config-dir "$dir" > "$dir/check.json" 2> "$dir/check.err" || {
      echo "pair_joind_start: joind --check refuses $dir:" >&2; cat "$dir/check.err" >&2; return 1; }
  else
    pair_joind_conf "$p" "$role" "$dir" || return 1
  fi
  date +%s.%N > "$dir/started"
  bed_spawn "$p" "$ns" "joind-$role" "$dir/joind.log" -- env "${envs[@]}" \
    node "$PAIR_JOIND_DIST/src/cli/main.js" -f -l 2 -i lan --config-dir "$dir" --spool-dir "$dir/spool" || return 1
  # shellcheck disable=SC2034 # for the caller
  PAIR_JOIND_PID=$BED_PID
  bed_wait_for "$PAIR_JOIND_START_WAIT" grep -q '"msgId":"JOIND_STARTED"' "$dir/joind.log" && return 0
  echo "pair_joind_start: joind ($role) did not start; its log:" >&2
  tail -n 20 "$dir/joind.log" >&2
  return 1
}

# pair_joind_failover SPOOL [FIELD…] — `joind ctl failover --json` of the joind whose spool is SPOOL
# (its control socket; from any namespace). Without FIELDs: the object on one line; with FIELDs:
# their values, space-separated ("-" for one absent), e.g. pair_joind_failover S state partnerState.
# Returns 1 when joind does not answer (or has no failover engine).
pair_joind_failover() {
  local spool=$1 out
  shift
  out=$(pair_joind_cli ctl failover --json --spool-dir "$spool" 2>/dev/null) || return 1
  /usr/bin/python3 -c '
import json, sys
o = json.loads(sys.argv[1])
if not isinstance(o, dict): sys.exit(1)
if len(sys.argv) == 2: print(json.dumps(o, separators=(",", ":")))
else: print(" ".join("-" if o.get(k) is None else str(o[k]) for k in sys.argv[2:]))' "$out" "$@"
}

# pair_joind_is_normal SPOOL — true when joind says state normal and partnerState normal.
pair_joind_is_normal() { [ "$(pair_joind_failover "$1" state partnerState)" = "normal normal" ]; }

# pair_joind_wait_normal SPOOL SECONDS — poll pair_joind_is_normal (every 0.2 s; each call is a node
# start, about 0.3 s) until it holds or SECONDS of wall time have passed. PAIR_JOIND_LAST: the last
# answer (pair_joind_failover's line), for the failure message.
pair_joind_wait_normal() {
  local spool=$1 end=$(( SECONDS + $2 )) i
  PAIR_JOIND_LAST=''
  for (( i = 0; i < 1000 && SECONDS <= end; i++ )); do
    PAIR_JOIND_LAST=$(pair_joind_failover "$spool" 2>/dev/null) || PAIR_JOIND_LAST='(no answer)'
    [[ "$PAIR_JOIND_LAST" == *'"state":"normal"'* && "$PAIR_JOIND_LAST" == *'"partnerState":"normal"'* ]] && return 0
    sleep 0.2
  done
  return 1
}

# pair_now — seconds since 1970 with nanoseconds; pair_since START — seconds since START, 2 decimals;
# pair_gone PID — the process has ended. Small, but every failover test measures and waits with them.
pair_now() { date +%s.%N; }
pair_since() { awk -v a="$1" -v b="$(pair_now)" 'BEGIN { printf "%.2f", b - a }'; }
pair_gone() { ! kill -0 "$1" 2>/dev/null; }

# pair_joind_wait_own SPOOL STATE SECONDS — until the joind of SPOOL is itself in STATE (`ctl failover`),
# polled every 0.1 s, bounded by SECONDS and by a count.
pair_joind_wait_own() {
  local end=$(( SECONDS + $3 )) i
  for (( i = 0; i < 600 && SECONDS <= end; i++ )); do
    [[ "$(pair_joind_failover "$1" state partnerState 2>/dev/null)" == "$2 "* ]] && return 0
    sleep 0.1
  done
  return 1
}

# pair_joind_wait_quiet SPOOL [BACKUP] — until joind's `ctl failover` shows no update queued or
# unacknowledged (and, with BACKUP, that many backup addresses: the pools balanced), polled every 0.1 s
# for at most 10 s. PAIR_JOIND_LAST: the last answer, for the failure message.
pair_joind_wait_quiet() {
  local spool=$1 want="0 0" fields=(unackedUpdates queuedUpdates) i
  [ -n "${2:-}" ] && { want="$2 0 0"; fields=(backup "${fields[@]}"); }
  for (( i = 0; i < 100; i++ )); do
    [ "$(pair_joind_failover "$spool" "${fields[@]}")" = "$want" ] && return 0
    sleep 0.1
  done
  PAIR_JOIND_LAST=$(pair_joind_failover "$spool")
  return 1
}

# pair_joind_states LOG — joind's own failover states in order, from its FAILOVER_STATE lines: the
# first "from", then each "to" ("startup recover recover-done normal …"), like pair_states for dhcpd.
pair_joind_states() {
  grep '"msgId":"FAILOVER_STATE"' "$1" 2>/dev/null | /usr/bin/python3 -c '
import json, sys
out = []
for line in sys.stdin:
    try: o = json.loads(line)
    except ValueError: continue
    if not out: out.append(str(o.get("from", "-")))
    out.append(str(o.get("to", "-")))
print(" ".join(out))'
}

# pair_joind_in_state LOG STATE — true once LOG has a FAILOVER_STATE line with "to":"STATE".
pair_joind_in_state() { grep '"msgId":"FAILOVER_STATE"' "$1" 2>/dev/null | grep -q "\"to\":\"$2\""; }

# pair_joind_wait_state LOG STATE SECONDS — wait (bounded) for pair_joind_in_state.
pair_joind_wait_state() { bed_wait_for "$3" pair_joind_in_state "$1" "$2"; }

# pair_joind_leases SPOOL [FILE] — joind's store as a dhcpd.leases (`joind export --spool-dir SPOOL
# --format dhcpd-leases`), to FILE (default: standard output); read it with pair_leases.
pair_joind_leases() {
  if [ -n "${2:-}" ]; then pair_joind_cli export --spool-dir "$1" --format dhcpd-leases -o "$2"
  else pair_joind_cli export --spool-dir "$1" --format dhcpd-leases; fi
}

# pair_joind_export_check PREFIX primary|secondary DIR — `joind export --format dhcpd-conf` of the
# joind configuration DIR, written to DIR/exported-dhcpd.conf, must pass `dhcpd -t`, hold the `failover
# peer "PAIR_FO_NAME"` block and a pool naming it, and say in that block and in its ranges what
# pair_dhcpd_conf says for the same side (statements compared as sets). Returns 1 (saying why) if not.
pair_joind_export_check() {
  local p=$1 role=$2 dir=$3 out want got
  out=$dir/exported-dhcpd.conf
  pair_joind_cli export --config-dir "$dir" --format dhcpd-conf -o "$out" 2> "$dir/export.err" || {
    echo "pair_joind_export_check: joind export --format dhcpd-conf failed:" >&2; cat "$dir/export.err" >&2; return 1; }
  if ! dhcpd -4 -t -q -cf "$out" > "$dir/exported-dhcpd-t.log" 2>&1; then
    echo "pair_joind_export_check: dhcpd -t rejects $out:" >&2
    cat "$dir/exported-dhcpd-t.log" >&2
    return 1
  fi
  if ! grep -q "^failover peer \"$PAIR_FO_NAME\" {" "$out" || ! grep -q "^ *failover peer \"$PAIR_FO_NAME\";" "$out"; then
    echo "pair_joind_export_check: $out has no failover peer \"$PAIR_FO_NAME\" block and pool" >&2
    return 1
  fi
  want=$(pair_dhcpd_conf "$p" "$role" | _pair_fo_statements) got=$(_pair_fo_statements < "$out")
  [ "$want" = "$got" ] && return 0
  echo "pair_joind_export_check: the exported failover statements differ from pair_dhcpd_conf's ($role):" >&2
  diff <(echo "$want") <(echo "$got") >&2
  return 1
}

# _pair_fo_statements — from a dhcpd.conf on stdin: the statements of the failover peer block (as
# "peer: …") and the ranges and failover peer lines of the pools (as "pool: …"), sorted.
_pair_fo_statements() {
  awk '
    /^failover peer "[^"]*" \{/ { inpeer = 1; print "peer-block: " $3; next }
    inpeer && /^\}/ { inpeer = 0; next }
    inpeer { $1 = $1; print "peer: " $0; next }
    /^ *pool \{/ { inpool = 1; next }
    inpool && /^ *\}/ { inpool = 0; next }
    inpool && /(range|failover peer|deny dynamic bootp)/ { $1 = $1; print "pool: " $0 }' | sort
}

# ---- either kind of server: pair_server_* KIND … (KIND dhcpd or joind) ------------------------------

# pair_server_start PREFIX KIND primary|secondary DIR — pair_dhcpd_start or pair_joind_start. Sets
# PAIR_SERVER_PID (and BED_PID).
# shellcheck disable=SC2034 # PAIR_SERVER_PID is for the caller
pair_server_start() {
  case $2 in
    dhcpd) pair_dhcpd_start "$1" "$3" "$4" || return 1; PAIR_SERVER_PID=$PAIR_DHCPD_PID ;;
    joind) pair_joind_start "$1" "$3" "$4" || return 1; PAIR_SERVER_PID=$PAIR_JOIND_PID ;;
    *) echo "pair_server_start: kind $2?" >&2; return 2 ;;
  esac
}

# pair_server_log KIND DIR — the server's log file.
pair_server_log() { case $1 in dhcpd) echo "$2/dhcpd.log" ;; *) echo "$2/joind.log" ;; esac; }

# pair_server_normal KIND DIR — true once the server's log says it is normal with its partner: dhcpd
# "Both servers normal", joind a FAILOVER_STATE line to normal.
pair_server_normal() {
  case $1 in
    dhcpd) grep -q 'failover peer [^:]*: Both servers normal' "$2/dhcpd.log" 2>/dev/null ;;
    joind) pair_joind_in_state "$2/joind.log" normal ;;
    *) return 2 ;;
  esac
}

# pair_server_states KIND DIR — the server's own states in order (pair_states, pair_joind_states).
pair_server_states() {
  case $1 in dhcpd) pair_states "$2/dhcpd.log" ;; joind) pair_joind_states "$2/joind.log" ;; *) return 2 ;; esac
}

# pair_server_leases KIND DIR — pair_leases of the server's store: dhcpd.leases, or joind's export
# (written to DIR/export.leases first).
pair_server_leases() {
  case $1 in
    dhcpd) pair_leases "$2/dhcpd.leases" ;;
    joind) pair_joind_leases "$2/spool" "$2/export.leases" && pair_leases "$2/export.leases" ;;
    *) return 2 ;;
  esac
}

# pair_ends_seconds ENDS — seconds since 1970 of pair_leases' ENDS ("2026/12/04-19:05:08", UTC);
# "never" and "-" print as themselves.
pair_ends_seconds() {
  case $1 in never|-) echo "$1" ;; *) date -u -d "${1/-/ }" +%s ;; esac
}
