/** The video codecs a source track can carry; the keyframe rules below are per codec. */
export type VideoCodec = 'h264' | 'vp8';

const nalSps = 7;
const nalIdr = 5;
const stapA = 24;
const fuA = 28;

/**
 * Whether an RTP payload of `codec` starts a keyframe: where a viewer's decoder can start (a new
 * viewer's fast start, a switch between renditions). Hot path: no allocation.
 */
export function startsKeyframe(codec: VideoCodec, payload: Buffer, offset: number, length: number): boolean {
  return codec === 'h264'
    ? startsH264Keyframe(payload, offset, length)
    : startsVp8Keyframe(payload, offset, length);
}

/**
 * H.264 (RFC 6184): an SPS, the start of an IDR slice, or an aggregation packet carrying either.
 * Decoders need SPS/PPS before the IDR, and FFmpeg sends them in front of it, so a cache started
 * here is decodable on its own.
 */
export function startsH264Keyframe(payload: Buffer, offset: number, length: number): boolean {
  if (length < 1) return false;
  const nalType = payload[offset]! & 0x1f;
  if (nalType === nalSps || nalType === nalIdr) return true;
  if (nalType === fuA) {
    if (length < 2) return false;
    const fuHeader = payload[offset + 1]!;
    return (fuHeader & 0x80) !== 0 && (fuHeader & 0x1f) === nalIdr;
  }
  if (nalType === stapA) {
    let position = offset + 1;
    const end = offset + length;
    while (position + 2 < end) {
      const size = payload.readUInt16BE(position);
      const inner = payload[position + 2]! & 0x1f;
      if (inner === nalSps || inner === nalIdr) return true;
      position += 2 + size;
    }
  }
  return false;
}

/**
 * VP8 (RFC 7741 §4.2–4.3): the first packet of a frame (S = 1, partition index 0) whose payload
 * header has P = 0 (a key frame, RFC 6386 §9.1). The descriptor's optional bytes are skipped: X
 * announces the I/L/T/K byte, I a one- or two-byte picture id (M bit), L a TL0PICIDX byte, T or K
 * one TID/KEYIDX byte.
 */
export function startsVp8Keyframe(payload: Buffer, offset: number, length: number): boolean {
  if (length < 1) return false;
  const end = offset + length;
  const first = payload[offset]!;
  // S bit (0x10) and PID (low three bits) 0.
  if ((first & 0x10) === 0 || (first & 0x07) !== 0) return false;
  let position = offset + 1;
  if ((first & 0x80) !== 0) {
    if (position >= end) return false;
    const extension = payload[position++]!;
    if ((extension & 0x80) !== 0) {
      if (position >= end) return false;
      position += (payload[position]! & 0x80) !== 0 ? 2 : 1;
    }
    if ((extension & 0x40) !== 0) position++;
    if ((extension & 0x30) !== 0) position++;
  }
  return position < end && (payload[position]! & 0x01) === 0;
}
