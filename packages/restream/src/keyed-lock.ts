/**
 * Serialises tasks per key. A task holds all its keys at once: they are taken in one synchronous
 * step, so two tasks that want overlapping keys queue behind each other and cannot deadlock.
 * A rename holds the old and the new process id, so nothing else may add, remove or rename
 * either id while it runs.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    const before = unique.map((key) => this.#tails.get(key));
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    for (const key of unique) this.#tails.set(key, done);
    try {
      await Promise.all(before);
      return await task();
    } finally {
      release();
      for (const key of unique) if (this.#tails.get(key) === done) this.#tails.delete(key);
    }
  }
}
