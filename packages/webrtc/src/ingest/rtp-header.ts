/** The fields of an RTP header the data path needs (RFC 3550 §5.1). */
export interface RtpHeaderView {
  payloadType: number;
  marker: boolean;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** Offset of the payload: after CSRCs and the header extension. */
  payloadOffset: number;
  /** Payload length without padding. */
  payloadLength: number;
}

/**
 * Length of an RTP packet's header (fixed part, CSRCs and extension; RFC 3550 §5.1), or 0 when the
 * packet is not RTP version 2 or too short for its own header. Allocation-free, for per-viewer paths.
 */
export function rtpHeaderLength(packet: Uint8Array): number {
  const length = packet.length;
  if (length < 12) return 0;
  const first = packet[0]!;
  if (first >> 6 !== 2) return 0;
  let offset = 12 + (first & 0x0f) * 4;
  if (first & 0x10) {
    if (length < offset + 4) return 0;
    offset += 4 + ((packet[offset + 2]! << 8) | packet[offset + 3]!) * 4;
  }
  return offset <= length ? offset : 0;
}

/**
 * Reads an RTP header, or returns undefined for anything that is not a well-formed RTP packet
 * (RTCP included: its packet types 200–204 are payload types 72–76 with the marker bit set).
 */
export function readRtpHeader(packet: Buffer): RtpHeaderView | undefined {
  const offset = rtpHeaderLength(packet);
  if (offset === 0) return undefined;
  const first = packet[0]!;
  const second = packet[1]!;
  const payloadType = second & 0x7f;
  if (payloadType >= 72 && payloadType <= 76) return undefined;
  let end = packet.length;
  if (first & 0x20) {
    const padding = packet[packet.length - 1]!;
    if (padding === 0) return undefined;
    end -= padding;
  }
  if (offset > end) return undefined;
  return {
    payloadType,
    marker: (second & 0x80) !== 0,
    sequenceNumber: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payloadOffset: offset,
    payloadLength: end - offset,
  };
}
