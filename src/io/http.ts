// HTTP listeners and requests for the control API and the metrics endpoint (only src/io touches
// sockets). Node's http module is all they need: small JSON bodies, a handful of clients.
import fs from 'node:fs';
import http from 'node:http';

export type HttpTarget = { socketPath: string } | { host: string; port: number };

export interface HttpReply {
  status: number;
  body: string | Buffer;
  contentType: string;
  headers?: Record<string, string>;
}

export type HttpHandler = (req: {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
}) => Promise<HttpReply> | HttpReply;

/** Largest request body accepted (a `joind load` of some ten thousand records fits). */
const MAX_BODY = 16 * 1024 * 1024;

function serve(handler: HttpHandler): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        res.writeHead(413, { 'content-type': 'application/json' }).end('{"error":"request body too large"}');
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (res.writableEnded) return;
      const url = new URL(req.url ?? '/', 'http://joind');
      Promise.resolve()
        .then(() =>
          handler({ method: req.method ?? 'GET', url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }),
        )
        .then(
          (reply) =>
            res
              .writeHead(reply.status, { ...reply.headers, 'content-type': reply.contentType, 'cache-control': 'no-store' })
              .end(reply.body),
          (err: Error) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err.message })),
        );
    });
  });
}

/**
 * Listens on a Unix socket (made mode `mode`, an old socket file removed first) or on a TCP address.
 * Resolves with a close function once listening.
 */
export async function listenHttp(
  target: HttpTarget,
  handler: HttpHandler,
  mode = 0o660,
): Promise<{ close: () => Promise<void>; port?: number }> {
  const server = serve(handler);
  if ('socketPath' in target) {
    try {
      fs.unlinkSync(target.socketPath); // left behind by a joind that was killed
    } catch {
      // none
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('socketPath' in target) server.listen(target.socketPath, () => resolve());
    else server.listen(target.port, target.host, () => resolve());
  });
  if ('socketPath' in target) fs.chmodSync(target.socketPath, mode);
  const address = server.address();
  return {
    ...(typeof address === 'object' && address ? { port: address.port } : {}),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        if ('socketPath' in target) {
          try {
            fs.unlinkSync(target.socketPath);
          } catch {
            // already gone
          }
        }
      }),
  };
}

export class HttpUnreachable extends Error {}

/** One request; rejects with HttpUnreachable when nothing listens there. */
export function httpRequest(
  target: HttpTarget,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        ...('socketPath' in target ? { socketPath: target.socketPath } : { host: target.host, port: target.port }),
        method,
        path,
        headers: {
          ...headers,
          ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new HttpUnreachable(err.message));
      else reject(err);
    });
    req.end(body);
  });
}
