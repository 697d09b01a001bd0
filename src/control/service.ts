// Starting and stopping what operators talk to: the control API on the spool directory's socket (and
// optionally on TCP with a token), the metrics endpoint, and the sampler behind the status page's
// graph. A listener that cannot start is logged and left out: DHCP service never depends on it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Policy } from '../config/types';
import { HttpHandler, HttpReply, HttpTarget, listenHttp } from '../io/http';
import { logEvent } from '../log/logger';
import type { Registry } from 'prom-client';
import type { MetricsSource } from '../metrics/metrics';
import { ControlApi, ControlHost } from './api';
import { CONTROL_SOCKET_NAME } from './socket-name';

const SAMPLE_EVERY_MS = 5_000;
const SAMPLES_KEPT = 360; // half an hour

export interface HistorySample {
  t: number;
  received: number;
  sent: number;
  dropped: number;
}

/** "127.0.0.1:9267", "[::1]:9267" → a TCP target. */
export function listenTarget(text: string): HttpTarget {
  const m = /^\[?([^\]]+)\]?:(\d+)$/.exec(text);
  if (!m) throw new Error(`not host:port: ${text}`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** Reads the token (first line of the file); undefined when missing or empty. */
function readToken(file: string | null): string | undefined {
  if (!file) return undefined;
  try {
    const token = fs.readFileSync(file, 'utf8').split('\n')[0]!.trim();
    return token === '' ? undefined : token;
  } catch {
    return undefined;
  }
}

function sameToken(given: string | undefined, token: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(token);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

const TOKEN_COOKIE = 'joind_token';

/**
 * Whether a TCP request may use the API: `Authorization: Bearer TOKEN` (joind ctl, scripts), or the
 * cookie a browser got by opening the status page once as /?token=TOKEN (a browser cannot send the header).
 */
function authorised(req: { headers: Record<string, string | string[] | undefined> }, token: string): boolean {
  const bearer = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1]?.trim();
  if (sameToken(bearer, token)) return true;
  const cookie = String(req.headers.cookie ?? '')
    .split(';')
    .map((c) => c.trim().split('='))
    .find(([name]) => name === TOKEN_COOKIE)?.[1];
  return sameToken(cookie === undefined ? undefined : decodeURIComponent(cookie), token);
}

async function guarded(api: ControlApi, token: string, req: Parameters<HttpHandler>[0]): Promise<HttpReply> {
  const offered = req.url.searchParams.get('token');
  if (req.method === 'GET' && offered !== null && sameToken(offered, token)) {
    const reply = await api.handle(req);
    // The token leaves the address bar for a cookie that only this server sees and scripts cannot read.
    return {
      ...reply,
      headers: {
        ...reply.headers,
        'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
      },
    };
  }
  if (authorised(req, token)) return api.handle(req);
  return { status: 401, body: '{"error":"a valid bearer token is required"}\n', contentType: 'application/json' };
}

export interface Operations {
  close(): Promise<void>;
  /** Where each listener ended up (a port 0 gets a real port). */
  readonly listening: Record<string, string>;
}

export async function startOperations(
  host: Omit<ControlHost, 'history'>,
  metrics: MetricsSource,
  policy: Policy,
  spoolDir: string,
): Promise<Operations> {
  const history: HistorySample[] = [];
  // Counters only: cheap enough to run every few seconds on the packet loop (no store query).
  const sample = (): void => {
    const c = metrics.counters();
    history.push({
      t: Math.floor(Date.now() / 1000),
      received: c.received,
      sent: Object.values(c.sent).reduce((a, b) => a + b, 0),
      dropped: Object.values(c.dropped).reduce((a, b) => a + b, 0) + Object.values(c.parseFailed).reduce((a, b) => a + b, 0),
    });
    if (history.length > SAMPLES_KEPT) history.shift();
  };
  sample();
  const timer = setInterval(sample, SAMPLE_EVERY_MS);
  timer.unref();

  const api = new ControlApi({ ...host, history: () => history });
  const closers: Array<() => Promise<void>> = [];
  const listening: Record<string, string> = {};
  const start = async (what: string, target: HttpTarget, handler: Parameters<typeof listenHttp>[1]): Promise<void> => {
    const where = 'socketPath' in target ? target.socketPath : `${target.host}:${target.port}`;
    try {
      const listener = await listenHttp(target, handler);
      closers.push(listener.close);
      listening[what] = 'socketPath' in target ? where : `${target.host}:${listener.port}`;
      logEvent(host.log, 'OPS_LISTENING', { what, where: listening[what] });
    } catch (err) {
      logEvent(host.log, 'OPS_LISTEN_FAILED', { what, where, err: (err as Error).message });
    }
  };

  if (policy.control_socket) {
    await start('control', { socketPath: path.join(spoolDir, CONTROL_SOCKET_NAME) }, (req) => api.handle(req));
  }
  if (policy.control_listen !== 'off') {
    const token = readToken(policy.control_token_file);
    if (!token) {
      logEvent(host.log, 'OPS_LISTEN_FAILED', {
        what: 'control-tcp',
        where: policy.control_listen,
        err: 'control_listen needs a token in control_token_file',
      });
    } else {
      await start('control-tcp', listenTarget(policy.control_listen), (req) => guarded(api, token, req));
    }
  }
  if (policy.metrics_listen !== 'off') {
    // prom-client and the registry are loaded at the first scrape, not at start: every metric is read
    // from the server when scraped, so nothing is missed, and a server nobody scrapes does not carry
    // them (a few MB of an appliance's memory, issue 17).
    let registry: Registry | null = null;
    await start('metrics', listenTarget(policy.metrics_listen), async (req) => {
      if (req.url.pathname !== '/metrics') return { status: 404, body: 'see /metrics\n', contentType: 'text/plain' };
      registry ??= (await import('../metrics/metrics')).createMetrics(metrics);
      return { status: 200, body: await registry.metrics(), contentType: registry.contentType };
    });
  }
  return {
    listening,
    close: async () => {
      clearInterval(timer);
      await Promise.all(closers.map((c) => c()));
    },
  };
}
