/** A worker that ran this long before it died is restarted at once. */
const stableMs = 10_000;
const firstDelayMs = 250;
const maxDelayMs = 30_000;

/**
 * When a dead data-plane worker is started again: at once, unless the one before it died within
 * `stableMs` of its start; then after a delay that doubles with each quick death, up to
 * `maxDelayMs`. A worker that dies of what it is given (a bug that every replacement meets again)
 * then costs a start every 30 s, not a loop that holds a core.
 */
export class RestartPolicy {
  readonly #workers = new Map<
    number,
    { startedAt: number; delayMs: number; timer: NodeJS.Timeout | undefined }
  >();

  /** Worker `key` died: `start` runs after the returned delay (ms). */
  schedule(key: number, start: () => void): number {
    const now = Date.now();
    const previous = this.#workers.get(key);
    const delayMs =
      !previous || now - previous.startedAt >= stableMs
        ? 0
        : Math.min(maxDelayMs, Math.max(firstDelayMs, previous.delayMs * 2));
    const entry: { startedAt: number; delayMs: number; timer: NodeJS.Timeout | undefined } = {
      startedAt: previous?.startedAt ?? 0,
      delayMs,
      timer: undefined,
    };
    clearTimeout(previous?.timer);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      entry.startedAt = Date.now();
      start();
    }, delayMs);
    // A pending restart does not keep the process alive; the plane's owner does.
    entry.timer.unref();
    this.#workers.set(key, entry);
    return delayMs;
  }

  cancelAll(): void {
    for (const entry of this.#workers.values()) clearTimeout(entry.timer);
    this.#workers.clear();
  }
}
