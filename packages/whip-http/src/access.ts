import { bearerAccepted, RateLimitedError, RateLimiter } from '@dragon/whep-http';
import type { Context } from 'hono';
import { PublishUnauthorizedError } from './errors.js';
import type { ResolvedWhipOptions, WhipPublisher } from './options.js';

/**
 * Who may publish a name: the stream's own token or the server-wide one (RFC 9725 §4.5, bearer
 * tokens as OBS sends them), compared in constant time; with neither configured, nobody unless
 * `allowAnonymous`. Refusals count per client address; past the limit the address gets 429 before
 * any token is looked at, so guessing is slow.
 */
export class PublishAccess<P extends WhipPublisher> {
  readonly #options: ResolvedWhipOptions<P>;
  readonly #failures: RateLimiter | undefined;

  constructor(options: ResolvedWhipOptions<P>) {
    this.#options = options;
    const limit = options.tokenFailureLimit;
    this.#failures = limit === false ? undefined : new RateLimiter(limit);
  }

  /**
   * @throws RateLimitedError when this address had too many tokens refused in the window.
   * @throws PublishUnauthorizedError
   */
  authorize(c: Context, name: string): void {
    const address = this.#failures === undefined ? undefined : this.#options.clientAddress(c);
    if (address !== undefined) {
      const verdict = this.#failures!.check(address);
      if (!verdict.allowed) throw new RateLimitedError('token-failures', address, verdict.retryAfterSeconds);
    }
    const header = c.req.header('authorization');
    const accepted = [this.#options.streamToken(name), this.#options.token];
    if (bearerAccepted(header, accepted, !this.#options.allowAnonymous)) return;
    if (address !== undefined) this.#failures!.hit(address);
    throw new PublishUnauthorizedError(/^Bearer\s+\S/i.test(header ?? '') ? 'invalid' : 'missing');
  }
}
