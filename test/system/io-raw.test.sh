#!/usr/bin/env bash
# System test of the raw transport (src/io/raw.ts, choose-transport.ts) with real sockets in network
# namespaces, a real DHCP client (busybox udhcpc) and tcpdump as the independent judge of the wire.
#
#   server namespace S: ra-s 10.78.1.1/24 (link A), rb-s 10.78.2.1/24 (link B), jr-d 10.78.9.1/24 (a veth
#                       whose peer jr-e stays in S) that is NOT served (like a transit link towards relays)
#   client namespace A: ra-c 10.78.1.2/24, route to 10.78.9.0/24 via 10.78.1.1
#   client namespace B: rb-c, no address
#
# test/system/io-raw-echo.ts runs RawTransport in S (opened through openTransport('raw'), started on
# ra-s + jr-d, then switched to ra-s + rb-s with refreshInterfaces) and answers each BOOTREQUEST with a
# BOOTREPLY copy sent where RFC 2131 4.1 says.
#   (a) udhcpc DISCOVERs (flag clear on A, -B on B) arrive once each, with the right interface, from the
#       packet sockets; replies reach A at its MAC (10.78.1.100) and B at ff:ff:ff:ff:ff:ff, "udp sum ok".
#   (b) unicast to the server (a relay request to 10.78.1.1 and to the unserved 10.78.9.1, a renewal with
#       ciaddr, a plain datagram) arrives exactly once each through the UDP sockets, without interface;
#       the replies go back by UDP from 10.78.1.1:67.
#   (c) the server side sends no ICMP port-unreachable for any of it.
#   (d) without CAP_NET_RAW: openTransport('auto') falls back to UDP with one warning naming CAP_NET_RAW,
#       openTransport('raw') throws "needs root or CAP_NET_RAW".
#
# Needs root (exit 77 otherwise), the built addon (build/Release/joind_net.node) and the compiled
# sources and tests (dist/, or JOIND_DIST=/some/outDir).
set -u
cd "$(dirname "$0")/../.." || exit 1
repo=$(pwd)
dist=${JOIND_DIST:-$repo/dist}

. test/system/lib/need.sh
bed_need ip sysctl tcpdump timeout udhcpc ping
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root (network namespaces, packet sockets)"; exit 77; }
udhcpc=$(command -v udhcpc)
echo_js=$dist/test/system/io-raw-echo.js
[ -f "$echo_js" ] || { echo "FAIL: $echo_js missing (build first, or set JOIND_DIST)"; exit 1; }

tag=$$
S=jraw-$tag-s
A=jraw-$tag-a
B=jraw-$tag-b
work=$(mktemp -d /tmp/jraw-io.XXXXXX)
pids=()

# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  ip netns del "$S" 2>/dev/null
  ip netns del "$A" 2>/dev/null
  ip netns del "$B" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "FAIL: $*"
  for f in echo.out tcpdump-a.out tcpdump-b.out tcpdump-s.out udhcpc-a.out udhcpc-b.out probe.out; do
    [ -s "$work/$f" ] && { echo "--- $f"; cat "$work/$f"; }
  done
  exit 1
}

# --- the bed ----------------------------------------------------------------------------------------------
SA_MAC=02:78:00:01:00:01 CA_MAC=02:78:00:01:00:02
SB_MAC=02:78:00:02:00:01 CB_MAC=02:78:00:02:00:02
for ns in "$S" "$A" "$B"; do
  ip netns add "$ns" || fail "cannot create namespace $ns"
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$S" link add ra-s address $SA_MAC type veth peer name ra-c address $CA_MAC netns "$A" || fail "veth A"
ip -n "$S" link add rb-s address $SB_MAC type veth peer name rb-c address $CB_MAC netns "$B" || fail "veth B"
ip -n "$S" link add jr-d type veth peer name jr-e || fail "veth jr-d"  # no dummy module in every container
ip -n "$S" addr add 10.78.1.1/24 dev ra-s
ip -n "$S" addr add 10.78.2.1/24 dev rb-s
ip -n "$S" addr add 10.78.9.1/24 dev jr-d
ip -n "$A" addr add 10.78.1.2/24 dev ra-c
for l in ra-s rb-s jr-d jr-e; do ip -n "$S" link set "$l" up; done
ip -n "$A" link set ra-c up
ip -n "$B" link set rb-c up
ip -n "$A" route add 10.78.9.0/24 via 10.78.1.1
for _ in $(seq 1 50); do
  ip netns exec "$A" ping -c 1 -W 1 10.78.1.1 >/dev/null 2>&1 && break
  sleep 0.1
done
for _ in $(seq 1 30); do
  [[ "$(ip -n "$B" -br link show dev rb-c)" =~ ^[^\ ]+\ +UP ]] && break
  sleep 0.1
done

