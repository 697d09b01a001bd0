import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inetAddr, parseInetAddr } from '../../src/config/inetaddr';
import { ip } from '../../src/util/ipv4';

test('inet_addr: four fields, each decimal, octal or hex', () => {
  assert.equal(parseInetAddr('10.1.0.5'), ip('10.1.0.5'));
  assert.equal(parseInetAddr('0x0a.0x01.0.05'), ip('10.1.0.5'));
  assert.equal(parseInetAddr('012.1.0.010'), ip('10.1.0.8'), 'leading 0 is octal');
  assert.equal(parseInetAddr('0XFF.0377.255.0xff'), 0xffffffff);
  assert.equal(parseInetAddr('0.0.0.0'), 0);
});

test('inet_addr: short forms fill the low-order bits', () => {
  assert.equal(parseInetAddr('10.1.300'), ip('10.1.1.44'), 'a.b.d: d fills 16 bits');
  assert.equal(parseInetAddr('10.1.0xffff'), ip('10.1.255.255'));
  assert.equal(parseInetAddr('10.65536'), ip('10.1.0.0'), 'a.d: d fills 24 bits');
  assert.equal(parseInetAddr('127.1'), ip('127.0.0.1'));
  assert.equal(parseInetAddr('167837697'), ip('10.1.0.1'), 'd: 32 bits');
  assert.equal(parseInetAddr('0xffffffff'), 0xffffffff);
  assert.equal(parseInetAddr('037777777777'), 0xffffffff);
});

test('inet_addr: out-of-range fields and malformed text are rejected with a reason', () => {
  for (const bad of [
    '256.1.1.1',
    '10.1.1.256',
    '10.1.65536',
    '10.16777216',
    '4294967296',
    '0x100000000',
    '99999999999999999999',
  ]) {
    const r = inetAddr(bad);
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.match(r.reason, /larger than/, bad);
  }
  for (const bad of [
    '',
    '10..1.1',
    '10.1.1.',
    '.10.1.1',
    '1.2.3.4.5',
    '08.1.1.1',
    '0x.1.1.1',
    '10.1.1.x',
    '-1',
    ' 10.1.1.1',
    '10.1.1.1 ',
    '+5',
  ]) {
    assert.equal(parseInetAddr(bad), undefined, JSON.stringify(bad));
  }
  const r = inetAddr('10.1.1.300');
  assert.ok(!r.ok && r.reason.includes('"300" is larger than 255'));
  const five = inetAddr('1.2.3.4.5');
  assert.ok(!five.ok && five.reason.includes('at most 4'));
  const octal = inetAddr('09.1.1.1');
  assert.ok(!octal.ok && octal.reason.includes('"09"'));
});
