import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { processConfigSchema } from './config-schema.js';
import { StoreCorruptError } from './errors.js';

const storedProcessSchema = z.object({
  config: processConfigSchema,
  order: z.enum(['start', 'stop']),
  metadata: z.record(z.string(), z.unknown()).default({}),
  created_at: z.number().int(),
});

/** The store's layout; `version` lets a later release migrate it. */
const storeSchema = z.object({
  version: z.literal(1),
  processes: z.array(storedProcessSchema),
  metadata: z.record(z.string(), z.unknown()).default({}),
});

export type StoredProcess = z.infer<typeof storedProcessSchema>;
export type StoreData = z.infer<typeof storeSchema>;

export const storeFileName = 'db.json';

/** `db.json` in the data directory, written atomically: temp file, fsync, rename, fsync of the directory. */
export class ProcessStore {
  readonly file: string;
  readonly #dir: string;

  constructor(dataDir: string) {
    this.#dir = dataDir;
    this.file = join(dataDir, storeFileName);
  }

  /** Reads the store; a missing one is empty, a corrupt one is copied aside and refused. */
  load(): StoreData {
    mkdirSync(this.#dir, { recursive: true });
    if (!existsSync(this.file)) return { version: 1, processes: [], metadata: {} };
    let raw: string;
    try {
      raw = readFileSync(this.file, 'utf8');
      return storeSchema.parse(JSON.parse(raw));
    } catch (error) {
      const backup = `${this.file}.corrupt-${new Date().toISOString().replaceAll(':', '-')}`;
      let copied: string | undefined;
      try {
        copyFileSync(this.file, backup);
        copied = backup;
      } catch {
        copied = undefined;
      }
      throw new StoreCorruptError(this.file, copied, { cause: error });
    }
  }

  save(data: StoreData): void {
    const temp = join(this.#dir, `${storeFileName}.${process.pid}.tmp`);
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeFileSync(fd, `${JSON.stringify(data, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
    const dirFd = openSync(this.#dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}
