/**
 * Transport-wide congestion control feedback (RTCP RTPFB, FMT 15), as
 * draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1 lays it out:
 *
 *   header (V=2, P, FMT=15, PT=205, length) | sender SSRC | media source SSRC
 *   base sequence number (16) | packet status count (16)
 *   reference time (24, signed, × 64 ms) | feedback packet count (8)
 *   packet chunks (16 bits each) … | receive deltas (8 or 16 bits each) … | padding
 *
 * A chunk is a run (T=0: 2-bit symbol, 13-bit run length) or a status vector (T=1; S=0: fourteen
 * 1-bit symbols, S=1: seven 2-bit symbols). Symbols: 0 not received, 1 received with a 1-byte
 * unsigned delta, 2 received with a 2-byte signed delta, 3 reserved. Deltas are in 250 µs ticks, the
 * first relative to the reference time, each next to the packet before it. Symbols of the last chunk
 * beyond the status count are not packets.
 *
 * The parser runs for each feedback a viewer sends (about 11 a second with Chromium): it fills the
 * preallocated arrays of a `TransportFeedback` and returns a status, never throwing on hostile
 * bytes, and its work is bounded by the feedback's capacity, not by what the packet claims.
 */
import { readUint32, rtcpPacketType, transportFeedbackFormat } from './compound.js';

/** Bytes before the first chunk: header, two SSRCs, base/count, reference time/count. */
export const transportFeedbackHeaderLength = 20;
/** One receive-delta tick: 250 µs. */
export const deltaTickUs = 250;
/** One reference-time unit: 64 ms, i.e. 256 ticks. */
export const referenceTimeUnitUs = 64_000;

/** Why a feedback packet was not read. `ok`: every reported packet is in the output. */
export type TransportFeedbackStatus =
  | 'ok'
  | 'not-transport-feedback'
  | 'truncated'
  | 'too-many-packets'
  | 'reserved-symbol'
  | 'bad-padding';

/** Symbols of the packet status chunks. */
export const statusSymbol = { notReceived: 0, smallDelta: 1, largeDelta: 2, reserved: 3 } as const;

/**
 * One parsed feedback, reused: `parseTransportFeedback` overwrites it. Packet `i` (0 ≤ i <
 * `statusCount`) has the transport-wide sequence number `(baseSequence + i) & 0xffff`.
 */
export class TransportFeedback {
  senderSsrc = 0;
  mediaSsrc = 0;
  baseSequence = 0;
  statusCount = 0;
  /** As on the wire: 24 bits in 64 ms units; unwrapping across feedbacks is the reader's business. */
  referenceTime = 0;
  /** The feedback packet count (8 bits), for spotting lost feedback. */
  feedbackCount = 0;
  /** How many of the reported packets were received. */
  receivedCount = 0;
  /** Per reported packet: arrival in µs after the reference time (may be negative), NaN when not received. */
  readonly arrivalUs: Float64Array;
  /** Per reported packet: its status symbol (scratch for the parser, kept for tests and tools). */
  readonly symbols: Uint8Array;

  /**
   * @param capacity The most packets one feedback may report; a feedback claiming more is refused
   * (`too-many-packets`). Chromium reports about 100 ms of packets per feedback.
   * @default 4096
   */
  constructor(readonly capacity = 4096) {
    this.arrivalUs = new Float64Array(capacity);
    this.symbols = new Uint8Array(capacity);
  }
}

/**
 * Reads the transport-wide feedback packet at `bytes[offset, offset + length)` (one packet of a
 * compound, e.g. from `RtcpCompoundReader`) into `out`. On any status but `ok`, `out` holds nothing
 * usable.
 */
export function parseTransportFeedback(
  bytes: Uint8Array,
  offset: number,
  length: number,
  out: TransportFeedback,
): TransportFeedbackStatus {
  out.statusCount = 0;
  out.receivedCount = 0;
  if (offset < 0 || length < 4 || offset + length > bytes.length) return 'truncated';
  const first = bytes[offset]!;
  if (first >> 6 !== 2 || bytes[offset + 1] !== rtcpPacketType.transportFeedback) {
    return 'not-transport-feedback';
  }
  if ((first & 0x1f) !== transportFeedbackFormat) return 'not-transport-feedback';
  // The packet is what its own length field says, within what we were given.
  const declared = (((bytes[offset + 2]! << 8) | bytes[offset + 3]!) + 1) * 4;
  if (declared > length || declared < transportFeedbackHeaderLength) return 'truncated';
  let end = offset + declared;
  if (first & 0x20) {
    // RFC 3550 §6.4.1: with P set, the last octet counts the padding octets, itself included.
    const padding = bytes[end - 1]!;
    if (padding === 0 || padding > declared - transportFeedbackHeaderLength) return 'bad-padding';
    end -= padding;
  }

  out.senderSsrc = readUint32(bytes, offset + 4);
  out.mediaSsrc = readUint32(bytes, offset + 8);
  out.baseSequence = (bytes[offset + 12]! << 8) | bytes[offset + 13]!;
  const count = (bytes[offset + 14]! << 8) | bytes[offset + 15]!;
  out.referenceTime = (bytes[offset + 16]! << 16) | (bytes[offset + 17]! << 8) | bytes[offset + 18]!;
  out.feedbackCount = bytes[offset + 19]!;
  if (count > out.capacity) return 'too-many-packets';

  const symbols = out.symbols;
  let at = offset + transportFeedbackHeaderLength;
  let filled = 0;
  while (filled < count) {
    if (at + 2 > end) return 'truncated';
    const chunk = (bytes[at]! << 8) | bytes[at + 1]!;
    at += 2;
    if ((chunk & 0x8000) === 0) {
      const symbol = (chunk >> 13) & 0x03;
      const run = Math.min(chunk & 0x1fff, count - filled);
      if (run > 0 && symbol === statusSymbol.reserved) return 'reserved-symbol';
      symbols.fill(symbol, filled, filled + run);
      filled += run;
    } else if ((chunk & 0x4000) === 0) {
      for (let bit = 13; bit >= 0 && filled < count; bit--) symbols[filled++] = (chunk >> bit) & 0x01;
    } else {
      for (let shift = 12; shift >= 0 && filled < count; shift -= 2) {
        const symbol = (chunk >> shift) & 0x03;
        if (symbol === statusSymbol.reserved) return 'reserved-symbol';
        symbols[filled++] = symbol;
      }
    }
  }

  const arrivalUs = out.arrivalUs;
  let ticks = 0;
  let received = 0;
  for (let index = 0; index < count; index++) {
    const symbol = symbols[index]!;
    if (symbol === statusSymbol.notReceived) {
      arrivalUs[index] = Number.NaN;
      continue;
    }
    if (symbol === statusSymbol.smallDelta) {
      if (at + 1 > end) return 'truncated';
      ticks += bytes[at]!;
      at += 1;
    } else {
      if (at + 2 > end) return 'truncated';
      const delta = (bytes[at]! << 8) | bytes[at + 1]!;
      ticks += delta & 0x8000 ? delta - 0x10000 : delta;
      at += 2;
    }
    arrivalUs[index] = ticks * deltaTickUs;
    received++;
  }
  // Bytes left before `end` are alignment padding written as zeros without the P bit (the draft's
  // figure shows it that way): nothing to read there.
  out.statusCount = count;
  out.receivedCount = received;
  return 'ok';
}
