// Talking to a running joind's control API (its Unix socket in the spool directory, or a TCP address
// with a token).
import path from 'node:path';
import { httpRequest, HttpTarget, HttpUnreachable } from '../io/http';

import { CONTROL_SOCKET_NAME } from '../control/socket-name';

/** No server answers: it does not run, or runs without its control socket. */
export class ControlUnavailable extends Error {}

export class ControlRefused extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export interface ControlEndpoint {
  spoolDir: string;
  /** "host:port" of the TCP listener, instead of the socket. */
  url?: string;
  token?: string;
}

export function controlTarget(ep: ControlEndpoint): HttpTarget {
  if (ep.url) {
    const m = /^(?:http:\/\/)?([^:/]+):(\d+)\/?$/.exec(ep.url);
    if (!m) throw new ControlRefused(`--url ${ep.url}: expected host:port`, 2);
    return { host: m[1]!, port: Number(m[2]) };
  }
  return { socketPath: path.join(ep.spoolDir, CONTROL_SOCKET_NAME) };
}

/** A JSON request; the parsed answer, or ControlRefused with the server's error. */
export async function controlRequest<T>(ep: ControlEndpoint, method: string, urlPath: string, body?: unknown): Promise<T> {
  let reply: { status: number; body: string };
  try {
    reply = await httpRequest(
      controlTarget(ep),
      method,
      urlPath,
      body === undefined ? undefined : JSON.stringify(body),
      ep.token ? { authorization: `Bearer ${ep.token}` } : {},
    );
  } catch (err) {
    if (err instanceof HttpUnreachable) throw new ControlUnavailable(err.message);
    // EACCES: the socket is 0660, for the server's user and group; anything else is worth saying too.
    throw new ControlRefused(`cannot talk to joind's control API: ${(err as Error).message}`, 0);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply.body);
  } catch {
    throw new ControlRefused(`the server answered ${reply.status} with something that is not JSON`, reply.status);
  }
  if (reply.status >= 400) {
    const message = (parsed as { error?: string }).error ?? `status ${reply.status}`;
    throw new ControlRefused(message, reply.status, parsed);
  }
  return parsed as T;
}
