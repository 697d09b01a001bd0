# shellcheck shell=bash source-path=SCRIPTDIR
# bed.sh — the network-namespace test bed for joind's system tests, demo lab and benchmarks.
# Source this one file: it loads procs.sh, need.sh, clients.sh and capture.sh too. See README.md beside it.
#
#   SRV (PREFIX-srv) a-srv 10.77.1.1/24 ── link A ── a-cli (no address)   CLA (PREFIX-cla)
#                    b-srv 10.77.2.1/24 ── link B ── b-cli (no address)   CLB (PREFIX-clb)
#                    r-srv 10.77.9.1/24 ── link R ── r-rly 10.77.9.2/24   RLY (PREFIX-rly)
#                                                    c-rly 10.77.3.1/24 ── link C ── c-cli  CLC (PREFIX-clc)
#   SRV routes 10.77.3.0/24 via 10.77.9.2; RLY forwards IPv4 (so relayed clients can renew by unicast).
#
# Every veth is created directly inside its namespaces (`ip -n NS link add … peer … netns NS2`), so
# no interface ever exists in the root namespace and interface names need no prefix. Namespace names
# are PREFIX-ROLE; MACs are 02:77:PP:LL:SS:II with PP a byte hashed from PREFIX, LL the link (01 A,
# 02 B, 09 R, 03 C: the subnet's third octet), SS 01 for the end holding x.x.x.1 and 02 for the other
# end, II 00 for the veth and 1..N for the macvlans of bed_add_clients.

[ -n "${_BED_LOADED:-}" ] && return 0
_BED_LOADED=1

BED_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=procs.sh
. "$BED_LIB_DIR/procs.sh"
# shellcheck source=need.sh
. "$BED_LIB_DIR/need.sh"

# Addresses of the bed (read-only facts tests can use).
# shellcheck disable=SC2034
BED_SRV_A=10.77.1.1 BED_SRV_B=10.77.2.1 BED_SRV_R=10.77.9.1 BED_RLY_R=10.77.9.2 BED_RLY_C=10.77.3.1
# shellcheck disable=SC2034
BED_NET_A=10.77.1.0/24 BED_NET_B=10.77.2.0/24 BED_NET_R=10.77.9.0/24 BED_NET_C=10.77.3.0/24

# bed_ns PREFIX ROLE — print the namespace name of ROLE (srv, cla, clb, rly, clc, or any extra role).
bed_ns() { printf '%s-%s\n' "$1" "$2"; }

# _bed_check_prefix PREFIX — a lowercase letter then up to 9 letters/digits. No '-', so that
# "PREFIX-ROLE" can never be mistaken for another bed's namespace.
_bed_check_prefix() {
  [[ "${1:-}" =~ ^[a-z][a-z0-9]{0,9}$ ]] && return 0
  echo "bed: bad prefix '${1:-}' (want [a-z][a-z0-9]{0,9})" >&2
  return 2
}

# _bed_prefix_byte PREFIX — two hex digits derived from PREFIX (for MACs).
_bed_prefix_byte() {
  local sum
  sum=$(printf '%s' "$1" | cksum)
  printf '%02x\n' $(( ${sum%% *} & 255 ))
}

# bed_mac PREFIX LINK SIDE [INDEX] — print a MAC. LINK: a|b|r|c; SIDE: 1 (x.x.x.1 end) or 2;
# INDEX: 0 = the veth end (default), 1..250 = macvlan N on that end.
bed_mac() {
  local link
  case $2 in a) link=01 ;; b) link=02 ;; r) link=09 ;; c) link=03 ;; *) echo "bed_mac: link $2?" >&2; return 2 ;; esac
  printf '02:77:%s:%s:%02x:%02x\n' "$(_bed_prefix_byte "$1")" "$link" "$3" "${4:-0}"
}

