/** Bytes over a sliding window of whole seconds, for datarhei's per-session and per-collector bitrates. */
export class RateWindow {
  readonly #buckets: Float64Array;
  #second = 0;

  /** @param seconds window length (datarhei averages over 10 s) */
  constructor(readonly seconds = 10) {
    this.#buckets = new Float64Array(seconds);
  }

  add(bytes: number, now = Date.now()): void {
    this.#advance(now);
    this.#buckets[this.#second % this.seconds]! += bytes;
  }

  /** Average bits per second over the window. */
  bitsPerSecond(now = Date.now()): number {
    this.#advance(now);
    let sum = 0;
    for (const bytes of this.#buckets) sum += bytes;
    return (sum * 8) / this.seconds;
  }

  #advance(now: number): void {
    const second = Math.floor(now / 1000);
    if (this.#second === 0) this.#second = second;
    const elapsed = Math.min(second - this.#second, this.seconds);
    for (let step = 1; step <= elapsed; step++) this.#buckets[(this.#second + step) % this.seconds] = 0;
    if (second > this.#second) this.#second = second;
  }
}
