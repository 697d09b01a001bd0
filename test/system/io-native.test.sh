#!/usr/bin/env bash
# System test of the native socket addon and its wrappers (src/io/ping.ts, packet-socket.ts, frame.ts):
# real raw sockets in two network namespaces joined by a veth pair, a real DHCP client (busybox udhcpc)
# and tcpdump as the independent judge of what went on the wire.
#
#   (a) Pinger: a present peer answers (true); an absent on-link address times out (false); 200 checks of
#       absent addresses in flight together finish in about one timeout while a setInterval keeps ticking;
#       a failed send (no route) is false at once; without CAP_NET_RAW, Pinger.open is null with a warning.
#   (b) PacketSocket: receives udhcpc's DISCOVER broadcast with the right ifindex and packet type, and a
#       frame to its MAC but to 255.255.255.255:67; the kernel filter keeps out other ports, unicast to
#       our address (the UDP sockets' job) and our own outgoing frames; frames sent
#       with sendUdp reach the client side with correct checksums (tcpdump -vv: "udp sum ok").
#
# Needs root (exit 77 otherwise), the built addon (build/Release/joind_net.node) and the compiled sources
# (dist/, or JOIND_DIST=/some/outDir).
set -u
cd "$(dirname "$0")/../.."
repo=$(pwd)
dist=${JOIND_DIST:-$repo/dist}

. test/system/lib/need.sh
bed_need ip tcpdump timeout udhcpc ping python3
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root (network namespaces, raw sockets)"; exit 77; }
udhcpc=$(command -v udhcpc)
[ -f "$dist/src/io/ping.js" ] || { echo "FAIL: $dist/src/io/ping.js missing (build first, or set JOIND_DIST)"; exit 1; }

tag=$$
S=jnat-$tag-s
C=jnat-$tag-c
work=$(mktemp -d /tmp/jnat-io.XXXXXX)
pids=()

cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  ip netns del "$S" 2>/dev/null
  ip netns del "$C" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*"; exit 1; }

# --- the bed: server 10.77.0.1/16 on jnat-s, client 10.77.0.2/16 on jnat-c, fixed MACs -------------------
S_MAC=02:77:00:00:00:01
C_MAC=02:77:00:00:00:02
ip netns add "$S" || fail "cannot create namespace $S"
ip netns add "$C" || fail "cannot create namespace $C"
ip -n "$S" link add jnat-s type veth peer name jnat-c netns "$C" || fail "cannot create veth pair"
ip -n "$S" link set jnat-s address $S_MAC
ip -n "$C" link set jnat-c address $C_MAC
for ns in "$S" "$C"; do ip -n "$ns" link set lo up; done
ip -n "$S" link set jnat-s up
ip -n "$C" link set jnat-c up
ip -n "$S" addr add 10.77.0.1/16 dev jnat-s
ip -n "$C" addr add 10.77.0.2/16 dev jnat-c
S_IFINDEX=$(ip -n "$S" -o link show jnat-s | cut -d: -f1)

# Wait (bounded) until the peer is reachable, so the first ping does not race the link coming up.
for _ in $(seq 1 50); do
  ip netns exec "$S" ping -c 1 -W 1 10.77.0.2 >/dev/null 2>&1 && break
  sleep 0.1
done

# --- (a) Pinger -------------------------------------------------------------------------------------------
cat >"$work/ping.js" <<'EOF'
const assert = require('node:assert/strict');
const { Pinger } = require(process.env.DIST + '/src/io/ping.js');
const { ip } = require(process.env.DIST + '/src/util/ipv4.js');
setTimeout(() => { console.error('ping test: overall timeout'); process.exit(2); }, 20000).unref();

