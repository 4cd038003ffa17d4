import type { WhepError, WhepErrorCode } from './errors.js';
import type { WhepLogger } from './options.js';

/** Engine text kept in a line: enough to say what was wrong, never a whole SDP. */
const maxReasonLength = 200;

/**
 * The log of refused offers: one short line per refusal (process, status, code, the reason — no
 * stack trace, no SDP), and at most one line per code per interval, the lines held back counted in
 * the next one. Anyone can send offers; before, each refusal logged 1.5 KB with a stack trace.
 * Server errors (5xx: viewer limits, ports exhausted, a failing input) are warnings, the rest info.
 */
export class RefusalLog {
  readonly #logger: WhepLogger;
  readonly #intervalMs: number;
  readonly #now: () => number;
  /** Per code (a closed set, so bounded): when it was last logged, and how many since. */
  readonly #codes = new Map<WhepErrorCode, { loggedAt: number; heldBack: number }>();

  constructor(logger: WhepLogger, intervalMs: number, now: () => number = Date.now) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  refused(processId: string, error: WhepError): void {
    const now = this.#now();
    const state = this.#codes.get(error.code);
    if (state && now - state.loggedAt < this.#intervalMs) {
      state.heldBack++;
      return;
    }
    const heldBack = state?.heldBack ?? 0;
    this.#codes.set(error.code, { loggedAt: now, heldBack: 0 });
    const line = {
      processId,
      status: error.status,
      code: error.code,
      reason: reasonOf(error),
      ...(heldBack > 0 ? { heldBack } : {}),
    };
    if (error.status >= 500) this.#logger.warn(line, 'whep offer refused');
    else this.#logger.info(line, 'whep offer refused');
  }
}

/**
 * The engine's own words when it refused, down its chain of causes (a library's exception text is
 * never sent to the client, so this is where it is told), else the answer's message.
 */
function reasonOf(error: WhepError): string {
  const words: string[] = [];
  let cause: unknown = error.cause;
  for (let depth = 0; cause instanceof Error && depth < 3; depth++) {
    words.push(cause.message);
    cause = cause.cause;
  }
  const reason = (words.length > 0 ? words.join(': ') : error.message).replace(/\s+/g, ' ');
  return reason.length > maxReasonLength ? `${reason.slice(0, maxReasonLength)}…` : reason;
}
