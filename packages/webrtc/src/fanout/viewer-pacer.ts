/**
 * One adaptive viewer's video, paced: a token bucket at `rateBps` and a ring of the packets that
 * had to wait. Why: a keyframe leaves the source as one burst; unpaced it reaches a small router
 * queue at line rate and is tail-dropped there (a 360p keyframe is ≈ 12 KB, a 50 ms queue at
 * 600 kbit/s holds 3.75 KB). Paced at a little over what the link carries, it queues here instead,
 * where nothing is lost.
 *
 * Everything the viewer is sent uses tokens — audio, retransmissions, a probe's packets and the
 * primer, none of which wait — because the bucket is charged from the viewer's counters of octets
 * sent (`octets`, read by the caller from the streams' counters), not from what passes through
 * here. Audio can so drive the bucket below zero, which delays video: audio first, as libwebrtc's
 * pacer does.
 *
 * The ring holds references (track, ext, offsets), not copies: the packets stay in the source's
 * history, which keeps seconds of them, while the ring holds at most `maxQueueMs` at the rate. A
 * ring beyond that drops its oldest packets up to the next keyframe start (what is dropped the
 * viewer NACKs, or the keyframe repairs) and counts them.
 *
 * No timers, no clocks: the caller drains it when `drain` said the next packet is due. Hot path:
 * nothing here allocates after construction.
 */

/** Sends packet `ext` of `track` with these output offsets; its length in bytes, 0 if not sent. */
export type PacedSend<Track> = (track: Track, ext: number, seqOffset: number, tsOffset: number) => number;

export interface ViewerPacerOptions {
  /** Packets the ring holds at most. @default 256 */
  capacity?: number;
  /**
   * What the bucket holds at most, in time at the rate (at least one packet). 40 ms: the pacing
   * timer of a busy thread fires late, and a bucket smaller than the lateness would lower the rate
   * it actually sends at. @default 40
   */
  burstMs?: number;
  /** Queueing beyond this, at the rate, drops the oldest video. @default 300 */
  maxQueueMs?: number;
  /**
   * The ring may hold at least this many bytes whatever the rate: a top rendition's keyframe is
   * much larger than its average rate says, and the rate's floor is that average. @default 131_072
   */
  minQueueBytes?: number;
  /**
   * The most the bucket owes, in time at the rate. A burst sent beside it (the join's cached GOP,
   * a NACK storm's answers) larger than any router queue was carried or dropped at once: making
   * the next seconds of video wait to repay it would only delay them. @default 100
   */
  maxDebtMs?: number;
}

/** What a bucket holds at least: one full packet, so that a lone packet never waits for tokens. */
const minBurstBytes = 1200;

export class ViewerPacer<Track> {
  /** Packets dropped from the ring because it grew beyond its bound. */
  dropped = 0;
  readonly #send: PacedSend<Track>;
  readonly #capacity: number;
  readonly #burstMs: number;
  readonly #maxQueueMs: number;
  readonly #minQueueBytes: number;
  readonly #maxDebtMs: number;
  #rateBps = Number.POSITIVE_INFINITY;
  #tokens = 0;
  #updatedMs = Number.NaN;
  #octets = 0;
  readonly #tracks: (Track | undefined)[];
  readonly #ext: Float64Array;
  readonly #seqOffset: Float64Array;
  readonly #tsOffset: Float64Array;
  readonly #length: Float64Array;
  readonly #keyframe: Uint8Array;
  #head = 0;
  #count = 0;
  #queuedBytes = 0;

  constructor(send: PacedSend<Track>, options: ViewerPacerOptions = {}) {
    this.#send = send;
    this.#capacity = options.capacity ?? 256;
    this.#burstMs = options.burstMs ?? 40;
    this.#maxQueueMs = options.maxQueueMs ?? 300;
    this.#minQueueBytes = options.minQueueBytes ?? 131_072;
    this.#maxDebtMs = options.maxDebtMs ?? 100;
    const capacity = this.#capacity;
    this.#tracks = new Array<Track | undefined>(capacity).fill(undefined);
    this.#ext = new Float64Array(capacity);
    this.#seqOffset = new Float64Array(capacity);
    this.#tsOffset = new Float64Array(capacity);
    this.#length = new Float64Array(capacity);
    this.#keyframe = new Uint8Array(capacity);
  }

  get rateBps(): number {
    return this.#rateBps;
  }

