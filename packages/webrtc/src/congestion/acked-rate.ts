/**
 * The acknowledged bitrate: what the viewer received over the last 500 ms of its arrival clock, in
 * bits per second on the wire. Under congestion this is the path's capacity (the rate control backs
 * off to a fraction of it); otherwise it is what we send, and it bounds how far the estimate may run
 * ahead of evidence (libwebrtc's `AcknowledgedBitrateEstimator` plays the same role).
 */

const windowMs = 500;
/** A rate over less time than this is noise (libwebrtc starts with a 150 ms window). */
const minimumSpanMs = 150;
// 500 ms at 2000 packets a second; older entries are evicted early when it is full.
const capacity = 1024;

export class AckedRate {
  readonly #arrivalMs = new Float64Array(capacity);
  readonly #bytes = new Float64Array(capacity);
  #head = 0;
  #length = 0;
  #sum = 0;
  #newestMs = Number.NEGATIVE_INFINITY;
  #firstMs = Number.NaN;

  /** A received packet: its arrival on the receiver's clock and its size on the wire. */
  add(arrivalMs: number, bytes: number): void {
    if (Number.isNaN(this.#firstMs)) this.#firstMs = arrivalMs;
    if (arrivalMs > this.#newestMs) this.#newestMs = arrivalMs;
    if (this.#length === capacity) this.#evictOne();
    const at = (this.#head + this.#length) % capacity;
    this.#arrivalMs[at] = arrivalMs;
    this.#bytes[at] = bytes;
    this.#length++;
    this.#sum += bytes;
    const horizon = this.#newestMs - windowMs;
    while (this.#length > 0 && this.#arrivalMs[this.#head]! <= horizon) this.#evictOne();
  }

  /** Bits per second over the window, or NaN before `minimumSpanMs` of arrivals. */
  get bps(): number {
    const span = Math.min(windowMs, this.#newestMs - this.#firstMs);
    if (!(span >= minimumSpanMs)) return Number.NaN;
    return (this.#sum * 8 * 1000) / span;
  }

  /**
   * Bits per second over the last `spanMs` of arrivals (at most the window), or NaN with less than
   * half of that span seen: what the path delivers *now*, where the 500 ms figure still holds the
   * rate from before a capacity drop.
   */
  recentBps(spanMs: number): number {
    const from = this.#newestMs - Math.min(spanMs, windowMs);
    if (!(this.#newestMs - this.#firstMs >= spanMs / 2)) return Number.NaN;
    let bytes = 0;
    for (let index = this.#length - 1; index >= 0; index--) {
      const at = (this.#head + index) % capacity;
      if (this.#arrivalMs[at]! <= from) break;
      bytes += this.#bytes[at]!;
    }
    return (bytes * 8 * 1000) / Math.min(spanMs, this.#newestMs - this.#firstMs);
  }

  /** Forgets everything: what is sent has changed so much that the old rate is no evidence. */
  reset(): void {
    this.#head = 0;
    this.#length = 0;
    this.#sum = 0;
    this.#newestMs = Number.NEGATIVE_INFINITY;
    this.#firstMs = Number.NaN;
  }

  #evictOne(): void {
    this.#sum -= this.#bytes[this.#head]!;
    this.#head = (this.#head + 1) % capacity;
    this.#length--;
  }
}
