// dgram's `lookup` for sockets that are only ever given IPv4 literals (every address joind sends to or
// binds is one, formatted by ipToString). Node's default resolves even a literal through dns.lookup,
// which answers on the next tick: one deferred callback and its closures per reply sent. This answers at
// once, so a reply leaves in the same tick that built it.
import type { SocketOptions } from 'node:dgram';

type Lookup = NonNullable<SocketOptions['lookup']>;

export const literalLookup: Lookup = (hostname, options, callback) => {
  // dgram calls lookup(address, 4, callback), not with the options object its type declares.
  const done = typeof options === 'function' ? options : callback;
  done(null, hostname, 4);
};