  /** Packets waiting. */
  get queued(): number {
    return this.#count;
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** The new rate from now on (`Infinity`: unpaced). */
  setRate(nowMs: number, octets: number, rateBps: number): void {
    this.#account(nowMs, octets);
    this.#rateBps = rateBps > 0 ? rateBps : Number.POSITIVE_INFINITY;
  }

  /**
   * A video packet for the viewer: sent at once when nothing waits and the bucket has tokens,
   * queued otherwise. `octets`: everything the viewer was sent so far. `keyframeStart`: the packet
   * starts a keyframe (where a drop may stop). Hot path.
   */
  offer(
    nowMs: number,
    octets: number,
    track: Track,
    ext: number,
    seqOffset: number,
    tsOffset: number,
    length: number,
    keyframeStart: boolean,
  ): void {
    this.#account(nowMs, octets);
    if (this.#count === 0 && this.#tokens > 0) {
      const sent = this.#send(track, ext, seqOffset, tsOffset);
      this.#tokens -= sent;
      this.#octets += sent;
      return;
    }
    if (this.#count === this.#capacity) this.#dropOldest();
    const at = (this.#head + this.#count) % this.#capacity;
    this.#tracks[at] = track;
    this.#ext[at] = ext;
    this.#seqOffset[at] = seqOffset;
    this.#tsOffset[at] = tsOffset;
    this.#length[at] = length;
    this.#keyframe[at] = keyframeStart ? 1 : 0;
    this.#count++;
    this.#queuedBytes += length;
    const bound = Math.max(this.#minQueueBytes, (this.#rateBps * this.#maxQueueMs) / 8000);
    while (this.#queuedBytes > bound && this.#count > 1) this.#dropOldest();
  }

  /**
   * Sends what the bucket allows now; the milliseconds until the next packet is due, or -1 when
   * nothing waits.
   */
  drain(nowMs: number, octets: number): number {
    this.#account(nowMs, octets);
    while (this.#count > 0 && this.#tokens > 0) {
      const at = this.#head;
      const track = this.#tracks[at]!;
      this.#tracks[at] = undefined;
      this.#head = (at + 1) % this.#capacity;
      this.#count--;
      this.#queuedBytes -= this.#length[at]!;
      const sent = this.#send(track, this.#ext[at]!, this.#seqOffset[at]!, this.#tsOffset[at]!);
      this.#tokens -= sent;
      this.#octets += sent;
    }
    if (this.#count === 0) {
      this.#tokens = Math.min(this.#tokens, Math.max(minBurstBytes, (this.#rateBps * this.#burstMs) / 8000));
      return -1;
    }
    return Math.max(1, Math.ceil(((1 - this.#tokens) * 8000) / this.#rateBps));
  }

  /** Drops every waiting packet (the viewer's video stops now); how many. */
  clear(): number {
    const dropped = this.#count;
    while (this.#count > 0) this.#pop();
    this.dropped += dropped;
    return dropped;
  }

  /** Refills the bucket for the time since the last look, then charges what was sent since. */
  #account(nowMs: number, octets: number): void {
    const rate = this.#rateBps;
    const burst = Math.max(minBurstBytes, (rate * this.#burstMs) / 8000);
    if (Number.isNaN(this.#updatedMs)) {
      this.#tokens = burst;
      this.#octets = octets;
      this.#updatedMs = nowMs;
    }
    const elapsed = nowMs - this.#updatedMs;
    // Infinity × 0 would be NaN: an unpaced bucket is simply full.
    const refill = elapsed <= 0 ? 0 : Number.isFinite(rate) ? (rate * elapsed) / 8000 : rate;
    // While packets wait, a late look (the pacing timer of a busy thread fired late) earns the
    // whole time it was late: capped, the pacer would send below its rate on a busy machine, and
    // its ring would fill and drop for a viewer whose link has room.
    this.#tokens = this.#count > 0 ? this.#tokens + refill : Math.min(burst, this.#tokens + refill);
    if (elapsed > 0) this.#updatedMs = nowMs;
    this.#tokens -= octets - this.#octets;
    this.#octets = octets;
    if (Number.isFinite(rate)) this.#tokens = Math.max(this.#tokens, (-rate * this.#maxDebtMs) / 8000);
  }

  /**
   * Drops the oldest packet, then the ones after it up to the next keyframe start (or up to the
   * newest: what comes next may be the keyframe the viewer waits for).
   */
  #dropOldest(): void {
    this.#pop();
    this.dropped++;
    while (this.#count > 1 && this.#keyframe[this.#head] === 0) {
      this.#pop();
      this.dropped++;
    }
  }

  #pop(): void {
    const at = this.#head;
    this.#tracks[at] = undefined;
    this.#queuedBytes -= this.#length[at]!;
    this.#head = (at + 1) % this.#capacity;
    this.#count--;
  }
}

/**
 * The pacing rate of an adaptive viewer: 1.3 × its estimate, so that the pacer follows the link
 * with a margin, but never below 2.5 × what its rendition and the audio send on average (libwebrtc's
 * pacing factor): a keyframe leaves within a fraction of a frame interval or two rather than
 * stretched over hundreds of milliseconds, which a receiver-side estimator (REMB, on RTP
 * timestamps) would read as a growing queue; the pacer must never be the bottleneck, only shave
 * the burst. While a probe runs, above the probe's rate, which it must be able to send. `Infinity`
 * (unpaced) while the rendition's rate is unknown and no estimate says anything.
 */
export function pacingRate(
  estimateBps: number,
  renditionBps: number,
  audioBps: number,
  probeBps: number,
): number {
  const estimate = Number.isFinite(estimateBps) && estimateBps > 0 ? 1.3 * estimateBps : 0;
  const floor = renditionBps > 0 ? pacingFactor * (renditionBps + audioBps) : 0;
  const rate = Math.max(estimate, floor, 1.2 * probeBps);
  return rate > 0 ? rate : Number.POSITIVE_INFINITY;
}

const pacingFactor = 2.5;
