/** Something with packets waiting: sends what is due at `nowMs`, and says when the rest is (-1: none left). */
export interface Paced {
  drainPaced(nowMs: number): number;
}

/**
 * The one timer of a shard's pacers: while any of them holds packets, a single `setTimeout` for
 * the earliest due time (never more than one pending, none while every pacer is empty). It never
 * keeps a process alive by itself.
 */
export class PacingTimer<Item extends Paced> {
  readonly #waiting = new Set<Item>();
  #timer: NodeJS.Timeout | undefined;
  #dueMs = Number.POSITIVE_INFINITY;
  readonly #run = (): void => this.#fire();

  /** `item` has packets due in `inMs` (from `drainPaced` or an offer that queued). */
  schedule(item: Item, nowMs: number, inMs: number): void {
    if (inMs < 0) return;
    this.#waiting.add(item);
    this.#arm(nowMs + inMs, nowMs);
  }

  delete(item: Item): void {
    this.#waiting.delete(item);
    if (this.#waiting.size === 0) this.close();
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dueMs = Number.POSITIVE_INFINITY;
  }

  #arm(dueMs: number, nowMs: number): void {
    if (this.#timer && dueMs >= this.#dueMs) return;
    clearTimeout(this.#timer);
    this.#dueMs = dueMs;
    this.#timer = setTimeout(this.#run, Math.max(1, dueMs - nowMs));
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#dueMs = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const item of this.#waiting) {
      const due = item.drainPaced(now);
      if (due < 0) this.#waiting.delete(item);
      else next = Math.min(next, due);
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(now + next, now);
  }
}
