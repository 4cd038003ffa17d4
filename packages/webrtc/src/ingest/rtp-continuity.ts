/**
 * Where a track's numbering stands, in the track's shared counters (`continuityFields`), so that a
 * receiver made again (a data-plane worker restarted) goes on with the same offsets: the input's
 * SSRC + 1 (0: none yet), and the sequence and timestamp offsets applied to it.
 */
export const continuityFields = { inputSsrc: 0, seqOffset: 1, tsOffset: 2 } as const;
export const continuityFieldCount = 3;

/** The last packet sent of a track: where the numbering of its next input goes on from. */
export interface ContinuityResume {
  seq: number;
  ts: number;
  atMs: number;
}

/**
 * Keeps one track's outgoing sequence numbers and timestamps continuous when its input restarts.
 * FFmpeg starts every run with a new SSRC and random sequence/timestamp bases; a viewer that sees
 * those jump freezes. Each input stream (an SSRC) gets offsets so that its first packet follows the
 * last packet sent: sequence + 1, timestamp + the wall-clock gap in clock units.
 *
 * The offsets live in `state` (shared memory the track's owner keeps) and the last packet is given
 * as `resume`: a receiver made again for the same track continues the same input's numbering as it
 * was (a real gap stays a gap, for NACKs), and a new input's after the last packet kept.
 */
export class RtpContinuity {
  readonly #clockRate: number;
  readonly #state: Float64Array;
  #inputSsrc: number | undefined;
  #seqOffset = 0;
  #tsOffset = 0;
  #lastSeq: number | undefined;
  #lastTs: number | undefined;
  #lastAtMs = 0;

  constructor(
    clockRate: number,
    state: Float64Array = new Float64Array(continuityFieldCount),
    resume?: ContinuityResume,
  ) {
    this.#clockRate = clockRate;
    this.#state = state;
    if (!resume) return;
    this.#lastSeq = resume.seq;
    this.#lastTs = resume.ts;
    this.#lastAtMs = resume.atMs;
    const ssrc = state[continuityFields.inputSsrc]!;
    if (ssrc > 0) {
      this.#inputSsrc = ssrc - 1;
      this.#seqOffset = state[continuityFields.seqOffset]!;
      this.#tsOffset = state[continuityFields.tsOffset]!;
    }
  }

  /** Rewrites sequence number (bytes 2–3) and timestamp (bytes 4–7) of `packet` in place. */
  rewrite(packet: Buffer, ssrc: number, seq: number, ts: number, nowMs: number): void {
    if (ssrc !== this.#inputSsrc) this.#newInput(ssrc, seq, ts, nowMs);
    const outSeq = (seq + this.#seqOffset) & 0xffff;
    const outTs = (ts + this.#tsOffset) >>> 0;
    packet.writeUInt16BE(outSeq, 2);
    packet.writeUInt32BE(outTs, 4);
    this.#lastSeq = outSeq;
    this.#lastTs = outTs;
    this.#lastAtMs = nowMs;
  }

  #newInput(ssrc: number, seq: number, ts: number, nowMs: number): void {
    this.#inputSsrc = ssrc;
    if (this.#lastSeq === undefined || this.#lastTs === undefined) {
      this.#seqOffset = 0;
      this.#tsOffset = 0;
    } else {
      const gapUnits = Math.max(1, Math.round(((nowMs - this.#lastAtMs) / 1000) * this.#clockRate));
      this.#seqOffset = (this.#lastSeq + 1 - seq) & 0xffff;
      this.#tsOffset = (this.#lastTs + gapUnits - ts) >>> 0;
    }
    const state = this.#state;
    state[continuityFields.inputSsrc] = ssrc + 1;
    state[continuityFields.seqOffset] = this.#seqOffset;
    state[continuityFields.tsOffset] = this.#tsOffset;
  }
}
