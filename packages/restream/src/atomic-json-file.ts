import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StoreWriteError } from './errors.js';

export interface AtomicJsonFileOptions {
  /** File mode of the written file. @default 0o600 */
  mode?: number;
}

/**
 * A JSON file that is replaced atomically and written off the event loop's critical path:
 * the text goes to `<file>.<pid>.tmp`, is fsynced, renamed over the file, and the directory is
 * fsynced, all with `fs/promises`. Writes are coalesced: every `schedule` made while a write is
 * pending or running is served by one later write of the newest text, and the serialiser runs once
 * per write, not once per change.
 *
 * @example
 * const file = new AtomicJsonFile('/data/config.json');
 * await file.removeStaleTemps();
 * const current = await file.read(); // undefined when the file does not exist
 * await file.write({ ...current, name: 'dragon' });
 */
export class AtomicJsonFile {
  readonly path: string;
  readonly #mode: number;
  readonly #temp: string;
  #serialise: (() => string) | undefined;
  /** Those waiting for the next write. */
  #waiting: { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | undefined;
  /** The one loop that writes, while there is something to write. */
  #draining: Promise<void> | undefined;
  #writes = 0;

  constructor(path: string, options: AtomicJsonFileOptions = {}) {
    this.path = path;
    this.#mode = options.mode ?? 0o600;
    this.#temp = `${path}.${process.pid}.tmp`;
  }

  /** Completed writes so far (each one a temp file, fsync, rename and directory fsync). */
  get writes(): number {
    return this.#writes;
  }

  /** The parsed file, or `undefined` when it does not exist. Parse errors are thrown as they are. */
  async read(): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return JSON.parse(text);
  }

  /** Writes `value` as indented JSON; resolves once it (or a newer scheduled text) is on disk. */
  write(value: unknown): Promise<void> {
    const text = `${JSON.stringify(value, null, 2)}\n`;
    return this.schedule(() => text);
  }

  /**
   * Asks for a write of whatever `serialise` returns when the write begins. Calls made before that
   * moment share it; the promise resolves when the text is durable and rejects with
   * `StoreWriteError` when it could not be written (a later call tries again).
   */
  schedule(serialise: () => string): Promise<void> {
    this.#serialise = serialise;
    this.#waiting ??= deferred();
    this.#draining ??= this.#drain();
    return this.#waiting.promise;
  }

  /**
   * Deletes the file once the writes scheduled so far are done, durably (the directory is fsynced).
   * Schedule nothing on this instance afterwards: a write would bring the file back.
   * @throws StoreWriteError
   */
  async remove(): Promise<void> {
    await this.flush();
    try {
      await rm(this.path, { force: true });
      await syncDirectory(dirname(this.path));
    } catch (error) {
      throw new StoreWriteError(this.path, { cause: error });
    }
  }

  /** Resolves when every scheduled write has finished (successfully or not). */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /**
   * Removes `<file>.<pid>.tmp` files that a killed process left behind: those of processes that
   * no longer exist, and any of our own pid (none of ours can be in flight before our first write).
   */
  async removeStaleTemps(): Promise<string[]> {
    return removeStaleTemps(dirname(this.path), basename(this.path));
  }

  /**
   * `removeStaleTemps` for every file of `dir` at once (a directory of atomically written files,
   * such as the process store's): one listing, not one per file.
   */
  static removeStaleTempsIn(dir: string): Promise<string[]> {
    return removeStaleTemps(dir, undefined);
  }

  async #drain(): Promise<void> {
    while (this.#serialise) {
      // Changes made anywhere in this turn of the event loop join this write.
      await new Promise((resolve) => setImmediate(resolve));
      const serialise = this.#serialise;
      const waiting = this.#waiting;
      // From here on a `schedule` is for the next write.
      this.#serialise = undefined;
      this.#waiting = undefined;
      try {
        await this.#writeNow(serialise());
        waiting?.resolve();
      } catch (error) {
        waiting?.reject(error);
      }
    }
    this.#draining = undefined;
  }

  async #writeNow(text: string): Promise<void> {
    try {
      const handle = await open(this.#temp, 'w', this.#mode);
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(this.#temp, this.path);
      // The rename is only durable once the directory entry is.
      await syncDirectory(dirname(this.path));
      this.#writes++;
    } catch (error) {
      await rm(this.#temp, { force: true }).catch(() => undefined);
      throw new StoreWriteError(this.path, { cause: error });
    }
  }
}

/** fsyncs a directory, so the entries just renamed or removed in it survive a crash. */
export async function syncDirectory(dir: string): Promise<void> {
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/** Removes `<name>.<pid>.tmp` in `dir` (any name when `name` is undefined) of dead pids and our own. */
async function removeStaleTemps(dir: string, name: string | undefined): Promise<string[]> {
  const prefix = name === undefined ? '.+' : name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^${prefix}\\.(\\d+)\\.tmp$`);
  const removed: string[] = [];
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    const pid = pattern.exec(entry)?.[1];
    if (pid === undefined || (Number(pid) !== process.pid && isAlive(Number(pid)))) continue;
    const file = join(dir, entry);
    await rm(file, { force: true });
    removed.push(file);
  }
  return removed;
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