# --- the echo server --------------------------------------------------------------------------------------
ready=$work/ready
INITIAL_IFNAMES=ra-s,jr-d IFNAMES=ra-s,rb-s READY=$ready LIFETIME_MS=60000 \
  timeout 70 ip netns exec "$S" node "$echo_js" >"$work/echo.out" 2>"$work/echo.err" &
echo_pid=$!
pids+=("$echo_pid")
for _ in $(seq 1 100); do [ -e "$ready" ] && break; kill -0 "$echo_pid" 2>/dev/null || break; sleep 0.1; done
[ -e "$ready" ] || { cat "$work/echo.err"; fail "echo server did not start"; }
grep -q '"event":"started","kind":"raw","interfaces":\["ra-s","jr-d"\]' "$work/echo.out" || fail "not started raw on ra-s, jr-d"
grep -q '"event":"interfaces","interfaces":\["ra-s","rb-s"\],"failures":\[\]' "$work/echo.out" || fail "refreshInterfaces did not switch to ra-s, rb-s"
grep -q '"event":"bound","addresses":\["10.78.1.1","10.78.2.1","10.78.9.1","127.0.0.1"\]' "$work/echo.out" ||
  fail "unicast UDP sockets not bound to every address of the namespace"

# Captures: replies and any ICMP on both client links; ICMP leaving the server on every interface.
start_dump() { # NS IF OUT FILTER
  timeout 40 ip netns exec "$1" tcpdump -i "$2" -n -e -vv -l "$4" >"$work/$3" 2>"$work/$3.err" &
  pids+=("$!")
  for _ in $(seq 1 50); do grep -q "listening on" "$work/$3.err" 2>/dev/null && return 0; sleep 0.1; done
  fail "tcpdump on $1/$2 did not start"
}
start_dump "$A" ra-c tcpdump-a.out 'udp src port 67 or icmp'
dump_a=${pids[-1]}
start_dump "$B" rb-c tcpdump-b.out 'udp src port 67 or icmp'
dump_b=${pids[-1]}
start_dump "$S" any tcpdump-s.out 'icmp'
dump_s=${pids[-1]}

# --- (a) real clients' DISCOVERs ------------------------------------------------------------------------
echo "# (a) udhcpc on link A (broadcast flag clear) and on link B (-B: flag set)"
timeout 20 ip netns exec "$A" env -i "$udhcpc" -i ra-c -n -q -t 2 -T 1 -s /bin/true >"$work/udhcpc-a.out" 2>&1 &
ua=$!
pids+=("$ua")
timeout 20 ip netns exec "$B" env -i "$udhcpc" -i rb-c -B -n -q -t 2 -T 1 -s /bin/true >"$work/udhcpc-b.out" 2>&1 &
ub=$!
pids+=("$ub")
wait "$ua"; wait "$ub"
sent_a=$(grep -c "broadcasting discover" "$work/udhcpc-a.out")
sent_b=$(grep -c "broadcasting discover" "$work/udhcpc-b.out")
{ [ "$sent_a" -ge 1 ] && [ "$sent_b" -ge 1 ]; } || fail "udhcpc sent no DISCOVER (A: $sent_a, B: $sent_b)"

