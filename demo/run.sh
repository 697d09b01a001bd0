#!/usr/bin/env bash
# npm run demo — joind serving real DHCP and BOOTP clients in a small lab of network namespaces.
#
# Builds the lab of test/system/lib (a server namespace on two links, A and B, and a third network C
# behind ISC dhcrelay), starts joind there with the sample configuration of etc/ exactly as it is, runs
# ISC dhclient, busybox udhcpc, dhcpcd and bootpc on the links and behind the relay, prints what each
# client got as joind's store and log record it, and removes the lab — also on Ctrl-C or failure.
# Nothing is configured outside the lab's own namespaces. Needs root (namespaces, raw sockets).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

if [ "$(id -u)" != 0 ]; then
  echo "npm run demo needs root: it creates network namespaces and runs joind on raw sockets inside them." >&2
  echo "Run it again as root (for example: sudo npm run demo). Nothing was changed." >&2
  exit 1
fi
if [ ! -f dist/src/cli/main.js ] || [ ! -f build/Release/joind_net.node ]; then
  echo "joind is not built yet: run 'npm install' first." >&2
  exit 1
fi

# shellcheck source=../test/system/lib/bed.sh
. "$ROOT/test/system/lib/bed.sh"
P=jdemo
WORK=$(mktemp -d /tmp/joind-demo-XXXXXX)
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  bed_down "$P" >/dev/null 2>&1 || echo "demo: could not remove everything of the lab (see 'ip netns list')" >&2
  [ "$rc" -ne 0 ] && [ -f "$WORK/joind.log" ] && { echo "--- last lines of joind's log" >&2; tail -n 15 "$WORK/joind.log" >&2; }
  rm -rf "$WORK"
  if [ -z "$(bed_namespaces "$P")" ]; then echo "lab removed: no namespace and no process of the demo is left."; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted, removing the lab"; exit 130' INT TERM HUP
step() { printf '\n== %s\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

step "checking for the real clients (dhclient, udhcpc, dhcpcd, bootpc) and ISC dhcrelay"
bed_require_packages ip sysctl dhcrelay dhclient udhcpc dhcpcd bootpc || die "could not install the clients' Debian packages"

step "building the lab: namespaces $P-srv (joind), $P-cla, $P-clb, $P-rly (dhcrelay), $P-clc"
bed_up "$P" || die "could not build the lab"
SRV=$(bed_ns "$P" srv) CLA=$(bed_ns "$P" cla) CLB=$(bed_ns "$P" clb) CLC=$(bed_ns "$P" clc)

step "starting joind with etc/ (link A 10.77.1.0/24, link B 10.77.2.0/24, network C 10.77.3.0/24 via relay)"
mkdir -p "$WORK/spool"
bed_spawn "$P" "$SRV" joind "$WORK/joind.log" -- node "$ROOT/dist/src/cli/main.js" -f -l 2 \
  --config-dir "$ROOT/etc" --spool-dir "$WORK/spool"
JOIND=$BED_PID
bed_wait_for 10 grep -q '"JOIND_STARTED"' "$WORK/joind.log" || die "joind did not start"
bed_start_relay "$P" || die "ISC dhcrelay did not start"

: > "$WORK/clients.tsv"
# client LABEL MAC OUTDIR RUN_FUNCTION NS IFACE [ARGS…] — run one real client (a run_* function of
# test/system/lib/clients.sh) and note what it got.
client() {
  local label=$1 mac=$2 out=$3 run=$4 ns=$5 ifc=$6
  shift 6
  printf '   %-44s ' "$label"
  if "$run" "$ns" "$ifc" "$out" "$@"; then echo "got $(bed_result "$out" ip)"; else echo "got nothing (see its log: $out/log)"; fi
  printf '%s\t%s\t%s\n' "$label" "$mac" "$(bed_result "$out" ip)" >> "$WORK/clients.tsv"
}

step "running real clients"
# bootpc first: it needs UDP port 68 of its namespace, which dhclient keeps once it runs there.
BOOTP_MAC=02:77:0a:00:00:01   # the demo-bootp host entry of etc/dhcpcap: a permanent binding
ip -n "$CLA" link add link a-cli name a-boot address "$BOOTP_MAC" type macvlan mode bridge &&
  ip -n "$CLA" link set a-boot up || die "could not add the BOOTP client's interface"
client "bootpc (host demo-bootp), link A" "$BOOTP_MAC" "$WORK/bootpc" run_bootpc "$CLA" a-boot
client "dhclient, link A" "$(bed_client_mac "$P" cla)" "$WORK/dhclient-a" run_dhclient "$CLA" a-cli
A1=$(bed_add_clients "$P" cla 1) || die "could not add a client interface on link A"
client "udhcpc (vendor class joind-demo), link A" "$(bed_client_mac "$P" cla 1)" "$WORK/udhcpc-a" \
  run_udhcpc "$CLA" "$A1" -V joind-demo
client "dhcpcd, link B" "$(bed_client_mac "$P" clb)" "$WORK/dhcpcd-b" run_dhcpcd "$CLB" b-cli
B1=$(bed_add_clients "$P" clb 1) || die "could not add a client interface on link B"
client "udhcpc, link B" "$(bed_client_mac "$P" clb 1)" "$WORK/udhcpc-b" run_udhcpc "$CLB" "$B1"
client "udhcpc, network C behind dhcrelay" "$(bed_client_mac "$P" clc)" "$WORK/udhcpc-c" run_udhcpc "$CLC" c-cli
C1=$(bed_add_clients "$P" clc 1) || die "could not add a client interface on network C"
client "dhclient, network C behind dhcrelay" "$(bed_client_mac "$P" clc 1)" "$WORK/dhclient-c" \
  run_dhclient "$CLC" "$C1"

step "stopping joind (SIGTERM: it commits and closes its store)"
bed_stop "$P" "$JOIND"

step "what each client got, from joind's store ($WORK/spool/joind.db) and log"
node "$ROOT/dist/demo/report.js" "$WORK/spool" "$WORK/joind.log" "$WORK/clients.tsv"
