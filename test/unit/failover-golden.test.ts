// The failover codec against ISC dhcpd 4.4.3 itself: every message kept from a dhcpd+dhcpd pair run
// (test/fixtures/failover/, made by test/system/failover-dhcpd-pair.test.sh) decodes with nothing skipped,
// has the type and the variant its file name says, and encodes back to the very same bytes (so joind
// writes the options in dhcpd's order and dhcpd's sizes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FailoverFramer, bindingStateName, decodeMessage, encodeMessage, serverStateName } from '../../src/failover';

const DIR = path.resolve(__dirname, '../../../test/fixtures/failover');
const NAME = /^(\d{4})-(p2s|s2p)-([a-z]+)(?:-(.+))?\.bin$/;

const goldens = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.bin'))
  .sort();

/** The variant a file name gives: the binding status, the server state or `reject-N`. */
function variantOf(message: ReturnType<typeof decodeMessage> & { ok: true }): string | undefined {
  const m = message.message as { bindingStatus?: number; serverState?: number; rejectReason?: number };
  if (m.rejectReason !== undefined) return `reject-${m.rejectReason}`;
  if (m.bindingStatus !== undefined) return bindingStateName(m.bindingStatus);
  if (m.serverState !== undefined) return serverStateName(m.serverState);
  return undefined;
}

test('the golden set is there and covers the normal-operation messages', () => {
  const types = new Set(goldens.map((f) => NAME.exec(f)?.[3]));
  for (const t of ['connect', 'connectack', 'state', 'updreqall', 'upddone', 'bndupd', 'bndack', 'contact']) {
    assert.ok(types.has(t), `no golden ${t} in ${DIR}`);
  }
});

for (const file of goldens) {
  test(`golden ${file}: decodes, names its type, re-encodes byte for byte`, () => {
    const parts = NAME.exec(file);
    assert.ok(parts, `${file}: not NNNN-DIR-TYPE[-VARIANT].bin`);
    const bytes = fs.readFileSync(path.join(DIR, file));
    const decoded = decodeMessage(bytes);
    assert.ok(decoded.ok, `${file}: ${decoded.ok ? '' : decoded.error.message}`);
    assert.deepEqual(decoded.skipped, [], `${file}: dhcpd sent options joind skips`);
    assert.equal(decoded.message.type.toLowerCase(), parts[3]);
    if (parts[4] !== undefined) assert.equal(variantOf(decoded), parts[4]);
    assert.deepEqual(encodeMessage(decoded.message), bytes);
  });
}

test('the goldens framed as one stream come out as the same messages', () => {
  const all = goldens.map((f) => fs.readFileSync(path.join(DIR, f)));
  const stream = Buffer.concat(all);
  const framer = new FailoverFramer();
  const out: Buffer[] = [];
  // Fed in uneven slices, as TCP delivers them.
  for (let at = 0, step = 1; at < stream.length; at += step, step = (step * 7 + 3) % 97 || 1) {
    const result = framer.feed(stream.subarray(at, at + step));
    assert.equal(result.error, undefined);
    out.push(...result.frames);
  }
  assert.deepEqual(out, all);
});
