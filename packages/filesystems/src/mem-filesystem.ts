import { EventEmitter } from 'node:events';
import { z } from 'zod';
import { FsFileTooBigError, FsFullError } from './errors.js';
import {
  chunksOf,
  type FileBody,
  type FileContent,
  type FileInfo,
  type FileMatcher,
  type Filesystem,
  type FsUsage,
} from './filesystem.js';
import { fileMatcherOf, normalizeFsPath } from './fs-path.js';
import { LoopSlice } from './loop-slice.js';
import { SpaceLedger, type SpaceReservation } from './space-ledger.js';

export const memFilesystemOptionsSchema = z.object({
  /** Capacity in bytes (datarhei: `storage.memory.max_size_mbytes` × 2^20); 0 is unlimited. @default 0 */
  maxBytes: z.number().int().min(0).default(0),
  /** When full, remove the oldest files until a new one fits (`storage.memory.purge`). @default false */
  purge: z.boolean().default(false),
});
export type MemFilesystemOptions = z.input<typeof memFilesystemOptionsSchema>;

interface MemFile {
  data: Buffer<ArrayBuffer>;
  lastModified: number;
}

type MemFilesystemEvents = {
  /** Files removed to make room for a write (`storage.memory.purge`). */
  purged: [paths: string[]];
};

/**
 * datarhei's memfs: files in process memory, addressed by path, with an optional capacity.
 *
 * Accounting is honest: `usage().sizeBytes` is the sum of the bytes the files hold, and each file's
 * bytes live in a Buffer of exactly that length outside Node's shared 8 KiB pool (a pooled small
 * Buffer would pin a whole slab that the count would not see).
 */
export class MemFilesystem extends EventEmitter<MemFilesystemEvents> implements Filesystem {
  readonly name = 'mem';
  readonly type = 'mem' as const;
  readonly #files = new Map<string, MemFile>();
  readonly #maxBytes: number;
  readonly #purge: boolean;
  /** The bytes the files hold and the uploads in progress reserve. */
  readonly #space: SpaceLedger;

  constructor(options: MemFilesystemOptions = {}) {
    super();
    const parsed = memFilesystemOptionsSchema.parse(options);
    this.#maxBytes = parsed.maxBytes;
    this.#purge = parsed.purge;
    this.#space = new SpaceLedger(parsed.maxBytes);
  }

  async usage(): Promise<FsUsage> {
    return { sizeBytes: this.#space.usedBytes, maxBytes: this.#maxBytes, files: this.#files.size };
  }

  async list(pattern?: string | FileMatcher): Promise<FileInfo[]> {
    const matches = fileMatcherOf(pattern || undefined);
    const files: FileInfo[] = [];
    const slice = new LoopSlice();
    for (const [name, file] of this.#files) {
      if (slice.due()) await slice.yield();
      if (matches && !matches(name)) continue;
      files.push({ name, size: file.data.length, lastModified: file.lastModified });
    }
    return files;
  }

  async stat(path: string) {
    const name = normalizeFsPath(path);
    const file = this.#files.get(name);
    return file
      ? { name, size: file.data.length, lastModified: file.lastModified, isDirectory: false }
      : undefined;
  }

  async read(path: string): Promise<FileContent | undefined> {
    const name = normalizeFsPath(path);
    const file = this.#files.get(name);
    if (!file) return undefined;
    return { info: { name, size: file.data.length, lastModified: file.lastModified }, body: file.data };
  }

  async write(path: string, body: FileBody): Promise<{ created: boolean; size: number }> {
    const name = normalizeFsPath(path);
    const reservation = this.#space.begin(name, this.#files.get(name)?.data.length ?? 0);
    try {
      const data = await this.#collect(name, body, reservation);
      const previous = this.#files.get(name);
      // The replaced file may have been purged or replaced meanwhile: admit against what is there now.
      const admitted = () => reservation.commit(data.length, this.#files.get(name)?.data.length ?? 0);
      if (!admitted()) {
        const over = this.#space.usedBytes - (previous?.data.length ?? 0) + data.length - this.#maxBytes;
        if (!this.#purge || this.#purgeOldest(over, name) < over || !admitted()) {
          throw new FsFullError(this.name, name);
        }
      }
      this.#files.set(name, { data, lastModified: Date.now() });
      return { created: previous === undefined, size: data.length };
    } finally {
      reservation.release();
    }
  }

  async remove(path: string): Promise<number> {
    return this.#delete(normalizeFsPath(path));
  }

  #delete(name: string): number {
    const file = this.#files.get(name);
    if (!file) return -1;
    this.#files.delete(name);
    this.#space.freed(file.data.length);
    return file.data.length;
  }

  /** Removes the least recently written files (never `keep`) until `bytes` are freed; returns what was freed. */
  #purgeOldest(bytes: number, keep: string): number {
    const candidates = [...this.#files]
      .filter(([name]) => name !== keep)
      .sort(([, a], [, b]) => a.lastModified - b.lastModified);
    let freed = 0;
    const purged: string[] = [];
    for (const [name] of candidates) {
      if (freed >= bytes) break;
      freed += this.#delete(name);
      purged.push(name);
    }
    if (purged.length > 0) this.emit('purged', purged);
    return freed;
  }

  /**
   * Reads the body, reserving each chunk before keeping it: the read stops at the first chunk the
   * file or the filesystem has no room for (purging the oldest files first when allowed), so a client
   * cannot make the server buffer more than the capacity, however many upload at once.
   */
  async #collect(name: string, body: FileBody, reservation: SpaceReservation): Promise<Buffer<ArrayBuffer>> {
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of chunksOf(body)) {
      size += chunk.length;
      if (this.#maxBytes > 0 && size > this.#maxBytes) {
        reservation.release();
        throw new FsFileTooBigError(name, size, this.#maxBytes);
      }
      if (!reservation.grow(chunk.length)) {
        const shortfall = chunk.length - reservation.room();
        if (
          !this.#purge ||
          this.#purgeOldest(shortfall, name) < shortfall ||
          !reservation.grow(chunk.length)
        ) {
          // At once, not once the client's stream has been cancelled: others may use the room now.
          reservation.release();
          throw new FsFullError(this.name, name);
        }
      }
      parts.push(chunk);
    }
    const data = Buffer.allocUnsafeSlow(size);
    let offset = 0;
    for (const part of parts) {
      data.set(part, offset);
      offset += part.length;
    }
    return data;
  }
}
