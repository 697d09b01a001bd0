// TSIG (RFC 8945, which obsoletes RFC 2845): signs a request and verifies the answer with a shared
// secret, as BIND's update-policy requires. No npm library signs with TSIG (shared/ddns-research.md
// 1.3), and it is an HMAC over bytes we already hold.
//
// The MAC covers the message as sent, without its TSIG RR (ARCOUNT one less, the original ID), then
// the "TSIG variables": key name and algorithm name in canonical form (lower case, uncompressed), class
// ANY, TTL 0, time signed (48 bits), fudge, error, other data. An answer's MAC is computed with the
// request's MAC (length-prefixed) in front, which ties the answer to the request.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readMessageName } from '../codec/dnsname';
import { DnsClass, DnsType, Rcode, decodeMessage, nameBytes, rcodeName, recordBytes } from './message';

/** The HMAC algorithms of RFC 8945 6 with the node digest each uses. MD5 only for old keys. */
export const TSIG_ALGORITHMS = {
  'hmac-md5': { wireName: 'hmac-md5.sig-alg.reg.int', digest: 'md5' },
  'hmac-sha1': { wireName: 'hmac-sha1', digest: 'sha1' },
  'hmac-sha224': { wireName: 'hmac-sha224', digest: 'sha224' },
  'hmac-sha256': { wireName: 'hmac-sha256', digest: 'sha256' },
  'hmac-sha384': { wireName: 'hmac-sha384', digest: 'sha384' },
  'hmac-sha512': { wireName: 'hmac-sha512', digest: 'sha512' },
} as const;

export type TsigAlgorithm = keyof typeof TSIG_ALGORITHMS;

export interface TsigKey {
  /** The key's name as both servers know it ("ddns-key"), without the trailing dot. */
  name: string;
  algorithm: TsigAlgorithm;
  secret: Buffer;
}

/** RFC 8945 5.2.3 recommends 300 s: how far apart the two clocks may be. */
export const DEFAULT_FUDGE = 300;

interface TsigFields {
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
}

function uint48(value: number): Buffer {
  const out = Buffer.alloc(6);
  out.writeUIntBE(value, 0, 6);
  return out;
}

function canonicalName(name: string): Buffer {
  return nameBytes(name.toLowerCase());
}

/** The TSIG variables (RFC 8945 4.3.3) for the key and these fields. */
function variables(key: TsigKey, fields: Omit<TsigFields, 'mac' | 'originalId' | 'algorithm'>): Buffer {
  const classTtl = Buffer.alloc(6);
  classTtl.writeUInt16BE(DnsClass.ANY, 0);
  const tail = Buffer.alloc(6);
  tail.writeUInt16BE(fields.fudge, 0);
  tail.writeUInt16BE(fields.error, 2);
  tail.writeUInt16BE(fields.other.length, 4);
  return Buffer.concat([
    canonicalName(key.name),
    classTtl,
    canonicalName(TSIG_ALGORITHMS[key.algorithm].wireName),
    uint48(fields.timeSigned),
    tail,
    fields.other,
  ]);
}

function hmac(key: TsigKey, parts: readonly Buffer[]): Buffer {
  const h = createHmac(TSIG_ALGORITHMS[key.algorithm].digest, key.secret);
  for (const part of parts) h.update(part);
  return h.digest();
}

function tsigRdata(key: TsigKey, fields: TsigFields): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(fields.fudge, 0);
  fixed.writeUInt16BE(fields.mac.length, 2);
  const after = Buffer.alloc(6);
  after.writeUInt16BE(fields.originalId, 0);
  after.writeUInt16BE(fields.error, 2);
  after.writeUInt16BE(fields.other.length, 4);
  return Buffer.concat([
    nameBytes(TSIG_ALGORITHMS[key.algorithm].wireName),
    uint48(fields.timeSigned),
    fixed.subarray(0, 4),
    fields.mac,
    after,
    fields.other,
  ]);
}

/**
 * Signs `message` (a whole request, ARCOUNT not counting the TSIG RR) at `timeSigned` (seconds since
 * 1970): returns the message with its TSIG RR appended and ARCOUNT one more, and the MAC, which the
 * answer's verification needs.
 */
