import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, realpathSync } from 'node:fs';
import { lstat, mkdir, readdir, realpath, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { FsFileTooBigError, FsFullError, FsWriteFailedError } from './errors.js';
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
import { SpaceLedger } from './space-ledger.js';

export const diskFilesystemOptionsSchema = z.object({
  /** `storage.disk.dir`; created when missing. */
  root: z.string().min(1),
  /** Capacity in bytes (`storage.disk.max_size_mbytes` × 2^20) for writes through the API; 0 is unlimited. */
  maxBytes: z.number().int().min(0).default(0),
  /** How long a measured directory size is reused. @default 10000 */
  usageTtlMs: z.number().int().min(0).default(10_000),
});
export type DiskFilesystemOptions = z.input<typeof diskFilesystemOptionsSchema>;

/** An upload in progress: `.<12 hex digits>.upload` beside its target, renamed over it when complete. */
const uploadSuffix = '.upload';
const isUpload = (name: string) => name.endsWith(uploadSuffix) && /^\.[0-9a-f]{12}\.upload$/.test(name);

const notFound = (error: unknown) =>
  (error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR';

/**
 * datarhei's diskfs: a directory on disk, exposed as `/`. Nothing outside the root is reachable: names
 * are normalised, and a symlink whose target lies outside the root reads as missing.
 */
export class DiskFilesystem implements Filesystem {
  readonly name = 'disk';
  readonly type = 'disk' as const;
  /** The root as the kernel resolves it: what every resolved path must start with. */
  readonly root: string;
  readonly #maxBytes: number;
  readonly #usageTtlMs: number;
  #usage: { at: number; value: FsUsage } | undefined;
  /** What the files hold (measured, then kept up to date by API writes) and uploads reserve. */
  readonly #space: SpaceLedger;

  constructor(options: DiskFilesystemOptions) {
    const parsed = diskFilesystemOptionsSchema.parse(options);
    mkdirSync(parsed.root, { recursive: true });
    this.root = realpathSync(parsed.root);
    this.#maxBytes = parsed.maxBytes;
    this.#usageTtlMs = parsed.usageTtlMs;
    this.#space = new SpaceLedger(parsed.maxBytes);
  }

  async usage(): Promise<FsUsage> {
    const now = Date.now();
    if (this.#usage && now - this.#usage.at < this.#usageTtlMs) {
      return { ...this.#usage.value, sizeBytes: this.#space.usedBytes };
    }
    // FFmpeg writes here too, behind the API's back: the walk is the truth, every so often.
    const generation = this.#space.generation;
    const files = await this.list();
    this.#space.measured(
      files.reduce((sum, file) => sum + file.size, 0),
      generation,
    );
    const value = { sizeBytes: this.#space.usedBytes, maxBytes: this.#maxBytes, files: files.length };
    this.#usage = { at: now, value };
    return value;
  }

  async list(pattern?: string | FileMatcher): Promise<FileInfo[]> {
    const matches = fileMatcherOf(pattern || undefined);
    const files: FileInfo[] = [];
    const walk = async (directory: string, prefix: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(directory, { withFileTypes: true });
      } catch (error) {
        if (notFound(error)) return;
        throw error;
      }
      for (const entry of entries) {
        const name = `${prefix}/${entry.name}`;
        // Symlinks are not followed when listing: a link could lead out of the root or into a loop.
        if (entry.isDirectory()) await walk(join(directory, entry.name), name);
        else if (entry.isFile() && !isUpload(entry.name) && (!matches || matches(name))) {
          const info = await stat(join(directory, entry.name)).catch((error) => {
            if (notFound(error)) return undefined;
            throw error;
          });
          if (info) files.push({ name, size: info.size, lastModified: info.mtimeMs });
        }
      }
    };
    await walk(this.root, '');
    return files;
  }

  async stat(path: string) {
    const name = normalizeFsPath(path);
    const real = await this.#resolveExisting(name);
    if (!real) return undefined;
    const info = await stat(real);
    return { name, size: info.size, lastModified: info.mtimeMs, isDirectory: info.isDirectory() };
  }

  async read(path: string): Promise<FileContent | undefined> {
    const name = normalizeFsPath(path);
    const real = await this.#resolveExisting(name);
    if (!real) return undefined;
    const info = await stat(real);
    if (!info.isFile()) return undefined;
    return {
      info: { name, size: info.size, lastModified: info.mtimeMs },
      body: Readable.toWeb(createReadStream(real)) as ReadableStream<Uint8Array>,
    };
  }

  async write(path: string, body: FileBody): Promise<{ created: boolean; size: number }> {
    const name = normalizeFsPath(path);
    const target = join(this.root, name);
    const directory = dirname(target);
    await mkdir(directory, { recursive: true });
    // The parent must still be inside the root once symlinks are resolved.
    if (!this.#inside(await realpath(directory)))
      throw new FsWriteFailedError(name, { cause: 'outside root' });
    const existing = await lstat(target).catch((error) => {
      if (notFound(error)) return undefined;
      throw error;
    });
    if (existing && !existing.isFile()) throw new FsWriteFailedError(name, { cause: 'not a regular file' });
    // Measured once (then kept current), so the reservations below count against a real figure.
    if (this.#maxBytes > 0) await this.usage();
    const reservation = this.#space.begin(name, existing?.size ?? 0);
    const temporary = join(directory, `.${randomBytes(6).toString('hex')}${uploadSuffix}`);
    let size = 0;
    const maxBytes = this.#maxBytes;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        let refusal: Error | undefined;
        if (maxBytes > 0 && size > maxBytes) refusal = new FsFileTooBigError(name, size, maxBytes);
        else if (!reservation.grow(chunk.length)) refusal = new FsFullError('disk', name);
        if (!refusal) return done(null, chunk);
        // At once, not once the pipeline has torn down: other uploads may use the room now.
        reservation.release();
        done(refusal);
      },
    });
    const source = Readable.from(chunksOf(body));
    try {
      await pipeline(source, counter, createWriteStream(temporary, { flags: 'wx' }));
      // Only the upload holding the replaced file's credit may count it as freed; another one
      // replacing the same file counts in full (an overcount until the next walk, never an undercount).
      if (!reservation.commit(size, reservation.credit)) throw new FsFullError('disk', name);
      await rename(temporary, target).catch((error: unknown) => {
        this.#space.freed(size - reservation.credit);
        throw error;
      });
    } catch (error) {
      await rm(temporary, { force: true });
      if (error instanceof FsFileTooBigError || error instanceof FsFullError) throw error;
      throw new FsWriteFailedError(name, { cause: error });
    } finally {
      reservation.release();
    }
    return { created: existing === undefined, size };
  }

  async remove(path: string): Promise<number> {
    const name = normalizeFsPath(path);
    if (name === '/') return -1;
    const target = join(this.root, name);
    if (!this.#inside(await realpath(dirname(target)).catch(() => ''))) return -1;
    const info = await lstat(target).catch((error) => {
      if (notFound(error)) return undefined;
      throw error;
    });
    if (!info || info.isDirectory()) return -1;
    await unlink(target);
    this.#space.freed(info.size);
    return info.size;
  }

  #inside(real: string): boolean {
    return real === this.root || real.startsWith(this.root + sep);
  }

  /** The real path of an existing name inside the root, or undefined (missing or escaping). */
  async #resolveExisting(name: string): Promise<string | undefined> {
    try {
      const real = await realpath(join(this.root, name));
      return this.#inside(real) ? real : undefined;
    } catch (error) {
      if (notFound(error)) return undefined;
      throw error;
    }
  }
}