(async () => {
  const warnings = [];
  const pinger = Pinger.open({ warn: (fields, msg) => warnings.push(msg) });
  assert.ok(pinger, 'Pinger.open as root must succeed: ' + warnings.join());

  let t = Date.now();
  assert.equal(await pinger.check(ip('10.77.0.2'), 1000), true, 'present peer answers');
  console.log(`present peer: true in ${Date.now() - t} ms`);

  t = Date.now();
  assert.equal(await pinger.check(ip('10.77.0.3'), 400), false, 'absent address times out');
  const absentMs = Date.now() - t;
  console.log(`absent address: false in ${absentMs} ms`);
  assert.ok(absentMs >= 390 && absentMs < 1400, `timeout honoured (${absentMs} ms)`);

  // 200 absent on-link addresses at once, plus the present peer among them; the loop must keep turning.
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 20);
  const sentBefore = pinger.sent;
  t = Date.now();
  const absent = [];
  for (let i = 1; i <= 200; i++) absent.push(pinger.check(ip('10.77.1.0') + i, 1000));
  const presentAmongThem = pinger.check(ip('10.77.0.2'), 1000);
  const presentAgain = pinger.check(ip('10.77.0.2'), 1000); // shares the echo in flight
  assert.equal(pinger.inFlight, 202);
  assert.equal(await presentAmongThem, true, 'present peer answers among 200 absent ones');
  assert.equal(await presentAgain, true, 'shared check answered too');
  const presentMs = Date.now() - t;
  const results = await Promise.all(absent);
  const allMs = Date.now() - t;
  clearInterval(ticker);
  console.log(`200 concurrent absent: ${results.filter((r) => !r).length} false in ${allMs} ms; ` +
    `present peer among them answered in ${presentMs} ms; ${ticks} interval ticks`);
  assert.ok(results.every((r) => r === false), 'all absent addresses are free');
  assert.ok(presentMs < 500, 'the reply did not wait for the timeouts');
  assert.ok(allMs >= 990 && allMs < 2000, `about one timeout, not 200 (${allMs} ms)`);
  assert.ok(ticks >= 30, `event loop kept running (${ticks} ticks of 20 ms)`);
  assert.equal(pinger.sent - sentBefore, 201, 'one echo per address; the shared check sent none');
  assert.equal(pinger.inFlight, 0, 'nothing left in flight');

  // A failed send is "free", at once, and counted: no route to 192.0.2.1 in this namespace.
  t = Date.now();
  const errorsBefore = pinger.sendErrors;
  assert.equal(await pinger.check(ip('192.0.2.1'), 1000), false);
  assert.ok(Date.now() - t < 200, 'failed send resolves at once');
  assert.equal(pinger.sendErrors, errorsBefore + 1);
  console.log(`unroutable: false at once, lastSendError ${pinger.lastSendError}`);

  // close() resolves what is pending.
  const pending = pinger.check(ip('10.77.0.4'), 5000);
  pinger.close();
  pinger.close();
  assert.equal(await pending, false);
  console.log(`counters: sent ${pinger.sent} replies ${pinger.replies} timeouts ${pinger.timeouts} sendErrors ${pinger.sendErrors} shared ${pinger.shared}`);
  assert.equal(pinger.replies, 3);
})().catch((error) => { console.error(error); process.exit(1); });
EOF

echo "# (a) Pinger"
DIST=$dist timeout 30 ip netns exec "$S" node "$work/ping.js" || fail "Pinger checks"

echo "# (a) without CAP_NET_RAW"
if command -v setpriv >/dev/null; then
  cat >"$work/noperm.js" <<'EOF'
const assert = require('node:assert/strict');
const { Pinger } = require(process.env.DIST + '/src/io/ping.js');
const { PacketSocket } = require(process.env.DIST + '/src/io/packet-socket.js');
const warnings = [];
assert.equal(Pinger.open({ warn: (fields, msg) => warnings.push([msg, fields]) }), null);
assert.equal(warnings.length, 1, 'exactly one warning');
assert.equal(warnings[0][1].msgId, 'PING_UNAVAILABLE');
assert.equal(warnings[0][1].code, 'EPERM');
assert.match(warnings[0][0], /CAP_NET_RAW/);
assert.throws(() => PacketSocket.open('jnat-s', () => {}), (e) => e.code === 'EPERM' && /CAP_NET_RAW/.test(e.message));
assert.throws(() => PacketSocket.open('jnat-nope', () => {}), (e) => e.code === 'ENODEV');
console.log('unprivileged: Pinger.open null with one warning; PacketSocket EPERM/ENODEV: ' + warnings[0][0]);
EOF
  chmod 755 "$work"; chmod 644 "$work/noperm.js"
  DIST=$dist timeout 20 ip netns exec "$S" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
    node "$work/noperm.js" || fail "unprivileged behaviour"
