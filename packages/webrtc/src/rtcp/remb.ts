/**
 * Receiver Estimated Maximum Bitrate (draft-alvestrand-rmcat-remb-03 §2.2): a PSFB (206) FMT 15
 * packet whose payload starts with `REMB`:
 *
 *   header (V=2, P, FMT=15, PT=206, length) | sender SSRC | media source SSRC (0)
 *   'R' 'E' 'M' 'B' | SSRC count (8) | exponent (6) | mantissa (18) | SSRC feedback … (32 each)
 *
 * bitrate = mantissa × 2^exponent bit/s. Dragon reads it from viewers whose offer had no
 * transport-cc (the estimate is then the browser's own), and writes it to WebRTC publishers to cap
 * their bitrate.
 */
import { applicationFeedbackFormat, readUint32, rtcpPacketType, writeUint32 } from './compound.js';

export type RembStatus = 'ok' | 'not-remb' | 'truncated';

/** One parsed REMB, reused: `parseRemb` overwrites it. */
export class Remb {
  senderSsrc = 0;
  bitrateBps = 0;
  /** SSRCs the estimate applies to: the first `ssrcCount` entries (as many as fit `ssrcs`). */
  ssrcCount = 0;
  readonly ssrcs: Uint32Array;

  /** @param capacity SSRCs kept per REMB; more are counted but not kept. @default 8 */
  constructor(capacity = 8) {
    this.ssrcs = new Uint32Array(capacity);
  }
}

const rembHeaderLength = 20;

/** Reads the REMB packet at `bytes[offset, offset + length)` into `out`. */
export function parseRemb(bytes: Uint8Array, offset: number, length: number, out: Remb): RembStatus {
  out.ssrcCount = 0;
  out.bitrateBps = 0;
  if (offset < 0 || length < 4 || offset + length > bytes.length) return 'truncated';
  const first = bytes[offset]!;
  if (
    first >> 6 !== 2 ||
    (first & 0x1f) !== applicationFeedbackFormat ||
    bytes[offset + 1] !== rtcpPacketType.payloadFeedback
  ) {
    return 'not-remb';
  }
  const declared = (((bytes[offset + 2]! << 8) | bytes[offset + 3]!) + 1) * 4;
  if (declared > length || declared < rembHeaderLength) return 'truncated';
  if (
    bytes[offset + 12] !== 0x52 ||
    bytes[offset + 13] !== 0x45 ||
    bytes[offset + 14] !== 0x4d ||
    bytes[offset + 15] !== 0x42
  ) {
    return 'not-remb';
  }
  const count = bytes[offset + 16]!;
  if (rembHeaderLength + count * 4 > declared) return 'truncated';
  const exponent = bytes[offset + 17]! >> 2;
  const mantissa = ((bytes[offset + 17]! & 0x03) << 16) | (bytes[offset + 18]! << 8) | bytes[offset + 19]!;
  out.senderSsrc = readUint32(bytes, offset + 4);
  out.bitrateBps = mantissa * 2 ** exponent;
  const kept = Math.min(count, out.ssrcs.length);
  for (let index = 0; index < kept; index++) out.ssrcs[index] = readUint32(bytes, offset + 20 + index * 4);
  out.ssrcCount = kept;
  return 'ok';
}

/**
 * A REMB packet announcing `bitrateBps` (rounded down to what 18 bits of mantissa can say) for
 * `ssrcs` (at most 255).
 */
export function writeRemb(bitrateBps: number, senderSsrc: number, ssrcs: readonly number[]): Uint8Array {
  const count = Math.min(ssrcs.length, 0xff);
  const packet = new Uint8Array(rembHeaderLength + count * 4);
  packet[0] = 0x80 | applicationFeedbackFormat;
  packet[1] = rtcpPacketType.payloadFeedback;
  const words = packet.length / 4 - 1;
  packet[2] = words >> 8;
  packet[3] = words & 0xff;
  writeUint32(packet, 4, senderSsrc);
  // Media source SSRC: 0, the estimate applies to the SSRCs listed after it.
  packet.set([0x52, 0x45, 0x4d, 0x42], 12);
  packet[16] = count;
  let mantissa = Math.max(0, Math.floor(bitrateBps));
  let exponent = 0;
  while (mantissa > 0x3ffff && exponent < 63) {
    mantissa = Math.floor(mantissa / 2);
    exponent++;
  }
  packet[17] = (exponent << 2) | (mantissa >> 16);
  packet[18] = (mantissa >> 8) & 0xff;
  packet[19] = mantissa & 0xff;
  for (let index = 0; index < count; index++) writeUint32(packet, 20 + index * 4, ssrcs[index]! >>> 0);
  return packet;
}
