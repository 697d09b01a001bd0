// The DNS update client's wire parts (src/dns): DHCID against the three examples of RFC 4701 section
// 3.6; TSIG against an UPDATE and its answer signed by an independent implementation (dnspython, see
// test/fixtures/dns/make-tsig-fixture.py): our signature of the same bytes must be byte-identical, and
// the answer must verify, and fail for any altered byte, another secret, another key or a far clock;
// UPDATE encoding byte by byte; the decoder on damaged and random input (never throws); BIND key files
// as tsig-keygen writes them, and their mistakes with line and column.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProblemSink } from '../../src/config/problems';
import { parseKeyFile } from '../../src/config/keyfile';
import { dhcidIdentifierOf, dhcidRdata, interimTxtRdata } from '../../src/dns/dhcid';
import {
  DnsClass,
  DnsType,
  Rcode,
  aRdata,
  decodeMessage,
  encodeQuery,
  encodeUpdate,
  nameRdata,
  soaPrimary,
  txtRdata,
} from '../../src/dns/message';
import { signMessage, verifyAnswer, type TsigKey } from '../../src/dns/tsig';
import { ip } from '../../src/util/ipv4';
import { makeRandom } from '../helpers/random';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s:]/g, ''), 'hex');

test('DHCID: the three examples of RFC 4701 3.6', () => {
  const byHwaddr = dhcidRdata({ kind: 'hwaddr', htype: 1, chaddr: hex('010203040506') }, 'client.example.com.');
  assert.equal(byHwaddr.toString('base64'), 'AAABxLmlskllE0MVjd57zHcWmEH3pCQ6VytcKD//7es/deY=');
  const byClientId = dhcidRdata({ kind: 'client-id', clientId: hex('010708090a0b0c') }, 'chi.example.com.');
  assert.equal(byClientId.toString('base64'), 'AAEBOSD+XR3Os/0LozeXVqcNc7FwCfQdWL3b/NaiUDlW2No=');
  const byDuid = dhcidRdata({ kind: 'duid', duid: hex('00010006412df166010203040506') }, 'chi6.example.com');
  assert.equal(byDuid.toString('base64'), 'AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=');
  // The name is hashed in canonical (lower-case) form: the client's capitals change nothing.
  assert.deepEqual(dhcidRdata({ kind: 'hwaddr', htype: 1, chaddr: hex('010203040506') }, 'Client.EXAMPLE.com'), byHwaddr);
});

test('DHCID: which identifier a DHCPv4 client gives', () => {
  const chaddr = hex('020000000001');
  assert.deepEqual(dhcidIdentifierOf(undefined, 1, chaddr), { kind: 'hwaddr', htype: 1, chaddr });
  assert.deepEqual(dhcidIdentifierOf(Buffer.alloc(0), 1, chaddr), { kind: 'hwaddr', htype: 1, chaddr });
  const cid = hex('01020000000001');
  assert.deepEqual(dhcidIdentifierOf(cid, 1, chaddr), { kind: 'client-id', clientId: cid });
  // RFC 4361: type 255, IAID (4 octets), DUID.
  const rfc4361 = hex('ff 00000001 00010006412df166010203040506');
  assert.deepEqual(dhcidIdentifierOf(rfc4361, 1, chaddr), { kind: 'duid', duid: hex('00010006412df166010203040506') });
});

// The fixture of make-tsig-fixture.py.
const KEY: TsigKey = {
  name: 'ddns-key',
  algorithm: 'hmac-sha256',
  secret: Buffer.from('AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=', 'base64'),
};
const TIME_SIGNED = 1796490000;
const REQUEST = hex(
  '123428000001000100020001076578616d706c6503636f6d000006000106636c69656e74c00c00ff00fe000000000000c01d00010001000002580004c000020ac01d00310001000002580023000001c4b9a5b249651343158dde7bcc77169841f7a4243a572b5c283fffedeb3f75e60864646e732d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b144310012c0020b814c62fc40ee767006cc0faf35c58aecb7356f0f15f773d39e282d5b868e455123400000000',
);
const REQUEST_MAC = hex('b814c62fc40ee767006cc0faf35c58aecb7356f0f15f773d39e282d5b868e455');
const ANSWER = hex(
  '1234a8000001000000000001076578616d706c6503636f6d00000600010864646e732d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b144310012c00207f419c2b56ed5de0f9770e9a18b8a1687071994cdba88bc5487dc8a681a70b25123400000000',
);

/** The request without its TSIG RR, ARCOUNT back to 0: what we would sign. */
function unsignedRequest(): Buffer {
  const decoded = decodeMessage(REQUEST);
  assert.ok(decoded.ok);
  const tsig = decoded.value.additional.at(-1)!;
  assert.equal(tsig.type, DnsType.TSIG);
  const unsigned = Buffer.from(REQUEST.subarray(0, tsig.offset));
  unsigned.writeUInt16BE(0, 10);
  return unsigned;
}

