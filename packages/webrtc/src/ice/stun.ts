import { createHmac, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** Just enough STUN (RFC 5389) to route datagrams and connections and to authenticate requests. */
export const StunClass = { request: 0, indication: 1, success: 2, error: 3 } as const;
export type StunClass = (typeof StunClass)[keyof typeof StunClass];

/** The USERNAME a viewer puts in its binding requests to us (RFC 8445 §7.2.2): ours, then its own. */
export function iceUsername(serverUfrag: string, viewerUfrag: string): string {
  return `${serverUfrag}:${viewerUfrag}`;
}

const stunMagicCookie = 0x2112a442;
const headerBytes = 20;
const usernameAttribute = 0x0006;
const messageIntegrityAttribute = 0x0008;
const fingerprintAttribute = 0x8028;
const fingerprintXor = 0x5354554e;

/** Reads the little of a STUN header the mux routes by; undefined for anything that is not STUN. */
export function readStun(
  data: Buffer,
): { cls: StunClass; transactionId: string; username?: string } | undefined {
  // RFC 5389: the first two bits are zero and the magic cookie follows the length.
  if (data.length < headerBytes || (data[0] ?? 0xff) > 0x03 || data.readUInt32BE(4) !== stunMagicCookie)
    return undefined;
  const type = data.readUInt16BE(0);
  const cls = (((type >> 7) & 0x2) | ((type >> 4) & 0x1)) as StunClass;
  const transactionId = data.toString('hex', 8, 20);
  if (cls !== StunClass.request && cls !== StunClass.indication) return { cls, transactionId };
  const end = Math.min(data.length, headerBytes + data.readUInt16BE(2));
  for (let offset = headerBytes; offset + 4 <= end; ) {
    const attribute = data.readUInt16BE(offset);
    const length = data.readUInt16BE(offset + 2);
    if (offset + 4 + length > end) break;
    if (attribute === usernameAttribute) {
      return { cls, transactionId, username: data.toString('utf8', offset + 4, offset + 4 + length) };
    }
    offset += 4 + Math.ceil(length / 4) * 4;
  }
  return { cls, transactionId };
}

/**
 * True when a STUN message carries a MESSAGE-INTEGRITY made with `password` and a valid
 * FINGERPRINT as its last attribute: what RFC 8445 §7.3 asks of a binding request before an agent
 * answers it or learns anything from it (short-term credentials, the key is the receiver's ICE
 * password; §7.2.2 makes FINGERPRINT mandatory in checks).
 *
 * RFC 5389 §15.4: the HMAC-SHA1 covers the message up to the attribute, with the header's length
 * field set as if MESSAGE-INTEGRITY were the last attribute. §15.5: the FINGERPRINT is the CRC-32 of
 * the message up to it, XOR 0x5354554e. Attributes between the two are not allowed.
 */
export function verifyStunIntegrity(data: Buffer, password: string): boolean {
  if (data.length < headerBytes || data.readUInt32BE(4) !== stunMagicCookie) return false;
  const end = headerBytes + data.readUInt16BE(2);
  if (end > data.length || end % 4 !== 0) return false;
  let integrityAt = -1;
  let fingerprintAt = -1;
  for (let offset = headerBytes; offset < end; ) {
    if (offset + 4 > end || fingerprintAt >= 0) return false;
    const attribute = data.readUInt16BE(offset);
    const length = data.readUInt16BE(offset + 2);
    if (offset + 4 + length > end) return false;
    if (attribute === messageIntegrityAttribute) {
      if (length !== 20 || integrityAt >= 0) return false;
      integrityAt = offset;
    } else if (attribute === fingerprintAttribute) {
      if (length !== 4) return false;
      fingerprintAt = offset;
    } else if (integrityAt >= 0) {
      return false;
    }
    offset += 4 + Math.ceil(length / 4) * 4;
  }
  if (integrityAt < 0 || fingerprintAt !== end - 8) return false;
  if (
    (crc32(data.subarray(0, fingerprintAt)) ^ fingerprintXor) >>> 0 !==
    data.readUInt32BE(fingerprintAt + 4)
  )
    return false;
  const header = Buffer.from(data.subarray(0, headerBytes));
  header.writeUInt16BE(integrityAt + 24 - headerBytes, 2);
  const expected = createHmac('sha1', password)
    .update(header)
    .update(data.subarray(headerBytes, integrityAt))
    .digest();
  return timingSafeEqual(expected, data.subarray(integrityAt + 4, integrityAt + 24));
}
