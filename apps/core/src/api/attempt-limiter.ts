export interface AttemptLimiterOptions {
  /** Attempts one client may make per window. @default 10 */
  maxAttempts?: number;
  /** @default 300_000 (5 minutes) */
  windowMs?: number;
  /** Clients remembered at once; the oldest window is dropped beyond it, so memory stays bounded. @default 10_000 */
  maxClients?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Counts password guesses per client in fixed windows. An attempt is counted when it arrives, before its
 * body is read or its password compared, so parallel guesses cannot slip past the count; a successful
 * login gives its attempt back.
 */
export class AttemptLimiter {
  readonly #maxAttempts: number;
  readonly #windowMs: number;
  readonly #maxClients: number;
  readonly #now: () => number;
  /** Insertion order is window-start order: the first entry is the oldest. */
  readonly #windows = new Map<string, { startedAt: number; attempts: number }>();

  constructor(options: AttemptLimiterOptions = {}) {
    this.#maxAttempts = options.maxAttempts ?? 10;
    this.#windowMs = options.windowMs ?? 300_000;
    this.#maxClients = options.maxClients ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Counts an attempt by `client`; returns 0 when it may go ahead, else the seconds until it may retry. */
  take(client: string): number {
    const now = this.#now();
    let window = this.#windows.get(client);
    if (!window || now - window.startedAt >= this.#windowMs) {
      this.#windows.delete(client);
      window = { startedAt: now, attempts: 0 };
      this.#windows.set(client, window);
      if (this.#windows.size > this.#maxClients) this.#windows.delete(this.#windows.keys().next().value!);
    }
    if (window.attempts >= this.#maxAttempts) {
      return Math.max(1, Math.ceil((window.startedAt + this.#windowMs - now) / 1000));
    }
    window.attempts++;
    return 0;
  }

  /** Gives back the attempt of a client that turned out to know the password. */
  forgive(client: string): void {
    const window = this.#windows.get(client);
    if (window && window.attempts > 0) window.attempts--;
  }
}
