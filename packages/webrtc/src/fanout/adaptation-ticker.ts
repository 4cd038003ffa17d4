/**
 * The one timer of a shard's adaptive viewers: every `intervalMs` it hands each of them the time
 * and how long since the last tick (their congestion control looks at what was sent and lost,
 * and a running probe sends its share). It runs only while the shard has an adaptive viewer, and
 * never keeps a process alive by itself.
 */
export class AdaptationTicker<Viewer> {
  readonly #viewers = new Set<Viewer>();
  readonly #onTick: (viewer: Viewer, nowMs: number, elapsedMs: number) => void;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #lastMs = 0;

  constructor(onTick: (viewer: Viewer, nowMs: number, elapsedMs: number) => void, intervalMs: number) {
    this.#onTick = onTick;
    this.#intervalMs = intervalMs;
  }

  add(viewer: Viewer): void {
    this.#viewers.add(viewer);
    if (this.#timer) return;
    this.#lastMs = Date.now();
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  delete(viewer: Viewer): void {
    this.#viewers.delete(viewer);
    if (this.#viewers.size === 0) this.close();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const now = Date.now();
    // A stalled thread's late tick covers what it missed, but no more than a second of it.
    const elapsed = Math.min(1000, Math.max(0, now - this.#lastMs));
    this.#lastMs = now;
    for (const viewer of this.#viewers) this.#onTick(viewer, now, elapsed);
  }
}
