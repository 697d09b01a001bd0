// Warming the packet path before serving. V8 runs new JavaScript in its interpreter and compiles it
// to machine code only once it has run a while, so a server that has just started answers its first
// few thousand packets several times slower than it will a few seconds later: in the bench, the 99th
// percentile of reply latency was 5–9 ms in the first second against 0.2–0.6 ms from the fifth on, and
// an appliance that comes back after a power cut meets every client of the site at once. Before the
// transport opens, joind therefore runs a few hundred DHCP exchanges through a throwaway server of
// its own: the same code, the same configuration, an in-memory store, a transport that only hands the
// replies back, no ping, no name service, no log. Nothing of it leaves the process or touches the
// real store; what remains is the compiled code (V8 shares it between instances of the same classes).
import { decode, encode } from '../codec';
import { BOOTREQUEST, MessageType, type DhcpPacket } from '../codec/types';
import { deepFreeze } from '../config/frozen';
import type { Config } from '../config/types';
import type { Inbound, ReplyTransport } from '../io/transport';
import { createLogger } from '../log/logger';
import { Store } from '../store/store';
import { DhcpServer } from './server';

export interface WarmUpResult {
  /** Complete exchanges (DISCOVER, OFFER, REQUEST, ACK). */
  exchanges: number;
  ms: number;
}

/** Stops after this long, or this many exchanges, or when the first range is used up. */
export const WARM_UP_BUDGET_MS = 300;
export const WARM_UP_MAX_EXCHANGES = 1500;
/** Clients per round: several packets per turn, as under load. */
const ROUND = 25;

/** A transport that sends nothing: it keeps the replies for the warm-up to answer. */
class ReplyCollector implements ReplyTransport {
  readonly directUnicast = true;
  replies: DhcpPacket[] = [];
  constructor(private readonly serverAddress: number) {}
  async start(): Promise<void> {}
  send(data: Buffer): void {
    const decoded = decode(data);
    if (decoded.ok) this.replies.push(decoded.packet);
  }
  localAddressFor(): number {
    return this.serverAddress;
  }
  async close(): Promise<void> {}
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function request(type: MessageType, n: number, relay: number, options: Array<[number, Buffer]>): Inbound {
  const chaddr = Buffer.alloc(16);
  // Locally administered MACs (02:…), numbered; they exist only in the throwaway store.
  chaddr.set([0x02, 0x00, 0x5e, (n >> 16) & 255, (n >> 8) & 255, n & 255]);
  const packet: DhcpPacket = {
    op: BOOTREQUEST,
    htype: 1,
    hlen: 6,
    hops: 1,
    xid: (0x5a000000 + n) >>> 0,
    secs: 0,
    flags: 0,
    ciaddr: 0,
    yiaddr: 0,
    siaddr: 0,
    giaddr: relay,
    chaddr,
    sname: '',
    file: '',
    options: new Map<number, Buffer>([
      [53, Buffer.from([type])],
      [55, Buffer.from([1, 3, 6, 15, 28, 51, 54, 58, 59])],
      ...options,
    ]),
    hasMagicCookie: true,
  };
  return { data: encode(packet), srcIp: relay, srcPort: 67, dstIp: relay };
}

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes;
}

/**
 * Runs the warm-up for this configuration; null when it has no network with a range of ours (nothing to
 * exercise). Never throws: a failure only means a colder start.
 */
export async function warmUp(
  config: Config,
  budgetMs = WARM_UP_BUDGET_MS,
  maxExchanges = WARM_UP_MAX_EXCHANGES,
): Promise<WarmUpResult | null> {
  const network = config.networks.find((n) => n.served && n.ourRanges.length > 0);
  if (!network) return null;
  const range = network.ourRanges[0]!;
  const limit = Math.min(maxExchanges, range.end - range.start + 1);
  const relay = network.address + 1; // inside the network, so the requests select it
  const serverAddress = config.self.addresses[0] ?? relay;
  // The running policy, except what would reach outside (ping, naming by the name service) or refuse
  // a relay on our own link. Frozen, like the real snapshot, so V8 sees objects of the same kind.
  const policy = {
    ...config.policy,
    ping_timeout: 0,
    assign_name_by_ipaddr: false,
    reply_to_relay_on_local_net: true,
    registered_clients_only: false,
    rate_limit_per_interface: 0,
    rate_limit_per_relay: 0,
  };
  const warmConfig = deepFreeze({ ...config, policy });
  let store: Store | null = null;
  const started = Date.now();
  let exchanges = 0;
  try {
    store = Store.open({ spoolDir: '', inMemory: true, durable: false });
    const transport = new ReplyCollector(serverAddress);
    const server = new DhcpServer({
      config: warmConfig,
      store,
      transport,
      pinger: null,
      log: createLogger('silent'),
      reverseLookup: () => Promise.resolve(null),
      forwardLookup: () => Promise.resolve([]),
    });
    while (exchanges < limit && Date.now() - started < budgetMs) {
      const count = Math.min(ROUND, limit - exchanges);
      await Promise.all(
        Array.from({ length: count }, (_, i) => server.handle(request(MessageType.DISCOVER, exchanges + i, relay, []))),
      );
      const offers = transport.replies;
      transport.replies = [];
      await Promise.all(
        offers.map((offer) => {
          const serverId = offer.options.get(54);
          const n = offer.xid - 0x5a000000;
          return server.handle(
            request(
              MessageType.REQUEST,
              n,
              relay,
              serverId
                ? [
                    [50, u32(offer.yiaddr)],
                    [54, serverId],
                  ]
                : [[50, u32(offer.yiaddr)]],
            ),
          );
        }),
      );
      await nextTurn(); // the batch's commit, then its ACKs
      await nextTurn();
      exchanges += transport.replies.filter((r) => r.options.get(53)?.[0] === MessageType.ACK).length;
      transport.replies = [];
      if (offers.length === 0) break; // nothing offered: the range is used up, or the policy refuses
    }
  } catch {
    return { exchanges, ms: Date.now() - started };
  } finally {
    store?.close();
  }
  return { exchanges, ms: Date.now() - started };
}
