/**
 * Keeps one track's outgoing sequence numbers and timestamps continuous when its input restarts.
 * FFmpeg starts every run with a new SSRC and random sequence/timestamp bases; a viewer that sees
 * those jump freezes. Each input stream (an SSRC) gets offsets so that its first packet follows the
 * last packet sent: sequence + 1, timestamp + the wall-clock gap in clock units.
 */
export class RtpContinuity {
  readonly #clockRate: number;
  #inputSsrc: number | undefined;
  #seqOffset = 0;
  #tsOffset = 0;
  #lastSeq: number | undefined;
  #lastTs: number | undefined;
  #lastAtMs = 0;

  constructor(clockRate: number) {
    this.#clockRate = clockRate;
  }

  /** Rewrites sequence number (bytes 2–3) and timestamp (bytes 4–7) of `packet` in place. */
  rewrite(packet: Buffer, ssrc: number, seq: number, ts: number, nowMs: number): void {
    if (ssrc !== this.#inputSsrc) {
      this.#inputSsrc = ssrc;
      if (this.#lastSeq === undefined || this.#lastTs === undefined) {
        this.#seqOffset = 0;
        this.#tsOffset = 0;
      } else {
        const gapUnits = Math.max(1, Math.round(((nowMs - this.#lastAtMs) / 1000) * this.#clockRate));
        this.#seqOffset = (this.#lastSeq + 1 - seq) & 0xffff;
        this.#tsOffset = (this.#lastTs + gapUnits - ts) >>> 0;
      }
    }
    const outSeq = (seq + this.#seqOffset) & 0xffff;
    const outTs = (ts + this.#tsOffset) >>> 0;
    packet.writeUInt16BE(outSeq, 2);
    packet.writeUInt32BE(outTs, 4);
    this.#lastSeq = outSeq;
    this.#lastTs = outTs;
    this.#lastAtMs = nowMs;
  }
}