else
  echo "setpriv not installed: unprivileged case not run"
fi

# --- (b) PacketSocket -------------------------------------------------------------------------------------
cat >"$work/packet.js" <<'EOF'
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { PacketSocket, PACKET_BROADCAST, PACKET_HOST } = require(process.env.DIST + '/src/io/packet-socket.js');
const { ip, ipToString } = require(process.env.DIST + '/src/util/ipv4.js');
const expectedIfindex = Number(process.env.S_IFINDEX);
const clientMac = Buffer.from(process.env.C_MAC.replace(/:/g, ''), 'hex');
const seen = [];
const bad = [];
setTimeout(() => {
  console.error(`packet test: timed out waiting for frames; seen ${JSON.stringify(seen.map((s) => [s.ifindex, s.packetType, s.frame.dstPort, s.frame.payload.length]))}, bad ${bad}`);
  process.exit(2);
}, 20000).unref();

const socket = PacketSocket.open('jnat-s', (frame, ifindex, packetType) => {
  seen.push({ frame, ifindex, packetType });
  const text = frame.payload.toString('latin1');
  if (text === 'go\n') finish(); // the client's last frame: everything before it has been delivered
}, { verifyUdpChecksum: true, onBadFrame: (error) => bad.push(error) });
assert.equal(socket.ifindex, expectedIfindex);
assert.equal(socket.mac.toString('hex'), process.env.S_MAC.replace(/:/g, ''));
fs.writeFileSync(process.env.READY, 'ready');

function finish() {
  const discovers = seen.filter((s) => s.frame.payload[0] === 1 && s.frame.payload.readUInt32BE(236) === 0x63825363);
  assert.ok(discovers.length >= 1, 'a DHCP DISCOVER arrived');
  for (const d of discovers) {
    assert.equal(d.ifindex, expectedIfindex, 'arrival ifindex');
    assert.equal(d.packetType, PACKET_BROADCAST);
    assert.equal(d.frame.srcMac.toString('hex'), clientMac.toString('hex'));
    assert.equal(d.frame.dstIp, 0xffffffff);
    assert.equal(d.frame.srcPort, 68);
    // Option 53 (message type) = 1 (DISCOVER) right after the cookie, as udhcpc writes it.
    assert.deepEqual([...d.frame.payload.subarray(240, 243)], [53, 1, 1]);
  }
  const toOurMac = seen.filter((s) => s.frame.payload.toString('latin1') === 'go\n');
  assert.equal(toOurMac.length, 1);
  assert.equal(toOurMac[0].packetType, PACKET_HOST, 'a frame to our MAC');
  assert.equal(toOurMac[0].frame.dstIp, 0xffffffff, 'but to the limited broadcast: kept');
  assert.equal(seen.filter((s) => s.frame.payload.toString('latin1') === 'uni\n').length, 0,
    'a unicast to our address on port 67 is left to the UDP sockets');
  assert.equal(seen.length, discovers.length + 1, 'nothing else passed the filter (port 5000 datagram, unicast)');
  console.log(`received ${discovers.length} DISCOVER broadcast(s) and 1 frame to our MAC and 255.255.255.255 on ifindex ${expectedIfindex}`);

  // Frames to the client's MAC: a "reply" to port 68, and one to port 67 that our own socket must not see.
  const payload = Buffer.from('joind packet socket test payload, odd length!');
  const toClient = socket.sendUdp({ dstMac: clientMac, srcIp: ip('10.77.0.1'), dstIp: ip('10.77.0.2'), srcPort: 67, dstPort: 68, payload });
  const toPort67 = socket.sendUdp({ dstMac: clientMac, srcIp: ip('10.77.0.1'), dstIp: ip('10.77.0.2'), srcPort: 68, dstPort: 67, payload });
  assert.equal(toClient, 0, 'sendUdp returns 0');
  assert.equal(toPort67, 0);
  setTimeout(() => {
    assert.equal(seen.length, discovers.length + 1, 'own outgoing frames are not received');
    const stats = socket.stats();
    console.log(`sent ${socket.sent}, received ${socket.received}, bad ${socket.badFrames}, kernel ${JSON.stringify(stats)}`);
    assert.equal(socket.badFrames, 0);
    socket.close();
    socket.close();
    assert.notEqual(socket.sendUdp({ dstMac: clientMac, srcIp: 1, dstIp: 2, srcPort: 67, dstPort: 68, payload }), 0, 'send after close is an errno');
    process.exit(0);
  }, 300);
}
EOF

