/**
 * Failover message bytes built by hand, independent of the encoder, for tests that need what the
 * encoder refuses to produce: header fields as given, options in the order given.
 */
export function rawFailoverMessage(
  type: number,
  options: Array<[number, Buffer]>,
  opts: { time?: number; xid?: number; payoff?: number; extraHeader?: Buffer } = {},
): Buffer {
  const extra = opts.extraHeader ?? Buffer.alloc(0);
  const body = Buffer.concat(
    options.map(([code, data]) => {
      const head = Buffer.alloc(4);
      head.writeUInt16BE(code, 0);
      head.writeUInt16BE(data.length, 2);
      return Buffer.concat([head, data]);
    }),
  );
  const header = Buffer.alloc(12);
  header.writeUInt16BE(12 + extra.length + body.length, 0);
  header[2] = type;
  header[3] = opts.payoff ?? 12 + extra.length;
  header.writeUInt32BE(opts.time ?? 1700000000, 4);
  header.writeUInt32BE(opts.xid ?? 7, 8);
  return Buffer.concat([header, extra, body]);
}
