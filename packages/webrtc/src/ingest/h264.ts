const nalSps = 7;
const nalIdr = 5;
const stapA = 24;
const fuA = 28;

/**
 * Whether an H.264 RTP payload (RFC 6184) starts a keyframe: an SPS, the start of an IDR slice, or
 * an aggregation packet carrying either. Decoders need SPS/PPS before the IDR, and FFmpeg sends them
 * in front of it, so a cache started here is decodable on its own.
 */
export function startsKeyframe(payload: Buffer, offset: number, length: number): boolean {
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
