/**
 * Lines about what peers do wrong, at most `burst` per `windowMs`: a client that opens connections in
 * a loop and sends garbage on each must not fill the log (and the `/api/v3/log` ring) with one line
 * per attempt. The lines left out are counted on the next one that is written.
 */
export class LogThrottle {
  readonly #burst: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #windowStart = Number.NEGATIVE_INFINITY;
  #lines = 0;
  #suppressed = 0;

  constructor(options: { burst?: number; windowMs?: number; now?: () => number } = {}) {
    this.#burst = options.burst ?? 20;
    this.#windowMs = options.windowMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Whether a line may be written now: undefined when it must be dropped, else how many were
   * dropped since the last one written (to log as `suppressed`).
   */
  admit(): number | undefined {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now;
      this.#lines = 0;
    }
    if (this.#lines >= this.#burst) {
      this.#suppressed++;
      return undefined;
    }
    this.#lines++;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    return suppressed;
  }
}