test('interim TXT: dhcpd\'s type characters (61 gives "31", its type % 15 slip) and hex MD5, one string', () => {
  // Digests computed with python's hashlib, independently of node's crypto.
  const byHw = interimTxtRdata(undefined, 1, hex('010203040506'));
  assert.equal(byHw[0], 34, 'one character-string of 34 characters');
  assert.equal(byHw.subarray(1).toString('ascii'), '0046b6cacea62dc1d4567b068175d1f808', 'type 0: htype and chaddr');
  const byId = interimTxtRdata(hex('010708090a0b0c'), 1, hex('0708090a0b0c'));
  assert.equal(byId.subarray(1).toString('ascii'), '31934ffa9344a3ab86c380505a671e5113', 'type 61: the whole option 61');
  assert.deepEqual(interimTxtRdata(Buffer.alloc(0), 1, hex('010203040506')), byHw, 'an empty option 61 is none');
});

test("TSIG: signing the same UPDATE gives dnspython's bytes and MAC exactly", () => {
  const signed = signMessage(unsignedRequest(), KEY, TIME_SIGNED);
  assert.equal(signed.mac.toString('hex'), REQUEST_MAC.toString('hex'));
  assert.equal(signed.wire.toString('hex'), REQUEST.toString('hex'));
  // Another time, another secret or another key name: another MAC.
  assert.notDeepEqual(signMessage(unsignedRequest(), KEY, TIME_SIGNED + 1).mac, REQUEST_MAC);
  assert.notDeepEqual(signMessage(unsignedRequest(), { ...KEY, secret: Buffer.alloc(32, 1) }, TIME_SIGNED).mac, REQUEST_MAC);
  assert.notDeepEqual(signMessage(unsignedRequest(), { ...KEY, name: 'other-key' }, TIME_SIGNED).mac, REQUEST_MAC);
  // The key name is hashed in canonical (lower-case) form.
  assert.deepEqual(signMessage(unsignedRequest(), { ...KEY, name: 'DDNS-Key' }, TIME_SIGNED).mac, REQUEST_MAC);
});

test('TSIG: the signed answer verifies; any change to it, the secret, the key or the clock does not', () => {
  assert.deepEqual(verifyAnswer(ANSWER, KEY, REQUEST_MAC, TIME_SIGNED + 10), { ok: true });
  // From byte 2: the header ID is outside the MAC (RFC 8945 4.3.3 hashes the original ID of the TSIG RR
  // instead, so forwarders may change it); the client matches it against its request.
  for (let i = 2; i < ANSWER.length; i++) {
    const altered = Buffer.from(ANSWER);
    altered[i]! ^= 0x01;
    assert.equal(verifyAnswer(altered, KEY, REQUEST_MAC, TIME_SIGNED).ok, false, `byte ${i} altered, still verified`);
  }
  const otherSecret = verifyAnswer(ANSWER, { ...KEY, secret: Buffer.alloc(32, 7) }, REQUEST_MAC, TIME_SIGNED);
  assert.equal(otherSecret.ok, false);
  assert.match(!otherSecret.ok ? otherSecret.message : '', /MAC does not match/);
  const otherKey = verifyAnswer(ANSWER, { ...KEY, name: 'other-key' }, REQUEST_MAC, TIME_SIGNED);
  assert.match(!otherKey.ok ? otherKey.message : '', /signed with key "ddns-key"/);
  // The request MAC binds the answer to its request.
  const otherRequest = verifyAnswer(ANSWER, KEY, Buffer.alloc(32), TIME_SIGNED);
  assert.equal(otherRequest.ok, false);
  const late = verifyAnswer(ANSWER, KEY, REQUEST_MAC, TIME_SIGNED + 301);
  assert.match(!late.ok ? late.message : '', /301 s from our clock/);
  assert.equal(verifyAnswer(ANSWER, KEY, REQUEST_MAC, TIME_SIGNED - 300).ok, true);
});

/** An answer carrying only a TSIG RR with this error, unsigned (MAC size 0), as BIND sends BADKEY. */
function refusedAnswer(error: number, other: Buffer = Buffer.alloc(0)): Buffer {
  const head = hex('1234a8090001000000000001 076578616d706c6503636f6d0000060001');
  const alg = nameRdata('hmac-sha256');
  const rdata = Buffer.alloc(alg.length + 16 + other.length);
  alg.copy(rdata, 0);
  const at = alg.length;
  rdata.writeUIntBE(TIME_SIGNED, at, 6);
  rdata.writeUInt16BE(300, at + 6);
  rdata.writeUInt16BE(0, at + 8); // MAC size 0
  rdata.writeUInt16BE(0x1234, at + 10);
  rdata.writeUInt16BE(error, at + 12);
  rdata.writeUInt16BE(other.length, at + 14);
  other.copy(rdata, at + 16);
  const rr = Buffer.concat([
    nameRdata('ddns-key'),
    hex('00fa 00ff 00000000'),
    Buffer.from([rdata.length >> 8, rdata.length & 0xff]),
    rdata,
  ]);
  return Buffer.concat([head, rr]);
}

