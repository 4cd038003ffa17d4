/** How many lines per window a kind of event may write. */
export interface LogThrottleOptions {
  /**
   * Lines of one kind written per window.
   * @default 20
   */
  burst?: number;
  /**
   * The window, in milliseconds.
   * @default 10_000
   */
  windowMs?: number;
  /** The clock (tests hand in their own). */
  now?: () => number;
}

/**
 * Lines about what peers do wrong, at most `burst` per `windowMs` for each kind of event: a client
 * that opens connections in a loop and sends garbage on each must not fill the log (and the
 * `/api/v3/log` ring) with one line per attempt, and a flood of one kind (malformed messages) must
 * not hide another (a byte limit reached, a handshake deadline). The lines left out are counted on
 * the next one of the same kind that is written. Kinds come from the server's code, never from a
 * peer, so the map stays small.
 * @example
 * const peerLog = new LogThrottle({ burst: 1, windowMs: 60_000 });
 * const suppressed = peerLog.admit('protocol');
 * if (suppressed !== undefined) logger.warn({ suppressed }, 'malformed message');
 */
export class LogThrottle {
  readonly #burst: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #kinds = new Map<string, { windowStart: number; lines: number; suppressed: number }>();

  constructor(options: LogThrottleOptions = {}) {
    this.#burst = options.burst ?? 20;
    this.#windowMs = options.windowMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Whether a line of `kind` may be written now: undefined when it must be dropped, else how many
   * of that kind were dropped since the last one written (to log as `suppressed`).
   */
  admit(kind = ''): number | undefined {
    const now = this.#now();
    let state = this.#kinds.get(kind);
    if (!state) {
      state = { windowStart: now, lines: 0, suppressed: 0 };
      this.#kinds.set(kind, state);
    }
    if (now - state.windowStart >= this.#windowMs) {
      state.windowStart = now;
      state.lines = 0;
    }
    if (state.lines >= this.#burst) {
      state.suppressed++;
      return undefined;
    }
    state.lines++;
    const suppressed = state.suppressed;
    state.suppressed = 0;
    return suppressed;
  }
}
