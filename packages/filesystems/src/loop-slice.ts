import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Lets a long walk (a glob over 100,000 memfs names, a cleanup pass) give the event loop back every
 * `budgetMs`, so no one request or rule holds it for long: `if (slice.due()) await slice.yield()`.
 */
export class LoopSlice {
  #since = performance.now();

  constructor(readonly budgetMs = 10) {}

  due(): boolean {
    return performance.now() - this.#since >= this.budgetMs;
  }

  async yield(): Promise<void> {
    await nextTurn();
    this.#since = performance.now();
  }
}
