import type { Context } from 'hono';
import { RateLimitedError, UnauthorizedError } from './errors.js';
import { requireBearer } from './http-util.js';
import type { ResolvedWhepOptions, WhepProcessEntry, WhepSource } from './options.js';
import { RateLimiter } from './rate-limiter.js';

/**
 * Who may learn what about a process: the one token check of every route, limited per client
 * address. A client learns whether a process exists, and where it stands, only after the check.
 */
export class ProcessAccess<S extends WhepSource> {
  readonly #options: ResolvedWhepOptions<S>;
  readonly #failures: RateLimiter | undefined;

  constructor(options: ResolvedWhepOptions<S>) {
    this.#options = options;
    const limit = options.tokenFailureLimit;
    this.#failures =
      limit === false ? undefined : new RateLimiter({ windowMs: limit.windowMs, max: limit.maxFailures });
  }

  /**
   * Authenticates a request for `processId` and returns its entry (`undefined`: no WHEP here).
   * @throws RateLimitedError when this address had too many tokens refused in the window.
   * @throws UnauthorizedError before anything about the process is told.
   */
  authorize(c: Context, processId: string): WhepProcessEntry<S> | undefined {
    const options = this.#options;
    const address = this.#failures === undefined ? undefined : options.clientAddress(c);
    if (this.#failures !== undefined && address !== undefined) {
      const verdict = this.#failures.check(address);
      if (!verdict.allowed) throw new RateLimitedError('token-failures', address, verdict.retryAfterSeconds);
    }
    const entry = options.lookup(processId);
    const header = c.req.header('authorization');
    try {
      if (entry !== undefined) requireBearer(header, [entry.token, options.token]);
      // An unknown id answers like a process whose token the client does not have, unless the
      // client holds the global token: 401 vs 404 must not tell anonymous clients which ids exist.
      else requireBearer(header, [options.token], this.#concealing());
    } catch (error) {
      if (error instanceof UnauthorizedError && address !== undefined) this.#failures?.hit(address);
      throw error;
    }
    return entry;
  }

  #concealing(): boolean {
    const conceal = this.#options.concealProcessIds;
    return typeof conceal === 'function' ? conceal() : conceal;
  }
}
