/**
 * One log line per interval for an event anyone can cause (a forged record in Redis, a bad node token):
 * the first is logged, later ones within the interval are counted and reported with the next line.
 */
export class LogThrottle {
  readonly #intervalMs: number;
  #lastAt = Number.NEGATIVE_INFINITY;
  #held = 0;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** Calls `log` with how many events were held back since the last line, or holds this one back. */
  pass(log: (heldBack: number) => void): void {
    const now = Date.now();
    if (now - this.#lastAt < this.#intervalMs) {
      this.#held++;
      return;
    }
    this.#lastAt = now;
    const heldBack = this.#held;
    this.#held = 0;
    log(heldBack);
  }
}
