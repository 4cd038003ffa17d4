import { isLoopbackAddress } from '@dragon/portalloc';
import type { PacketHistory } from '../fanout/packet-history.js';
import { H264Inspector, h264HealthFieldCount } from './h264-inspector.js';
import { startsKeyframe, type VideoCodec } from './keyframes.js';
import { continuityFieldCount, RtpContinuity } from './rtp-continuity.js';
import { readRtpHeader } from './rtp-header.js';

export type TrackKind = 'video' | 'audio';

export const clockRates: Record<TrackKind, number> = { video: 90_000, audio: 48_000 };

/**
 * One track's counters, in a `Float64Array` the thread that receives writes and the source's
 * owner reads (a `SharedArrayBuffer` when they are different threads). `continuity` starts the
 * numbering's state (`continuityFields`): it outlives the receiver, as the counters do.
 */
export const trackStatFields = {
  packets: 0,
  bytes: 1,
  dropped: 2,
  bitrateBps: 3,
  lastPacketAt: 4,
  windowStart: 5,
  windowBytes: 6,
  /** Keyframes marked (with the keyframe cache on, or on a source with renditions). */
  keyframes: 7,
  lastKeyframeAt: 8,
  continuity: 9,
} as const;
export const trackStatCount = trackStatFields.continuity + continuityFieldCount;

/**
 * The length of a track's counters array: a video track's H.264 inspector keeps its counters
 * (`h264HealthFields`) right after the track's own.
 */
export function trackStatLength(kind: TrackKind): number {
  return trackStatCount + (kind === 'video' ? h264HealthFieldCount : 0);
}

export interface TrackIngestOptions {
  kind: TrackKind;
  payloadType: number;
  /** What a video track carries: its keyframes are found by this codec's rules. @default 'h264' */
  codec?: VideoCodec;
  history: PacketHistory;
  stats: Float64Array;
  /**
   * Mark keyframes in the history (video only): new viewers are primed with the last GOP, and a
   * viewer moves to another rendition at one.
   */
  keyframeCache: boolean;
  /** A GOP longer than this is not replayed. */
  maxCachedPackets: number;
}

/**
 * The receiving end of one RTP leg: drops what is not FFmpeg's RTP for this track, keeps sequence
 * numbers and timestamps continuous across FFmpeg restarts (rewritten in place) and stores the
 * packet in the track's history, from which every shard sends it.
 */
export class TrackIngest {
  readonly kind: TrackKind;
  readonly history: PacketHistory;
  readonly #payloadType: number;
  readonly #codec: VideoCodec;
  readonly #stats: Float64Array;
  readonly #continuity: RtpContinuity;
  readonly #keyframeCache: boolean;
  readonly #maxCached: number;
  readonly #inspector: H264Inspector | undefined;
  #keyframeTimestamp = -1;

  constructor(options: TrackIngestOptions) {
    this.kind = options.kind;
    this.history = options.history;
    this.#payloadType = options.payloadType;
    this.#codec = options.codec ?? 'h264';
    this.#stats = options.stats;
    // A history with packets already: this receiver replaces one that stopped (its worker died).
    const clock = options.history.clock();
    const resume = clock && {
      seq: options.history.head & 0xffff,
      ts: clock.rtpTimestamp,
      atMs: clock.arrivalMs,
    };
    const continuity = options.stats.subarray(
      trackStatFields.continuity,
      trackStatFields.continuity + continuityFieldCount,
    );
    this.#continuity = new RtpContinuity(clockRates[options.kind], continuity, resume);
    this.#keyframeCache = options.keyframeCache && options.kind === 'video';
    this.#maxCached = options.maxCachedPackets;
    // The health counters read H.264; other codecs report packets and keyframes only.
    this.#inspector =
      options.kind === 'video' && this.#codec === 'h264'
        ? new H264Inspector(options.stats.subarray(trackStatCount))
        : undefined;
  }

  /** Hot path, once per datagram. Returns whether the packet was stored (and is to be sent). */
  receive(packet: Buffer, address: string, now: number): boolean {
    const stats = this.#stats;
    const header = isLoopbackAddress(address) ? readRtpHeader(packet) : undefined;
    if (!header || header.payloadType !== this.#payloadType) {
      stats[trackStatFields.dropped]!++;
      return false;
    }
    this.#continuity.rewrite(packet, header.ssrc, header.sequenceNumber, header.timestamp, now);
    const sequenceNumber = packet.readUInt16BE(2);
    const timestamp = packet.readUInt32BE(4);
    this.#inspector?.inspect(packet, header.payloadOffset, header.payloadLength, timestamp, now);
    stats[trackStatFields.packets]!++;
    stats[trackStatFields.bytes]! += packet.length;
    stats[trackStatFields.lastPacketAt] = now;
    stats[trackStatFields.windowBytes]! += packet.length;
    const windowStart = stats[trackStatFields.windowStart]!;
    if (now - windowStart >= 1000) {
      stats[trackStatFields.bitrateBps] =
        windowStart === 0
          ? 0
          : Math.round((stats[trackStatFields.windowBytes]! * 8000) / (now - windowStart));
      stats[trackStatFields.windowStart] = now;
      stats[trackStatFields.windowBytes] = 0;
    }
    const history = this.history;
    const ext = history.extend(sequenceNumber);
    let keyframe = false;
    if (this.#keyframeCache) {
      if (
        timestamp !== this.#keyframeTimestamp &&
        startsKeyframe(this.#codec, packet, header.payloadOffset, header.payloadLength)
      ) {
        keyframe = true;
        this.#keyframeTimestamp = timestamp;
        stats[trackStatFields.keyframes]!++;
        stats[trackStatFields.lastKeyframeAt] = now;
      } else if (history.keyframe >= 0 && ext - history.keyframe >= this.#maxCached) {
        // A GOP this long is not worth replaying; wait for the next keyframe.
        history.forgetKeyframe();
        this.#keyframeTimestamp = -1;
      }
    }
    history.append(packet, ext, timestamp, now, keyframe);
    return true;
  }
}