echo "# (b) PacketSocket"
ready=$work/ready
DIST=$dist READY=$ready S_IFINDEX=$S_IFINDEX S_MAC=$S_MAC C_MAC=$C_MAC \
  timeout 30 ip netns exec "$S" node "$work/packet.js" >"$work/packet.out" 2>&1 &
node_pid=$!
pids+=("$node_pid")
for _ in $(seq 1 100); do [ -e "$ready" ] && break; kill -0 "$node_pid" 2>/dev/null || break; sleep 0.1; done
[ -e "$ready" ] || { cat "$work/packet.out"; fail "packet socket did not open"; }

timeout 20 ip netns exec "$C" tcpdump -i jnat-c -n -vv -U -c 2 "udp and ether src $S_MAC" >"$work/tcpdump.out" 2>"$work/tcpdump.err" &
dump_pid=$!
pids+=("$dump_pid")
for _ in $(seq 1 100); do grep -q "listening on" "$work/tcpdump.err" 2>/dev/null && break; sleep 0.1; done

# A real client's DISCOVER (one try, one second, no lease expected: nobody answers it).
timeout 10 ip netns exec "$C" env -i "$udhcpc" -i jnat-c -n -q -t 1 -T 1 -s /bin/true >"$work/udhcpc.out" 2>&1
grep -q "broadcasting discover" "$work/udhcpc.out" || { cat "$work/udhcpc.out"; fail "udhcpc sent no DISCOVER"; }
# Traffic the filter must drop (port 5000; a unicast to our address on port 67), then the frame that
# tells the script to go on: to the server's MAC but to 255.255.255.255:67 (built whole, on a packet
# socket: an IP socket would send it to the broadcast MAC).
ip netns exec "$C" bash -c 'echo nope > /dev/udp/10.77.0.1/5000; echo uni > /dev/udp/10.77.0.1/67; sleep 0.2'
ip netns exec "$C" python3 - "$S_MAC" "$C_MAC" <<'PY' || fail "could not send the frame to our MAC and 255.255.255.255"
import socket, struct, sys
def csum(data):
    if len(data) % 2: data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
dst_mac, src_mac = (bytes.fromhex(m.replace(':', '')) for m in sys.argv[1:3])
src, dst, payload = socket.inet_aton('10.77.0.2'), socket.inet_aton('255.255.255.255'), b'go\n'
udp = struct.pack('!HHHH', 68, 67, 8 + len(payload), 0) + payload
udp = udp[:6] + struct.pack('!H', csum(src + dst + struct.pack('!BBH', 0, 17, len(udp)) + udp)) + udp[8:]
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, src, dst)
ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('jnat-c', 0))
s.send(dst_mac + src_mac + b'\x08\x00' + ip + udp)
PY

wait "$node_pid"; rc=$?
cat "$work/packet.out"
[ $rc -eq 0 ] || fail "packet socket checks (exit $rc)"
wait "$dump_pid"
cat "$work/tcpdump.out"
[ "$(grep -c 'udp sum ok' "$work/tcpdump.out")" -eq 2 ] || fail "tcpdump did not see 2 frames with good UDP checksums"
grep -q '10.77.0.1.67 > 10.77.0.2.68' "$work/tcpdump.out" || fail "reply frame 10.77.0.1:67 > 10.77.0.2:68 not seen"
grep -q 'ttl 64' "$work/tcpdump.out" || fail "TTL 64 not seen"
grep -q 'bad cksum' "$work/tcpdump.out" && fail "tcpdump reports a bad IP checksum"
echo "ok: io-native"
exit 0
