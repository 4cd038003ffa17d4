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

/**
 * One per viewer stream. The table (4 KiB) is made on the first resend: most viewers never NACK,
 * and a table per idle viewer was 8 KiB of each viewer's memory in the data plane.
 */
export class RetransmitPacer {
  readonly #minIntervalMs: number;
  readonly #perSecond: number;
  /** Per slot: the packet last resent there (ext), then when (ms); -1 marks an empty slot. */
  #table: Float64Array | undefined;
  #tokens: number;
  #refilledAt = 0;

  constructor(options: RetransmitPacerOptions = {}) {
    this.#minIntervalMs = options.minIntervalMs ?? 100;
    this.#perSecond = options.perSecond ?? 300;
    this.#tokens = this.#perSecond;
  }

  /** Bytes its table holds: 0 until the first resend. */
  get tableBytes(): number {
    return this.#table?.byteLength ?? 0;
  }

  /** Whether packet `ext` may be resent now; if so, it is counted as resent. */
  allow(ext: number, now: number): boolean {
    const slot = (ext & (slots - 1)) * 2;
    const table = this.#table;
    if (table && table[slot] === ext && now - table[slot + 1]! < this.#minIntervalMs) return false;
    if (now > this.#refilledAt) {
      this.#tokens = Math.min(
        this.#perSecond,
        this.#tokens + ((now - this.#refilledAt) * this.#perSecond) / 1000,
      );
      this.#refilledAt = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    const written = table ?? new Float64Array(slots * 2).fill(-1);
    this.#table = written;
    written[slot] = ext;
    written[slot + 1] = now;
    return true;
  }
}