# _bed_client_link NS_OR_ROLE — print the link letter whose client end lives in that namespace.
_bed_client_link() {
  case ${1##*-} in cla) echo a ;; clb) echo b ;; clc) echo c ;; *) return 1 ;; esac
}

# bed_client_if NS_OR_ROLE [INDEX] — print the client interface name: the veth end for INDEX 0
# (default: a-cli, b-cli, c-cli), macvlan INDEX otherwise (a-cli1, a-cli2, …).
bed_client_if() {
  local link
  link=$(_bed_client_link "$1") || { echo "bed_client_if: $1 is not a client namespace" >&2; return 2; }
  if [ "${2:-0}" = 0 ]; then echo "$link-cli"; else echo "$link-cli$2"; fi
}

# bed_client_mac PREFIX NS_OR_ROLE [INDEX] — print the MAC of bed_client_if's interface.
bed_client_mac() {
  local link
  link=$(_bed_client_link "$2") || { echo "bed_client_mac: $2 is not a client namespace" >&2; return 2; }
  bed_mac "$1" "$link" 2 "${3:-0}"
}

# bed_veth NS1 IF1 MAC1 NS2 IF2 MAC2 — one veth pair born inside its two namespaces (nothing ever
# appears in the root namespace), both ends up. For topologies of a test's own (pair.sh).
bed_veth() {
  ip -n "$1" link add "$2" address "$3" type veth peer name "$5" address "$6" netns "$4" || return 1
  ip -n "$1" link set "$2" up && ip -n "$4" link set "$5" up
}

# _bed_veth PREFIX LINK NS1 IF1 NS2 IF2 — one of the bed's veth pairs, MACs from bed_mac.
_bed_veth() {
  bed_veth "$3" "$4" "$(bed_mac "$1" "$2" 1)" "$5" "$6" "$(bed_mac "$1" "$2" 2)"
}

# bed_init PREFIX — an empty bed: removes any leftover of an earlier bed with this PREFIX, then makes
# its state folder and process file, so that bed_add_ns, bed_spawn, capture_start and bed_down work on
# it. bed_up starts with it; other topologies (pair.sh) build their namespaces on it.
bed_init() {
  local dir
  _bed_check_prefix "$1" || return 2
  bed_down "$1" >/dev/null 2>&1
  dir=$(bed_dir "$1")
  mkdir -p "$dir" && chmod 700 "$dir" && : > "$dir/procs" || return 1
}

# bed_up PREFIX — build the bed (after removing any leftover of an earlier bed with this PREFIX).
bed_up() {
  local p=$1 role ns
  bed_init "$p" || return $?
  for role in srv cla clb rly clc; do
    ns=$(bed_ns "$p" "$role")
    ip netns add "$ns" || { bed_down "$p"; return 1; }
    ip -n "$ns" link set lo up
    # IPv6 off: no router solicitations or DAD in the captures, and nothing this bed needs.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null
  done
  local srv cla clb rly clc
  srv=$(bed_ns "$p" srv) cla=$(bed_ns "$p" cla) clb=$(bed_ns "$p" clb) rly=$(bed_ns "$p" rly) clc=$(bed_ns "$p" clc)
  if ! { _bed_veth "$p" a "$srv" a-srv "$cla" a-cli &&
         _bed_veth "$p" b "$srv" b-srv "$clb" b-cli &&
         _bed_veth "$p" r "$srv" r-srv "$rly" r-rly &&
         _bed_veth "$p" c "$rly" c-rly "$clc" c-cli &&
         ip -n "$srv" addr add "$BED_SRV_A/24" dev a-srv &&
         ip -n "$srv" addr add "$BED_SRV_B/24" dev b-srv &&
         ip -n "$srv" addr add "$BED_SRV_R/24" dev r-srv &&
         ip -n "$rly" addr add "$BED_RLY_R/24" dev r-rly &&
         ip -n "$rly" addr add "$BED_RLY_C/24" dev c-rly &&
         ip -n "$srv" route add "$BED_NET_C" via "$BED_RLY_R" &&
         ip netns exec "$rly" sysctl -qw net.ipv4.ip_forward=1 >/dev/null &&
         bed_wait_carrier "$srv" a-srv b-srv r-srv && bed_wait_carrier "$rly" r-rly c-rly &&
         bed_wait_carrier "$cla" a-cli && bed_wait_carrier "$clb" b-cli && bed_wait_carrier "$clc" c-cli; }; then
    echo "bed_up: building bed '$p' failed" >&2
    bed_down "$p"
    return 1
  fi
  return 0
}

# bed_wait_carrier NS IF... — wait (≤ 3 s each) until each interface is "UP" (operstate): a veth's
# carrier comes up a moment after `link set up`, and a client started before that loses its first
# DISCOVER.
bed_wait_carrier() {
  local ns=$1 ifc
  shift
  for ifc in "$@"; do
    bed_wait_for 3 _bed_if_up "$ns" "$ifc" || { echo "bed: $ns/$ifc has no carrier" >&2; return 1; }
  done
}

_bed_if_up() { [[ "$(ip -n "$1" -br link show dev "$2" 2>/dev/null)" =~ ^[^\ ]+\ +UP ]]; }

# bed_add_clients PREFIX NS_OR_ROLE N — add macvlans 1..N (skipping those that exist) on the client
# end of that namespace's link, each with its own MAC (bed_client_mac PREFIX NS I), up, no address.
# Prints the N interface names, one a line.
bed_add_clients() {
  local p=$1 ns parent name i
  ns=$(bed_ns "$p" "${2##*-}")
  parent=$(bed_client_if "$2") || return 2
  if ! [[ "$3" =~ ^[0-9]+$ ]] || [ "$3" -lt 1 ] || [ "$3" -gt 250 ]; then
    echo "bed_add_clients: N must be 1..250" >&2; return 2
  fi
  for (( i = 1; i <= $3; i++ )); do
    name=$(bed_client_if "$2" "$i")
    if ! ip -n "$ns" link show "$name" >/dev/null 2>&1; then
      ip -n "$ns" link add link "$parent" name "$name" address "$(bed_client_mac "$p" "$2" "$i")" \
        type macvlan mode bridge || return 1
      ip -n "$ns" link set "$name" up || return 1
    fi
    echo "$name"
  done
}

# bed_add_ns PREFIX ROLE — an extra empty namespace PREFIX-ROLE (lo up, IPv6 off) for a test's own
# topology; bed_down removes it with the others. ROLE: lowercase letters/digits.
bed_add_ns() {
  local ns
  [[ "${2:-}" =~ ^[a-z0-9]+$ ]] || { echo "bed_add_ns: bad role '${2:-}'" >&2; return 2; }
  ns=$(bed_ns "$1" "$2")
  ip netns add "$ns" || return 1
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null
}

# bed_namespaces PREFIX — print the existing namespaces that belong to this bed (PREFIX-ROLE).
bed_namespaces() {
  _bed_check_prefix "$1" || return 2
  ip netns list 2>/dev/null | awk -v p="$1" '{ if ($1 ~ ("^" p "-[a-z0-9]+$")) print $1 }'
}

# bed_start_relay PREFIX [EXTRA_DHCRELAY_ARGS...] — start ISC dhcrelay in RLY: listening for clients
# on c-rly (link C), forwarding to 10.77.9.1 over r-rly (giaddr 10.77.3.1). No config file at all.
# Sets BED_PID/BED_CMD_PID like bed_spawn; log in $(bed_dir PREFIX)/dhcrelay.log. Waits (≤ 5 s)
# until it has opened its sockets.
bed_start_relay() {
  local p=$1 dir log
  shift
  dir=$(bed_dir "$p")
  log=$dir/dhcrelay.log
  bed_spawn "$p" "$(bed_ns "$p" rly)" dhcrelay "$log" -- \
    dhcrelay -d -4 -pf "$dir/dhcrelay.pid" -iu r-rly -id c-rly "$@" "$BED_SRV_R" || return 1
  bed_wait_for 5 grep -q '^Sending on' "$log" && return 0
  echo "bed_start_relay: dhcrelay did not start; its log:" >&2
  cat "$log" >&2
  return 1
}

# _bed_stop_strays NS — stop by PID whatever still runs inside NS (not started through the library,
# e.g. something a client forked off). Reported on stderr: it means a test leaked a process.
_bed_stop_strays() {
  local pid rc=0
  for pid in $(ip netns pids "$1" 2>/dev/null); do
    echo "bed_down: stray process $pid in $1: $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" >&2
    bed_stop_pid "$pid" || rc=1
  done
  return $rc
}

# bed_down PREFIX — stop the bed's processes (recorded ones by PID, newest first; then anything still
# inside its namespaces), delete its namespaces and /etc/netns/NS folders, remove its state folder.
# Idempotent. Returns 1 if a process or namespace could not be removed.
bed_down() {
  local p=$1 ns rc=0
  _bed_check_prefix "$p" || return 2
  bed_stop_all "$p" || rc=1
  for ns in $(bed_namespaces "$p"); do
    _bed_stop_strays "$ns" || rc=1
    ip netns del "$ns" || rc=1
    [ -d "/etc/netns/$ns" ] && rm -rf "/etc/netns/$ns"
  done
  [ -z "$(bed_namespaces "$p")" ] || rc=1
  rm -rf "$(bed_dir "$p")"
  return $rc
}

# bed_trap PREFIX — on EXIT, INT, TERM or HUP: call the function bed_before_down RC if the test
# defines one, then bed_down PREFIX (and every other prefix given to bed_trap in this shell), then
# bed_after_down RC if defined, then exit with the original status RC (130 for INT, 143 for TERM,
# 129 for HUP). Signals are ignored during the clean-up itself so a second Ctrl-C cannot leave half a
# bed behind.
bed_trap() {
  _bed_check_prefix "$1" || return 2
  case " ${_BED_TRAP_PREFIXES:-} " in *" $1 "*) ;; *) _BED_TRAP_PREFIXES="${_BED_TRAP_PREFIXES:-} $1" ;; esac
  trap '_bed_trap_exit' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

_bed_trap_exit() {
  local rc=$? p
  set +e
  trap '' INT TERM HUP
  trap - EXIT
  if declare -F bed_before_down >/dev/null; then bed_before_down "$rc"; fi
  for p in ${_BED_TRAP_PREFIXES:-}; do bed_down "$p" || echo "bed: clean-up of '$p' incomplete" >&2; done
  if declare -F bed_after_down >/dev/null; then bed_after_down "$rc"; fi
  exit "$rc"
}

# shellcheck source=clients.sh
. "$BED_LIB_DIR/clients.sh"
# shellcheck source=capture.sh
. "$BED_LIB_DIR/capture.sh"
