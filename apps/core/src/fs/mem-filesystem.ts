import { EventEmitter } from 'node:events';
import { z } from 'zod';
import { FsFileTooBigError, FsFullError } from './errors.js';
import {
  chunksOf,
  type FileBody,
  type FileContent,
  type FileInfo,
  type Filesystem,
  type FsUsage,
} from './filesystem.js';
import { compileFileGlob, normalizeFsPath } from './fs-path.js';

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
  #sizeBytes = 0;

  constructor(options: MemFilesystemOptions = {}) {
    super();
    const parsed = memFilesystemOptionsSchema.parse(options);
    this.#maxBytes = parsed.maxBytes;
    this.#purge = parsed.purge;
  }

  async usage(): Promise<FsUsage> {
    return { sizeBytes: this.#sizeBytes, maxBytes: this.#maxBytes, files: this.#files.size };
  }

  async list(pattern?: string): Promise<FileInfo[]> {
    const matches = pattern ? compileFileGlob(pattern) : undefined;
    const files: FileInfo[] = [];
    for (const [name, file] of this.#files) {
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
    const data = await this.#collect(name, body);
    const previous = this.#files.get(name);
    const needed = this.#sizeBytes - (previous?.data.length ?? 0) + data.length;
    if (this.#maxBytes > 0 && needed > this.#maxBytes) {
      if (!this.#purge || this.#purgeOldest(needed - this.#maxBytes, name) < needed - this.#maxBytes) {
        throw new FsFullError(this.name, name);
      }
    }
    // The replaced file may have been purged meanwhile; account for what is there now.
    const replaced = this.#files.get(name);
    this.#files.set(name, { data, lastModified: Date.now() });
    this.#sizeBytes += data.length - (replaced?.data.length ?? 0);
    return { created: previous === undefined, size: data.length };
  }

  async remove(path: string): Promise<number> {
    return this.#delete(normalizeFsPath(path));
  }

  #delete(name: string): number {
    const file = this.#files.get(name);
    if (!file) return -1;
    this.#files.delete(name);
    this.#sizeBytes -= file.data.length;
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

  async #collect(name: string, body: FileBody): Promise<Buffer<ArrayBuffer>> {
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of chunksOf(body)) {
      size += chunk.length;
      // Stop reading as soon as the file alone cannot fit: a client cannot make us buffer more.
      if (this.#maxBytes > 0 && size > this.#maxBytes)
        throw new FsFileTooBigError(name, size, this.#maxBytes);
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