export function signMessage(
  message: Buffer,
  key: TsigKey,
  timeSigned: number,
  fudge = DEFAULT_FUDGE,
): { wire: Buffer; mac: Buffer } {
  const fields = { timeSigned, fudge, error: 0, other: Buffer.alloc(0) };
  const mac = hmac(key, [message, variables(key, fields)]);
  const rr = recordBytes({
    name: key.name,
    type: DnsType.TSIG,
    class: DnsClass.ANY,
    ttl: 0,
    rdata: tsigRdata(key, { ...fields, algorithm: key.algorithm, mac, originalId: message.readUInt16BE(0) }),
  });
  const wire = Buffer.concat([message, rr]);
  wire.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { wire, mac };
}

export type VerifyResult =
  | { ok: true }
  /** `tsigError`: the error the server put in its TSIG RR (BADSIG, BADKEY, BADTIME), when it did. */
  | { ok: false; message: string; tsigError?: number; serverTime?: number };

function readTsigRdata(message: Buffer, rdataOffset: number, rdataEnd: number): TsigFields | undefined {
  const alg = readMessageName(message, rdataOffset);
  if (!alg.ok) return undefined;
  let at = alg.value.next;
  if (at + 10 > rdataEnd) return undefined;
  const timeSigned = message.readUIntBE(at, 6);
  const fudge = message.readUInt16BE(at + 6);
  const macLength = message.readUInt16BE(at + 8);
  at += 10;
  if (at + macLength + 6 > rdataEnd) return undefined;
  const mac = message.subarray(at, at + macLength);
  at += macLength;
  const originalId = message.readUInt16BE(at);
  const error = message.readUInt16BE(at + 2);
  const otherLength = message.readUInt16BE(at + 4);
  at += 6;
  if (at + otherLength !== rdataEnd) return undefined;
  return {
    algorithm: alg.value.name.toLowerCase(),
    timeSigned,
    fudge,
    mac,
    originalId,
    error,
    other: message.subarray(at, rdataEnd),
  };
}

/**
 * Verifies an answer to a request signed with `key` whose MAC was `requestMac`: it must carry a TSIG RR
 * of that key as its last record, with no TSIG error, a MAC that matches, and a time within the fudge of
 * `nowSeconds`. An unsigned answer fails (a server that holds the key always signs; an attacker cannot).
 */
export function verifyAnswer(answer: Buffer, key: TsigKey, requestMac: Buffer, nowSeconds: number): VerifyResult {
  const decoded = decodeMessage(answer);
  if (!decoded.ok) return { ok: false, message: `answer does not decode: ${decoded.message}` };
  const last = decoded.value.additional[decoded.value.additional.length - 1];
  if (!last || last.type !== DnsType.TSIG) {
    return { ok: false, message: `answer is not signed (${rcodeName(decoded.value.rcode)})` };
  }
  const fields = readTsigRdata(answer, last.rdataOffset, last.rdataOffset + last.rdata.length);
  // Class and TTL are fixed (RFC 8945 4.2), and outside the MAC: check them here.
  if (!fields || last.class !== DnsClass.ANY || last.ttl !== 0) return { ok: false, message: 'answer has a damaged TSIG record' };
  if (last.name.toLowerCase() !== key.name.toLowerCase() || fields.algorithm !== TSIG_ALGORITHMS[key.algorithm].wireName) {
    return { ok: false, message: `answer is signed with key "${last.name}" (${fields.algorithm}), not "${key.name}"` };
  }
  if (fields.error !== Rcode.NOERROR) {
    const serverTime = fields.error === Rcode.BADTIME && fields.other.length === 6 ? fields.other.readUIntBE(0, 6) : undefined;
    return {
      ok: false,
      message: `the server refused the signature: ${rcodeName(fields.error)}`,
      tsigError: fields.error,
      ...(serverTime !== undefined ? { serverTime } : {}),
    };
  }
  // The answer without its TSIG RR, with the original ID and ARCOUNT one less.
  const unsigned = Buffer.from(answer.subarray(0, last.offset));
  unsigned.writeUInt16BE(fields.originalId, 0);
  unsigned.writeUInt16BE(answer.readUInt16BE(10) - 1, 10);
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(requestMac.length, 0);
  const expected = hmac(key, [prefix, requestMac, unsigned, variables(key, fields)]);
  if (fields.mac.length !== expected.length || !timingSafeEqual(fields.mac, expected)) {
    return { ok: false, message: "the answer's TSIG MAC does not match (wrong secret, or the answer was altered)" };
  }
  if (Math.abs(nowSeconds - fields.timeSigned) > fields.fudge) {
    return {
      ok: false,
      message: `the answer was signed at ${fields.timeSigned}, ${nowSeconds - fields.timeSigned} s from our clock`,
    };
  }
  return { ok: true };
}
