/**
 * The counters of one video track's {@link H264Inspector}, as indices into a `Float64Array`: the
 * thread that receives the packets writes them, the source's owner reads them (a
 * `SharedArrayBuffer` works when those are different threads).
 */
export const h264HealthFields = {
  /** Access units seen (one RTP timestamp each, RFC 6184 §5.1). */
  accessUnits: 0,
  /** Access units with an IDR slice. */
  keyframes: 1,
  /** Access units with an IDR slice preceded by an SPS and a PPS in the same access unit. */
  decodableKeyframes: 2,
  /** Access units whose timestamp is before the previous one's: frames sent out of presentation order. */
  reorderedAccessUnits: 3,
  /** Wall clock (ms) of the last keyframe; 0 for none. */
  lastKeyframeAt: 4,
  /** Wall clock (ms) of the last decodable keyframe; 0 for none. */
  lastDecodableKeyframeAt: 5,
  /** The current access unit: its RTP timestamp, -1 before the first packet. */
  currentTimestamp: 6,
  /** The current access unit: what it held so far (the `seen*` bits). */
  currentFlags: 7,
} as const;
export const h264HealthFieldCount = 8;

const seenSps = 1;
const seenPps = 2;
const seenIdr = 4;

const nalIdr = 5;
const nalSps = 7;
const nalPps = 8;
const stapA = 24;
const fuA = 28;

/** What a video track has delivered so far, as {@link readVideoHealth} reads it from the counters. */
export interface VideoHealth {
  accessUnits: number;
  keyframes: number;
  /**
   * Keyframes a decoder can start from: the IDR slice preceded by SPS and PPS in its access unit.
   * A browser joining mid-stream needs exactly this; FFmpeg's RTP copy of a camera or an FLV
   * stream without the copy path's bitstream filters never sends one.
   */
  decodableKeyframes: number;
  /**
   * Access units sent with a timestamp before the previous one's: the stream has B-frames (RTP
   * timestamps are presentation times, packets go in decoding order). Browsers render WebRTC
   * frames as they arrive, so such a stream freezes or jumps.
   */
  reorderedAccessUnits: number;
  lastKeyframeAt: number | null;
  lastDecodableKeyframeAt: number | null;
}

/**
 * Reads an H.264 RTP stream (RFC 6184: single NAL unit packets, STAP-A, FU-A) packet by packet and
 * counts what a decoder needs: keyframes, whether SPS and PPS came with them, and timestamps going
 * back. It keeps its state in the counters array, so it allocates nothing per packet.
 */
export class H264Inspector {
  readonly #fields: Float64Array;

  constructor(fields: Float64Array = new Float64Array(h264HealthFieldCount)) {
    if (fields.length < h264HealthFieldCount) throw new RangeError('the H.264 health array is too short');
    this.#fields = fields;
    fields[h264HealthFields.currentTimestamp] = -1;
  }

  get fields(): Float64Array {
    return this.#fields;
  }

  /**
   * Hot path, once per video packet: `timestamp` is the packet's RTP timestamp as it leaves the
   * source (continuous across FFmpeg restarts), `now` the wall clock in ms.
   */
  inspect(
    packet: Uint8Array,
    payloadOffset: number,
    payloadLength: number,
    timestamp: number,
    now: number,
  ): void {
    if (payloadLength < 1) return;
    const fields = this.#fields;
    const current = fields[h264HealthFields.currentTimestamp]!;
    if (timestamp !== current) {
      fields[h264HealthFields.accessUnits]!++;
      // Serial number arithmetic on 32 bits: a timestamp behind the previous one by less than half
      // the range went back; one past the wrap went forward.
      if (current >= 0 && ((timestamp - current) | 0) < 0) fields[h264HealthFields.reorderedAccessUnits]!++;
      fields[h264HealthFields.currentTimestamp] = timestamp;
      fields[h264HealthFields.currentFlags] = 0;
    }
    const type = packet[payloadOffset]! & 0x1f;
    if (type === fuA) {
      if (payloadLength < 2) return;
      const fuHeader = packet[payloadOffset + 1]!;
      // Only the first fragment (S bit) starts a NAL unit.
      if ((fuHeader & 0x80) !== 0) this.#nalUnit(fuHeader & 0x1f, now);
      return;
    }
    if (type === stapA) {
      let position = payloadOffset + 1;
      const end = payloadOffset + payloadLength;
      while (position + 2 < end) {
        const size = (packet[position]! << 8) | packet[position + 1]!;
        if (size === 0) return;
        this.#nalUnit(packet[position + 2]! & 0x1f, now);
        position += 2 + size;
      }
      return;
    }
    if (type > 0 && type < 24) this.#nalUnit(type, now);
  }

  #nalUnit(type: number, now: number): void {
    const fields = this.#fields;
    const flags = fields[h264HealthFields.currentFlags]!;
    if (type === nalSps) fields[h264HealthFields.currentFlags] = flags | seenSps;
    else if (type === nalPps) fields[h264HealthFields.currentFlags] = flags | seenPps;
    else if (type === nalIdr && (flags & seenIdr) === 0) {
      // An IDR picture may be several slices: the access unit counts once, at its first slice.
      fields[h264HealthFields.currentFlags] = flags | seenIdr;
      fields[h264HealthFields.keyframes]!++;
      fields[h264HealthFields.lastKeyframeAt] = now;
      if ((flags & (seenSps | seenPps)) === (seenSps | seenPps)) {
        fields[h264HealthFields.decodableKeyframes]!++;
        fields[h264HealthFields.lastDecodableKeyframeAt] = now;
      }
    }
  }
}

/** The counters as numbers, for a snapshot off the hot path. */
export function readVideoHealth(fields: Float64Array): VideoHealth {
  const at = (value: number) => (value === 0 ? null : value);
  return {
    accessUnits: fields[h264HealthFields.accessUnits]!,
    keyframes: fields[h264HealthFields.keyframes]!,
    decodableKeyframes: fields[h264HealthFields.decodableKeyframes]!,
    reorderedAccessUnits: fields[h264HealthFields.reorderedAccessUnits]!,
    lastKeyframeAt: at(fields[h264HealthFields.lastKeyframeAt]!),
    lastDecodableKeyframeAt: at(fields[h264HealthFields.lastDecodableKeyframeAt]!),
  };
}
