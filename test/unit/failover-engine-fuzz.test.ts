// A hostile or broken peer (issue 13 point 2: "a hostile or malformed message drops the link, never the
// server"): thousands of messages of every type with random options, and random bytes through the codec,
// fed to an engine over a fake connection in every phase of a session. The engine must never throw, must
// drop the connection on what it cannot accept, and its store must stay readable and consistent: every
// address of the failover range keeps exactly one record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeMessage,
  type FailoverMessage,
  MESSAGE_TYPES,
  type MessageTypeName,
  OPTIONS,
  type OptionValues,
  ALLOWED,
  SERVER_STATES,
} from '../../src/failover';
import { ip } from '../../src/util/ipv4';
import { makeAllocBed, pairFiles } from '../helpers/alloc';
import { makeRandom } from '../helpers/random';
import { engineOn, FakeConnection, pairSettings } from '../helpers/pair';

const FIELDS = new Map(OPTIONS.filter((o) => o.field).map((o) => [o.field!, o.type]));
const RANGE_START = ip('10.9.1.10');

function randomValue(r: () => number, field: keyof OptionValues): unknown {
  const type = FIELDS.get(field);
  const pick = r();
  switch (type) {
    case 'u8':
      return Math.floor(r() * 256);
    case 'u16':
      return Math.floor(r() * 65536);
    case 'u32':
    case 'ip':
      // Mostly addresses of the range and sensible numbers, sometimes anything.
      if (field === 'assignedIpAddress' && pick < 0.8) return RANGE_START + Math.floor(r() * 8);
      if (field === 'bindingStatus' || field === 'serverState') return Math.floor(r() * 12);
      return pick < 0.5 ? Math.floor(Date.now() / 1000 + (r() - 0.5) * 7200) : Math.floor(r() * 0x100000000);
    case 'text':
      return 'x'.repeat(Math.floor(r() * 20));
    case 'hba':
      return Buffer.alloc(32, Math.floor(r() * 256));
    default:
      return Buffer.from(Array.from({ length: Math.floor(r() * 24) }, () => Math.floor(r() * 256)));
  }
}

function randomMessage(r: () => number): FailoverMessage {
  const types = Object.keys(MESSAGE_TYPES) as MessageTypeName[];
  const type = types[Math.floor(r() * types.length)]!;
  const msg: Record<string, unknown> = { type, time: Math.floor(Date.now() / 1000), xid: Math.floor(r() * 0x100000000) };
  for (const field of ALLOWED[type] as readonly string[]) {
    if (field === 'ddns' || r() < 0.3) continue;
    if (field === 'relationshipName') msg[field] = Buffer.from(r() < 0.7 ? 'pair' : 'other');
    else msg[field] = randomValue(r, field as keyof OptionValues);
  }
  if (type === 'STATE' && r() < 0.7) {
    const names = Object.keys(SERVER_STATES) as (keyof typeof SERVER_STATES)[];
    msg.serverState = SERVER_STATES[names[Math.floor(r() * names.length)]!];
  }
  return msg as FailoverMessage;
}

test('fuzz: random messages of every type never throw, and the failover range keeps one record per address', () => {
  for (const role of ['primary', 'secondary'] as const) {
    const bed = makeAllocBed({ files: pairFiles(role) });
    const engine = engineOn(bed, pairSettings(role));
    const random = makeRandom(role === 'primary' ? 13 : 31);
    const r = () => random.unit();
    let conn = new FakeConnection();
    let drops = 0;
    for (let i = 0; i < 4000; i++) {
      if (!conn.open) {
        engine.onClose(conn, 'closed');
        drops++;
        conn = new FakeConnection();
        engine.onConnection(conn);
        // Half of the sessions begin properly, so that the later messages meet an open session.
        if (role === 'secondary' && r() < 0.5) {
          engine.onMessage(conn, {
            type: 'CONNECT',
            time: Math.floor(Date.now() / 1000),
            xid: i,
            relationshipName: Buffer.from('pair'),
            maxUnacked: 4,
            receiveTimer: 5,
            mclt: 300,
            hba: Buffer.alloc(32, 0x0f),
          });
        }
        if (role === 'primary' && r() < 0.5) {
          engine.onMessage(conn, {
            type: 'CONNECTACK',
            time: Math.floor(Date.now() / 1000),
            xid: i,
            relationshipName: Buffer.from('pair'),
          });
        }
      }
      // Now and then raw bytes through the decoder instead: whatever it makes of them reaches the engine.
      if (r() < 0.2) {
        const bytes = Buffer.from(Array.from({ length: 12 + Math.floor(r() * 60) }, () => Math.floor(r() * 256)));
        bytes.writeUInt16BE(bytes.length, 0);
        bytes[3] = 12;
        const decoded = decodeMessage(bytes);
        if (decoded.ok) assert.doesNotThrow(() => engine.onMessage(conn, decoded.message));
        continue;
      }
      const msg = randomMessage(r);
      assert.doesNotThrow(() => engine.onMessage(conn, msg), `${role} message ${i}: ${msg.type}`);
    }
    bed.store.flush();
    assert.ok(drops > 10, `${role}: broken sessions were dropped (${drops})`);
    const addresses = [...bed.store.leases.inRange(ip('10.9.1.10'), ip('10.9.1.15'))].map((rec) => rec.address);
    assert.deepEqual(
      addresses,
      [10, 11, 13, 14, 15].map((n) => ip(`10.9.1.${n}`)),
      `${role}: one record per address of the range`,
    );
    const stats = engine.status().stats;
    assert.ok(stats.updatesReceived > 100, `${role}: binding updates reached an open session (${stats.updatesReceived})`);
    assert.ok(stats.updatesRefused > 0 && stats.updatesRefused < stats.updatesReceived, `${role}: some refused, some taken`);
    assert.ok(stats.badMessages > 0, `${role}: bad messages counted`);
    engine.stop();
    bed.close();
  }
});
