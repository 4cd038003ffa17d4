/**
 * Walking a decrypted compound RTCP packet (RFC 3550 §6.1, RFC 5761): a run of RTCP packets, each
 * with a 4-byte header whose length field counts 32-bit words minus one. The reader finds the
 * blocks congestion control needs (transport-wide feedback, REMB, receiver reports) without
 * allocating: it exposes the current packet's offset and fields, and the caller reads them in place.
 * Compound packets come from the network (after SRTCP authentication, but a browser's bug or a
 * hostile peer is still possible): nothing here throws, a walk that cannot go on says why.
 */

/** RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1). */
export const rtcpPacketType = {
  senderReport: 200,
  receiverReport: 201,
  sourceDescription: 202,
  goodbye: 203,
  transportFeedback: 205,
  payloadFeedback: 206,
} as const;

/** FMT 15 under RTPFB (205) is transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1). */
export const transportFeedbackFormat = 15;
/** FMT 15 under PSFB (206) is application layer feedback; REMB is the one with the `REMB` identifier. */
export const applicationFeedbackFormat = 15;

/** What the current packet of a walk is. */
export type RtcpBlockKind =
  | 'sender-report'
  | 'receiver-report'
  | 'transport-feedback'
  | 'remb'
  | 'generic-nack'
  | 'picture-loss'
  | 'other';

/** Why a walk ended early: a packet's header does not fit what is left of the datagram. */
export type RtcpWalkError = 'truncated' | 'bad-version';

/** Bytes of one report block in a sender or receiver report (RFC 3550 §6.4.1). */
export const reportBlockLength = 24;

/**
 * One per thread (or per call site), reused for every compound packet:
 * `reader.reset(bytes); while (reader.next()) { … reader.kind, reader.offset, reader.length … }`.
 * A walk stops at the end of the datagram or at the first packet whose header is not RTCP version 2
 * or whose length runs past the datagram (`error` says which; the packets before it were read).
 */
export class RtcpCompoundReader {
  /** The datagram being walked. */
  bytes: Uint8Array = new Uint8Array(0);
  /** The current packet: where it starts in `bytes` and how long it is (header and padding included). */
  offset = 0;
  length = 0;
  /** Its packet type (200–206…) and the 5-bit count/FMT field of its first byte. */
  packetType = 0;
  countOrFormat = 0;
  kind: RtcpBlockKind = 'other';
  /** Set when the walk ended early. */
  error: RtcpWalkError | undefined;
  #next = 0;
  #end = 0;

  /** Starts a walk over `bytes[offset, offset + length)`. */
  reset(bytes: Uint8Array, offset = 0, length = bytes.length - offset): this {
    this.bytes = bytes;
    this.#next = offset;
    this.#end = Math.min(bytes.length, offset + Math.max(0, length));
    this.offset = offset;
    this.length = 0;
    this.error = undefined;
    return this;
  }

  /** Moves to the next packet; false at the end of the datagram or when the walk ended early. */
  next(): boolean {
    const bytes = this.bytes;
    const at = this.#next;
    if (this.error !== undefined || at >= this.#end) return false;
    if (at + 4 > this.#end) return this.#fail('truncated');
    const first = bytes[at]!;
    if (first >> 6 !== 2) return this.#fail('bad-version');
    const length = (((bytes[at + 2]! << 8) | bytes[at + 3]!) + 1) * 4;
    if (at + length > this.#end) return this.#fail('truncated');
    this.offset = at;
    this.length = length;
    this.packetType = bytes[at + 1]!;
    this.countOrFormat = first & 0x1f;
    this.kind = classify(bytes, at, length, this.packetType, this.countOrFormat);
    this.#next = at + length;
    return true;
  }

  /**
   * Report blocks of the current sender or receiver report that fit in it (the count field may
   * claim more than the packet holds).
   */
  get reportBlockCount(): number {
    const first = this.#firstReportBlock();
    if (first < 0) return 0;
    return Math.min(this.countOrFormat, Math.floor((this.offset + this.length - first) / reportBlockLength));
  }

  /** Offset in `bytes` of report block `index` of the current report (see `readReportBlock`). */
  reportBlockOffset(index: number): number {
    return this.#firstReportBlock() + index * reportBlockLength;
  }

  #firstReportBlock(): number {
    if (this.kind === 'sender-report') return this.offset + 28;
    if (this.kind === 'receiver-report') return this.offset + 8;
    return -1;
  }

  #fail(error: RtcpWalkError): false {
    this.error = error;
    this.length = 0;
    return false;
  }
}

function classify(
  bytes: Uint8Array,
  at: number,
  length: number,
  packetType: number,
  format: number,
): RtcpBlockKind {
  switch (packetType) {
    case rtcpPacketType.senderReport:
      return length >= 28 ? 'sender-report' : 'other';
    case rtcpPacketType.receiverReport:
      return length >= 8 ? 'receiver-report' : 'other';
    case rtcpPacketType.transportFeedback:
      if (format === transportFeedbackFormat) return 'transport-feedback';
      return format === 1 ? 'generic-nack' : 'other';
    case rtcpPacketType.payloadFeedback:
      if (format === 1) return 'picture-loss';
      return format === applicationFeedbackFormat && isRemb(bytes, at, length) ? 'remb' : 'other';
    default:
      return 'other';
  }
}

/** The `REMB` identifier after the two SSRCs (draft-alvestrand-rmcat-remb-03 §2.2). */
function isRemb(bytes: Uint8Array, at: number, length: number): boolean {
  return (
    length >= 20 &&
    bytes[at + 12] === 0x52 &&
    bytes[at + 13] === 0x45 &&
    bytes[at + 14] === 0x4d &&
    bytes[at + 15] === 0x42
  );
}

/** One report block of a sender or receiver report (RFC 3550 §6.4.1). */
export interface ReportBlock {
  ssrc: number;
  /** Fraction of packets lost since the previous report, 0–1 (8-bit fixed point on the wire). */
  fractionLost: number;
  /** Cumulative packets lost (24-bit signed). */
  cumulativeLost: number;
  highestSequence: number;
  jitter: number;
  lastSenderReport: number;
  delaySinceLastSenderReport: number;
}

/** Fills `out` from the report block at `at` (from `RtcpCompoundReader#reportBlockOffset`). */
export function readReportBlock(bytes: Uint8Array, at: number, out: ReportBlock): ReportBlock {
  out.ssrc = readUint32(bytes, at);
  out.fractionLost = bytes[at + 4]! / 256;
  const lost = (bytes[at + 5]! << 16) | (bytes[at + 6]! << 8) | bytes[at + 7]!;
  out.cumulativeLost = lost & 0x800000 ? lost - 0x1000000 : lost;
  out.highestSequence = readUint32(bytes, at + 8);
  out.jitter = readUint32(bytes, at + 12);
  out.lastSenderReport = readUint32(bytes, at + 16);
  out.delaySinceLastSenderReport = readUint32(bytes, at + 20);
  return out;
}

export function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

export function writeUint32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}