# --- (b) unicast to the server --------------------------------------------------------------------------
echo "# (b) relay requests, a renewal and a plain datagram, unicast to the server"
cat >"$work/probe.js" <<'EOF'
const dgram = require('node:dgram');
setTimeout(() => { console.log('probe: overall timeout'); process.exit(2); }, 15000).unref();
function bootRequest(xid, { ciaddr = '0.0.0.0', giaddr = '0.0.0.0', hops = 0 }) {
  const b = Buffer.alloc(300);
  b[0] = 1; b[1] = 1; b[2] = 6; b[3] = hops;
  b.writeUInt32BE(xid, 4);
  b.set(ciaddr.split('.').map(Number), 12);
  b.set(giaddr.split('.').map(Number), 24);
  b.set([0x02, 0x78, 0x00, 0x01, 0x00, 0x02], 28);
  b.writeUInt32BE(0x63825363, 236);
  b[240] = 255;
  return b;
}
function socketOn(port) {
  return new Promise((resolve) => { const s = dgram.createSocket('udp4'); s.bind(port, '10.78.1.2', () => resolve(s)); });
}
function exchange(socket, request, to) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply to xid ${request.readUInt32BE(4).toString(16)} via ${to}`)), 3000);
    socket.once('message', (data, rinfo) => { clearTimeout(timer); resolve({ data, rinfo }); });
    socket.send(request, 67, to);
  });
}
function check(what, { data, rinfo }, xid) {
  if (data[0] !== 2 || data.readUInt32BE(4) !== xid) throw new Error(`${what}: not our BOOTREPLY`);
  if (rinfo.address !== '10.78.1.1' || rinfo.port !== 67) throw new Error(`${what}: from ${rinfo.address}:${rinfo.port}`);
  console.log(`${what}: BOOTREPLY xid ${xid.toString(16)} from ${rinfo.address}:${rinfo.port}`);
}
(async () => {
  const relay = await socketOn(67);
  check('relay to 10.78.1.1', await exchange(relay, bootRequest(0x7a0001, { giaddr: '10.78.1.2', hops: 1 }), '10.78.1.1'), 0x7a0001);
  check('relay to unserved 10.78.9.1', await exchange(relay, bootRequest(0x7a0002, { giaddr: '10.78.1.2', hops: 1 }), '10.78.9.1'), 0x7a0002);
  const client = await socketOn(68);
  check('renewal (ciaddr)', await exchange(client, bootRequest(0x7a0003, { ciaddr: '10.78.1.2' }), '10.78.1.1'), 0x7a0003);
  const plain = dgram.createSocket('udp4');
  plain.send(Buffer.from('hello'), 67, '10.78.1.1', () => plain.close());
  setTimeout(() => { relay.close(); client.close(); console.log('probe: done'); }, 300);
})().catch((error) => { console.log(`probe: ${error.message}`); process.exit(1); });
EOF
timeout 20 ip netns exec "$A" node "$work/probe.js" >"$work/probe.out" 2>&1 || fail "unicast probe"
cat "$work/probe.out"

# Let the last replies reach the captures, then stop everything and collect the counters.
sleep 0.5
kill -TERM "$echo_pid"
wait "$echo_pid"; rc=$?
[ $rc -eq 0 ] || fail "echo server exit status $rc"
for p in $dump_a $dump_b $dump_s; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
grep '"event"' "$work/echo.out"
grep -q '"event":"send-error"' "$work/echo.out" && fail "a send failed"

# --- checks -----------------------------------------------------------------------------------------------
echo "# checks"
discovers() { # IFNAME-or-null -> number of DISCOVER lines delivered with it
  grep -c "\"ifname\":$1,\"srcIp\":\"0.0.0.0\",\"srcPort\":68,\"dstIp\":\"255.255.255.255\"" "$work/echo.out"
}
got_a=$(discovers '"ra-s"'); got_b=$(discovers '"rb-s"'); got_none=$(discovers null)
echo "DISCOVERs sent A $sent_a B $sent_b; delivered on ra-s $got_a, on rb-s $got_b, without interface $got_none"
[ "$got_a" -eq "$sent_a" ] || fail "link A: $sent_a DISCOVERs sent, $got_a delivered with ifname ra-s"
[ "$got_b" -eq "$sent_b" ] || fail "link B: $sent_b DISCOVERs sent, $got_b delivered with ifname rb-s"
[ "$(grep -c '"srcIp":"0.0.0.0"' "$work/echo.out")" -eq $((sent_a + sent_b)) ] || fail "a broadcast was delivered twice or without its interface"
grep '"ifname":"ra-s"' "$work/echo.out" | grep -qv '"reply":"unicast","serverIp":"10.78.1.1"' && fail "link A: reply not unicast from 10.78.1.1"
grep '"ifname":"rb-s"' "$work/echo.out" | grep -qv '"reply":"broadcast","serverIp":"10.78.2.1"' && fail "link B: reply not broadcast from 10.78.2.1"

# tcpdump -e -vv prints the link header on one line and the IP/UDP line below it. Counts the frames to
# DST_IP:68 as "good bad": good = from our MAC to the expected MAC with a correct UDP checksum.
replies() { # FILE SRC_MAC DST_MAC DST_IP
  awk -v link="$2 > $3," -v udp="> $4.68:" '
    /ethertype/ { header = $0; next }
    index($0, udp) { if (index(header, link) && index($0, "[udp sum ok]")) good++; else bad++ }
    END { print good + 0, bad + 0 }' "$work/$1"
}
read -r good_a bad_a < <(replies tcpdump-a.out $SA_MAC $CA_MAC 10.78.1.100)
read -r good_b bad_b < <(replies tcpdump-b.out $SB_MAC ff:ff:ff:ff:ff:ff 255.255.255.255)
echo "replies on the wire: A to its MAC $good_a (other $bad_a), B to ff:ff:ff:ff:ff:ff $good_b (other $bad_b)"
{ [ "$good_a" -eq "$sent_a" ] && [ "$bad_a" -eq 0 ]; } ||
  fail "link A: expected $sent_a frames $SA_MAC > $CA_MAC, 10.78.1.1:67 > 10.78.1.100:68, udp sum ok"
{ [ "$good_b" -eq "$sent_b" ] && [ "$bad_b" -eq 0 ]; } ||
  fail "link B: expected $sent_b frames $SB_MAC > ff:ff:ff:ff:ff:ff, 10.78.2.1:67 > 255.255.255.255:68, udp sum ok"
grep -q "10.78.2.1.67 > 255.255.255.255.68" "$work/tcpdump-b.out" || fail "link B: reply source is not 10.78.2.1:67"
grep -q "10.78.1.1.67 > 10.78.1.100.68" "$work/tcpdump-a.out" || fail "link A: reply source is not 10.78.1.1:67"
grep -q "$SB_MAC > $CB_MAC" "$work/tcpdump-b.out" && fail "link B: a reply was unicast despite the broadcast flag"

once() { # PATTERN WHAT
  local n
  n=$(grep -c "$1" "$work/echo.out")
  [ "$n" -eq 1 ] || fail "$2: delivered $n times, expected once"
}
once '"ifname":null,"srcIp":"10.78.1.2","srcPort":67,"dstIp":"10.78.1.1","length":300,"xid":"7a0001","reply":"relay","serverIp":"10.78.1.1"' "relay request to 10.78.1.1"
once '"ifname":null,"srcIp":"10.78.1.2","srcPort":67,"dstIp":"10.78.9.1","length":300,"xid":"7a0002","reply":"relay","serverIp":"10.78.1.1"' "relay request to the unserved 10.78.9.1"
once '"ifname":null,"srcIp":"10.78.1.2","srcPort":68,"dstIp":"10.78.1.1","length":300,"xid":"7a0003","reply":"unicast","serverIp":"10.78.1.1"' "renewal with ciaddr"
once '"ifname":null,"srcIp":"10.78.1.2",.*"dstIp":"10.78.1.1","length":5}' "plain datagram"
[ "$(grep -c '"xid":"7a000' "$work/echo.out")" -eq 3 ] || fail "a unicast request was also delivered by a packet socket"

stats=$(grep '"event":"stats"' "$work/echo.out")
field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$stats"; }
[ "$(field unicastReceived)" -eq 4 ] || fail "unicastReceived $(field unicastReceived), expected 4"
[ "$(field broadcastsReceived)" -eq $((sent_a + sent_b)) ] || fail "broadcastsReceived $(field broadcastsReceived)"
# The unicast frames on link A (3 requests and the plain datagram, all to our MAC) never reached ra-s's
# packet socket: its kernel filter keeps frames to our MAC out unless they go to 255.255.255.255.
[ "$(field framesLeftToKernel)" -eq 0 ] || fail "framesLeftToKernel $(field framesLeftToKernel), expected 0 (kernel filter)"
[ "$(field catchAllDiscarded)" -ge $((sent_a + sent_b)) ] || fail "the catch-all socket did not read the broadcasts"
[ "$(field badFrames)" -eq 0 ] || fail "bad frames"

echo "# (c) no ICMP from the server"
grep -i 'icmp' "$work/tcpdump-s.out" "$work/tcpdump-a.out" "$work/tcpdump-b.out" && fail "ICMP seen (port unreachable?)"
grep -q "listening on" "$work/tcpdump-s.out.err" || fail "the server-side ICMP capture did not run"

# --- (d) without CAP_NET_RAW ------------------------------------------------------------------------------
echo "# (d) without CAP_NET_RAW"
if command -v setpriv >/dev/null; then
  cat >"$work/noperm.js" <<'EOF'
const assert = require('node:assert/strict');
const { openTransport } = require(process.env.DIST + '/src/io/choose-transport.js');
const { UdpTransport } = require(process.env.DIST + '/src/io/udp.js');
const { listIpv4Interfaces } = require(process.env.DIST + '/src/io/interfaces.js');
const served = listIpv4Interfaces().filter((i) => i.name === 'ra-s');
assert.equal(served.length, 1);
const warnings = [];
const log = { warn: (fields, message) => warnings.push({ fields, message }) };
const auto = openTransport('auto', served, { log });
assert.equal(auto.kind, 'udp');
assert.ok(auto.transport instanceof UdpTransport);
assert.equal(warnings.length, 1, 'exactly one warning');
assert.equal(warnings[0].fields.msgId, 'TRANSPORT_FALLBACK');
assert.equal(warnings[0].fields.code, 'EPERM');
assert.match(auto.warning, /root or CAP_NET_RAW/);
assert.throws(() => openTransport('raw', served, { log }), (e) => e.code === 'EPERM' && /needs root or CAP_NET_RAW/.test(e.message));
assert.equal(warnings.length, 1);
console.log(`unprivileged: auto -> udp, warning: ${auto.warning}`);
EOF
  chmod 755 "$work"; chmod 644 "$work/noperm.js"
  DIST=$dist timeout 20 ip netns exec "$S" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
    node "$work/noperm.js" || fail "unprivileged behaviour"
else
  echo "setpriv not installed: unprivileged case not run"
fi

echo "ok: io-raw"
exit 0
