/** The verdict on one request: allowed, or refused with the seconds until the window resets. */
export type RateVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Window {
  startedAt: number;
  count: number;
}

/**
 * Fixed-window counter per key (client address). Timer-free: expired windows are dropped lazily
 * when the table grows, so nothing needs closing.
 */
export class RateLimiter {
  readonly #windows = new Map<string, Window>();
  readonly #windowMs: number;
  readonly #max: number;
  readonly #now: () => number;
  /** Table size at which expired windows are swept. */
  readonly #sweepAt: number;

  constructor(options: { windowMs: number; max: number; now?: () => number; sweepAt?: number }) {
    this.#windowMs = options.windowMs;
    this.#max = options.max;
    this.#now = options.now ?? Date.now;
    this.#sweepAt = options.sweepAt ?? 10_000;
  }

  /** Counts one hit for `key` and says whether it is within the limit. */
  hit(key: string): RateVerdict {
    const now = this.#now();
    let window = this.#windows.get(key);
    if (window === undefined || now - window.startedAt >= this.#windowMs) {
      if (window === undefined && this.#windows.size >= this.#sweepAt) this.#sweep(now);
      window = { startedAt: now, count: 0 };
      this.#windows.set(key, window);
    }
    window.count += 1;
    if (window.count <= this.#max) return { allowed: true };
    return { allowed: false, retryAfterSeconds: this.#secondsLeft(window, now) };
  }

  /** Whether `key` is still within the limit, without counting a hit (e.g. before a token check). */
  check(key: string): RateVerdict {
    const now = this.#now();
    const window = this.#windows.get(key);
    if (window === undefined || now - window.startedAt >= this.#windowMs || window.count < this.#max) {
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: this.#secondsLeft(window, now) };
  }

  /** Number of keys currently tracked. */
  get size(): number {
    return this.#windows.size;
  }

  #secondsLeft(window: Window, now: number): number {
    return Math.max(1, Math.ceil((window.startedAt + this.#windowMs - now) / 1000));
  }

  #sweep(now: number): void {
    for (const [key, window] of this.#windows) {
      if (now - window.startedAt >= this.#windowMs) this.#windows.delete(key);
    }
  }
}