test("TSIG: the server's refusals (BADKEY, BADSIG, BADTIME with its clock) and unsigned answers", () => {
  const badKey = verifyAnswer(refusedAnswer(Rcode.BADKEY), KEY, REQUEST_MAC, TIME_SIGNED);
  assert.deepEqual(badKey, { ok: false, message: 'the server refused the signature: BADKEY', tsigError: Rcode.BADKEY });
  const badSig = verifyAnswer(refusedAnswer(Rcode.BADSIG), KEY, REQUEST_MAC, TIME_SIGNED);
  assert.equal(!badSig.ok && badSig.tsigError, Rcode.BADSIG);
  const serverClock = Buffer.alloc(6);
  serverClock.writeUIntBE(TIME_SIGNED + 3600, 0, 6);
  const badTime = verifyAnswer(refusedAnswer(Rcode.BADTIME, serverClock), KEY, REQUEST_MAC, TIME_SIGNED);
  assert.equal(!badTime.ok && badTime.serverTime, TIME_SIGNED + 3600);
  // REFUSED without a TSIG RR: an unsigned update to a zone that takes only signed ones.
  const refused = hex('1234a8050001000000000000 076578616d706c6503636f6d0000060001');
  assert.deepEqual(verifyAnswer(refused, KEY, REQUEST_MAC, TIME_SIGNED), {
    ok: false,
    message: 'answer is not signed (REFUSED)',
  });
});

test('UPDATE: RFC 4703 add of a name, byte by byte, and decoded back', () => {
  const wire = encodeUpdate({
    id: 0xbeef,
    zone: 'example.com',
    prerequisites: [{ name: 'client.example.com', type: DnsType.ANY, class: DnsClass.NONE, ttl: 0, rdata: Buffer.alloc(0) }],
    updates: [
      { name: 'client.example.com.', type: DnsType.A, class: DnsClass.IN, ttl: 600, rdata: aRdata(ip('192.0.2.10')) },
      { name: 'client.example.com', type: DnsType.TXT, class: DnsClass.IN, ttl: 600, rdata: txtRdata('31abc') },
    ],
  });
  const client = '06636c69656e74 076578616d706c65 03636f6d 00';
  assert.equal(
    wire.toString('hex'),
    hex(
      'beef 2800 0001 0001 0002 0000' + // header: opcode UPDATE, ZO 1, PR 1, UP 2, AD 0
        '076578616d706c6503636f6d00 0006 0001' + // zone example.com SOA IN
        client +
        '00ff 00fe 00000000 0000' + // prereq: name not in use (NONE ANY)
        client +
        '0001 0001 00000258 0004 c000020a' + // add A 192.0.2.10 TTL 600
        client +
        '0010 0001 00000258 0006 053331616263', // add TXT "31abc"
    ).toString('hex'),
  );
  const decoded = decodeMessage(wire);
  assert.ok(decoded.ok);
  assert.equal(decoded.value.opcode, 5);
  assert.deepEqual(decoded.value.questions, [{ name: 'example.com', type: DnsType.SOA, class: DnsClass.IN }]);
  assert.deepEqual(
    decoded.value.answers.map((r) => [r.name, r.type, r.class]),
    [['client.example.com', DnsType.ANY, DnsClass.NONE]],
  );
  assert.deepEqual(
    decoded.value.authority.map((r) => [r.name, r.type, r.ttl, r.rdata.toString('hex')]),
    [
      ['client.example.com', DnsType.A, 600, 'c000020a'],
      ['client.example.com', DnsType.TXT, 600, '053331616263'],
    ],
  );
  assert.throws(() => txtRdata('x'.repeat(256)), /longer than 255/);
});

test('SOA query and the primary master of a compressed answer', () => {
  const query = encodeQuery(7, '1.77.10.in-addr.arpa', DnsType.SOA);
  assert.equal(
    query.toString('hex'),
    hex('0007 0000 0001 0000 0000 0000 0131 023737 023130 07696e2d61646472 0461727061 00 0006 0001').toString('hex'),
  );
  // An answer as named writes it: the owner and MNAME compressed against the question.
  const answer = Buffer.concat([
    hex('0007 8400 0001 0001 0000 0000'),
    query.subarray(12),
    hex('c00c 0006 0001 00000e10 0021'),
    hex('026e73 c00c'), // MNAME ns.<question>
    hex('0561646d696e c00c'), // RNAME admin.<question>
    hex('00000001 00000e10 00000384 00093a80 00000e10'),
  ]);
  const decoded = decodeMessage(answer);
  assert.ok(decoded.ok, !decoded.ok ? decoded.message : '');
  assert.equal(decoded.value.response, true);
  assert.equal(decoded.value.authoritative, true);
  const soa = decoded.value.answers[0]!;
  assert.equal(soa.name, '1.77.10.in-addr.arpa');
  assert.deepEqual(soaPrimary(answer, soa), { ok: true, value: 'ns.1.77.10.in-addr.arpa' });
});

