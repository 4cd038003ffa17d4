/**
 * How often one viewer may make us resend. Browsers ask again for a packet that is still missing
 * after about a round trip; libwebrtc's sender resends a packet at most once per RTT and caps the
 * retransmission rate. The same here, with the RTT unknown to the data plane: a packet is resent to
 * a viewer at most once per `minIntervalMs`, and at most `perSecond` packets a second in all (a
 * token bucket, so a burst of loss is repaired at once). A viewer that falls behind (or NACKs
 * everything) then costs the server a bounded amount, not a multiple of the stream.
 */
export interface RetransmitPacerOptions {
  /** @default 100 */
  minIntervalMs?: number;
  /** About twice a 1 Mbit/s video stream's packet rate. @default 300 */
  perSecond?: number;
}

/** Recently resent packets are remembered in a small table indexed by sequence number. */
const slots = 256;

export class RetransmitPacer {
  readonly #minIntervalMs: number;
  readonly #perSecond: number;
  readonly #ext = new Float64Array(slots).fill(-1);
  readonly #at = new Float64Array(slots);
  #tokens: number;
  #refilledAt = 0;

  constructor(options: RetransmitPacerOptions = {}) {
    this.#minIntervalMs = options.minIntervalMs ?? 100;
    this.#perSecond = options.perSecond ?? 300;
    this.#tokens = this.#perSecond;
  }

  /** Whether packet `ext` may be resent now; if so, it is counted as resent. */
  allow(ext: number, now: number): boolean {
    const slot = ext & (slots - 1);
    if (this.#ext[slot] === ext && now - this.#at[slot]! < this.#minIntervalMs) return false;
    if (now > this.#refilledAt) {
      this.#tokens = Math.min(
        this.#perSecond,
        this.#tokens + ((now - this.#refilledAt) * this.#perSecond) / 1000,
      );
      this.#refilledAt = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    this.#ext[slot] = ext;
    this.#at[slot] = now;
    return true;
  }
}