test('decodeMessage: damaged answers are errors, random bytes never throw', () => {
  assert.equal(decodeMessage(Buffer.alloc(11)).ok, false);
  assert.equal(decodeMessage(Buffer.concat([ANSWER, Buffer.from([0])])).ok, false); // trailing byte
  assert.equal(decodeMessage(ANSWER.subarray(0, ANSWER.length - 1)).ok, false); // truncated rdata
  // A pointer to itself, and a pointer forwards.
  assert.equal(decodeMessage(hex('0000 8000 0001 0000 0000 0000 c00c 0006 0001')).ok, false);
  assert.equal(decodeMessage(hex('0000 8000 0001 0000 0000 0000 c00e 0006 0001 00')).ok, false);
  const random = makeRandom(0x646e73);
  for (let i = 0; i < 20000; i++) {
    const bytes = Buffer.from(ANSWER);
    const flips = 1 + random.int(4);
    for (let f = 0; f < flips; f++) bytes[random.int(bytes.length)] = random.int(256);
    const cut = random.int(3) === 0 ? bytes.subarray(0, random.int(bytes.length)) : bytes;
    const result = decodeMessage(cut);
    if (result.ok) verifyAnswer(cut, KEY, REQUEST_MAC, TIME_SIGNED);
  }
});

test("key file: tsig-keygen's output, several keys, comments", () => {
  const sink = new ProblemSink();
  const keys = parseKeyFile(
    [
      '# made by tsig-keygen -a hmac-sha256 ddns-key',
      'key "ddns-key" {',
      '\talgorithm hmac-sha256;',
      '\tsecret "W5cV5G7ZdBeqts9uxT4t3WmfCexC4bNheoq64WqRyH0=";',
      '};',
      '/* an old one',
      '   kept for dhcpd */ key old. { algorithm HMAC-MD5.SIG-ALG.REG.INT; secret "AQID"; }; // md5',
    ].join('\n'),
    sink.forFile('ddns.key'),
  );
  assert.deepEqual(sink.items, []);
  assert.deepEqual(keys, [
    { name: 'ddns-key', algorithm: 'hmac-sha256', secret: Buffer.from('W5cV5G7ZdBeqts9uxT4t3WmfCexC4bNheoq64WqRyH0=', 'base64') },
    { name: 'old', algorithm: 'hmac-md5', secret: Buffer.from([1, 2, 3]) },
  ]);
});

test('key file: each mistake with its line and column', () => {
  const problems = (text: string): string[] => {
    const sink = new ProblemSink();
    parseKeyFile(text, sink.forFile('k'));
    return sink.items.map((p) => `${p.line}:${p.column} ${p.message}`);
  };
  assert.deepEqual(problems('key "k" {\n algorithm hmac-sha999;\n secret "AQID";\n};\n'), [
    '2:12 unknown algorithm "hmac-sha999"; expected one of hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512',
  ]);
  assert.deepEqual(problems('key "k" {\n algorithm hmac-sha256;\n secret "not base64!";\n};\n'), [
    '3:9 the secret is not base64',
  ]);
  assert.deepEqual(problems('key "k" {\n algorithm hmac-sha256;\n};\n'), ['1:1 key "k" has no secret']);
  assert.deepEqual(problems('key "k" {\n algorithm hmac-sha256\n secret "AQID";\n};\n'), ['3:2 expected ";", found "secret"']);
  assert.deepEqual(problems('key "k" {\n algorithm hmac-sha256;\n secret "AQID";\n'), ['1:1 key "k" is not closed with "};"']);
  assert.deepEqual(problems('server 10.0.0.1 { keys k; };'), ['1:1 expected "key", found "server"']);
  assert.deepEqual(problems('key "k" {\n secret "AQID;\n};'), [
    '2:9 quoted string is not closed on its line',
    '2:2 expected a value after "secret"',
  ]);
  assert.deepEqual(problems('key "k" {\n owner x;\n algorithm hmac-sha256;\n secret "AQID";\n};'), [
    '2:2 unknown statement "owner" in a key; expected algorithm or secret',
  ]);
  assert.deepEqual(problems('# nothing\n'), ['0:0 no key in the file']);
});
