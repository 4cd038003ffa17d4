import { createHash, randomUUID } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { webRtcConfigSchema } from '@dragon/ffmpeg-args';
import { z } from 'zod';
import { AtomicJsonFile, syncDirectory } from './atomic-json-file.js';
import { type ProcessConfig, storedProcessConfigSchema } from './config-schema.js';
import { StoreCorruptError, StoreFullError } from './errors.js';

/**
 * Metadata as key/value pairs. Read through `Object.entries`, because zod's record drops a
 * `__proto__` key and a plain object would turn it into a prototype.
 */
const metadataSchema = z
  .custom<Record<string, unknown>>(
    (value) => value !== null && typeof value === 'object' && !Array.isArray(value),
    'an object',
  )
  .default({})
  .transform((record) => Object.entries(record));

const storedProcessSchema = z
  .object({
    config: storedProcessConfigSchema,
    order: z.enum(['start', 'stop']),
    metadata: metadataSchema,
    created_at: z.number().int(),
    updated_at: z.number().int().optional(),
  })
  .transform((stored) => ({ ...stored, updated_at: stored.updated_at ?? stored.created_at }));

/** What the `db.json` of version 1 wrote into every config without a `webrtc` block: the block's defaults. */
const unsetWebRtc = JSON.stringify(webRtcConfigSchema.parse({}));

/**
 * Version 1 stored a default `webrtc` block in every config that had none, so a block exactly at
 * its defaults there says nothing (WebRTC was off either way): it is read as absent, which leaves
 * the server's setting for processes without one (`webrtc.auto_enable`) to decide.
 */
function withoutUnsetWebRtc(process: StoredProcess): StoredProcess {
  if (JSON.stringify(process.config.webrtc) !== unsetWebRtc) return process;
  const { webrtc: _unset, ...config } = process.config;
  return { ...process, config };
}

/**
 * One process's file, `store/processes/<sha256 of its id>.json`. Version 3 of the store's layout
 * (1 and 2 were the single `db.json`).
 */
const processFileSchema = z.object({
  version: z.literal(3),
  /**
   * Made when the process is added and kept across renames: a rename writes the new file before it
   * deletes the old one, so a crash in between leaves two files of one incarnation — the one with
   * the higher `seq` is the process, the other is deleted at load.
   */
  incarnation: z.string().min(1),
  /** Counts the writes of this incarnation. */
  seq: z.number().int().min(0),
  process: storedProcessSchema,
});

/** The global metadata, `store/metadata.json`. */
const metadataFileSchema = z.object({ version: z.literal(3), metadata: metadataSchema });

/** The single-file store of earlier releases (`db.json`, versions 1 and 2), migrated at the first load. */
const legacyStoreSchema = z
  .object({
    version: z.union([z.literal(1), z.literal(2)]),
    processes: z.array(storedProcessSchema),
    metadata: metadataSchema,
  })
  .transform((store) =>
    store.version === 2 ? store : { ...store, processes: store.processes.map(withoutUnsetWebRtc) },
  );

export type StoredProcess = z.output<typeof storedProcessSchema>;
export interface StoreData {
  /** In the order they were added (then by id). */
  processes: StoredProcess[];
  metadata: [string, unknown][];
}

/** The store's directory in the data directory. */
export const storeDirName = 'store';
/** The single-file store of earlier releases; after its migration it is kept as `store/db.json.migrated`. */
export const legacyStoreFileName = 'db.json';

/** A process as the store writes it: its id and its record, cached as text with its size. */
export interface StoredLine {
  readonly id: string;
  readonly stored: { text: string; bytes: number };
}

/** Where one process lives in the store. */
interface Slot {
  file: AtomicJsonFile;
  incarnation: string;
  /** Shared by the files of one incarnation (old and new name during a rename): the last write counts highest. */
  writes: { seq: number };
}

/**
 * The process store: a directory with one file per process and one for the global metadata, each
 * written through `AtomicJsonFile` (coalesced, asynchronous, atomic). A change writes the file of
 * the process it changes and nothing else, so its cost does not grow with the store: with one file
 * for everything, a one-key metadata change on a 27 MB store rewrote 27 MB and held the event loop
 * for up to a second. Processes arrive as ready JSON texts, cached by their owner.
 *
 * A store of an earlier release (`db.json`) is migrated at the first load: every process and the
 * metadata written as files, then `db.json` moved into the store directory as `db.json.migrated`.
 * Until that move it is the store; a migration cut off by a crash runs again at the next load.
 */
export class ProcessStore {
  /** The store's directory (what FFmpeg's access policy protects). */
  readonly path: string;
  readonly #dataDir: string;
  readonly #processesDir: string;
  readonly #maxBytes: number;
  readonly #metadata: AtomicJsonFile;
  readonly #slots = new Map<string, Slot>();

  constructor(dataDir: string, maxBytes = Number.POSITIVE_INFINITY) {
    this.#dataDir = dataDir;
    this.path = join(dataDir, storeDirName);
    this.#processesDir = join(this.path, 'processes');
    this.#maxBytes = maxBytes;
    this.#metadata = new AtomicJsonFile(join(this.path, 'metadata.json'));
  }

  /**
   * Reads the store, migrating a `db.json` first. A missing store is empty; an unreadable file is
   * copied aside and refused (`StoreCorruptError`), never discarded.
   */
  async load(): Promise<StoreData> {
    await mkdir(this.#processesDir, { recursive: true });
    await AtomicJsonFile.removeStaleTempsIn(this.#processesDir);
    await this.#metadata.removeStaleTemps();
    const legacy = join(this.#dataDir, legacyStoreFileName);
    await new AtomicJsonFile(legacy).removeStaleTemps();
    const legacyData = await readStoreFile(legacy, legacyStoreSchema);
    if (legacyData !== undefined) await this.#migrate(legacy, legacyData);
    const processes = await this.#loadProcesses();
    const metadata = (await readStoreFile(this.#metadata.path, metadataFileSchema))?.metadata ?? [];
    return { processes, metadata };
  }

  /** Schedules a write of one process's file; resolves when it is durable. */
  writeProcess(line: StoredLine): Promise<void> {
    let slot = this.#slots.get(line.id);
    if (!slot) {
      slot = { file: this.#fileOf(line.id), incarnation: randomUUID(), writes: { seq: 0 } };
      this.#slots.set(line.id, slot);
    }
    const current = slot;
    return current.file.schedule(() => processFileJson(current, line.stored.text));
  }

  /**
   * Moves a process to a new id: its file under the new id first (same incarnation, higher `seq`),
   * then the old one removed, so a crash in between loses nothing (see `processFileSchema`).
   */
  async renameProcess(from: string, line: StoredLine): Promise<void> {
    const old = this.#slots.get(from);
    // Moved before anything is awaited, so every write from now on goes to the new file.
    const slot: Slot = {
      file: this.#fileOf(line.id),
      incarnation: old?.incarnation ?? randomUUID(),
      writes: old?.writes ?? { seq: 0 },
    };
    this.#slots.delete(from);
    this.#slots.set(line.id, slot);
    await slot.file.schedule(() => processFileJson(slot, line.stored.text));
    // The old file goes once its own pending writes are done (`remove` waits for them).
    await old?.file.remove();
  }

  /** Deletes a process's file (after its pending writes); resolves when that is durable. */
  async removeProcess(id: string): Promise<void> {
    const slot = this.#slots.get(id);
    this.#slots.delete(id);
    await slot?.file.remove();
  }

  /** Schedules a write of the global metadata; resolves when it is durable. */
  writeMetadata(metadata: { readonly json: string }): Promise<void> {
    return this.#metadata.schedule(() => `{"version":3,"metadata":${metadata.json}}\n`);
  }

  /** Throws `StoreFullError` when growing the store by `growth` bytes would pass its limit. */
  assertRoom(growth: number, processes: Iterable<StoredLine>, metadata: { bytes: number }): void {
    if (growth <= 0) return;
    let bytes = metadata.bytes + growth;
    for (const entry of processes) bytes += entry.stored.bytes;
    if (bytes > this.#maxBytes) throw new StoreFullError(bytes, this.#maxBytes);
  }

  /** Resolves when every scheduled write has finished. */
  async flush(): Promise<void> {
    await Promise.all([
      ...[...this.#slots.values()].map((slot) => slot.file.flush()),
      this.#metadata.flush(),
    ]);
  }

  #fileOf(id: string): AtomicJsonFile {
    // A hash, not the id: ids may hold any character and be longer than a file name may be.
    const name = createHash('sha256').update(id).digest('hex');
    return new AtomicJsonFile(join(this.#processesDir, `${name}.json`));
  }

  /** Every process file, a rename cut off by a crash settled (the newer file of an incarnation wins). */
  async #loadProcesses(): Promise<StoredProcess[]> {
    const names = (await readdir(this.#processesDir)).filter((name) => name.endsWith('.json'));
    const newest = new Map<string, { path: string; file: z.output<typeof processFileSchema> }>();
    for (const name of names) {
      const path = join(this.#processesDir, name);
      const file = await readStoreFile(path, processFileSchema);
      if (file === undefined) continue;
      const other = newest.get(file.incarnation);
      if (other && other.file.seq >= file.seq) {
        await rm(path, { force: true });
        continue;
      }
      if (other) await rm(other.path, { force: true });
      newest.set(file.incarnation, { path, file });
    }
    const processes: StoredProcess[] = [];
    // Two incarnations of one id (only files copied in by hand can do that): the file named for the
    // id is the process, the other is left alone.
    const canonical = (entry: { path: string; file: z.output<typeof processFileSchema> }) =>
      entry.path === this.#fileOf(entry.file.process.config.id).path;
    const entries = [...newest.values()].sort((a, b) => Number(canonical(b)) - Number(canonical(a)));
    for (const { path, file } of entries) {
      const id = file.process.config.id;
      if (this.#slots.has(id)) continue;
      this.#slots.set(id, {
        file: new AtomicJsonFile(path),
        incarnation: file.incarnation,
        writes: { seq: file.seq },
      });
      processes.push(file.process);
    }
    return processes.sort(
      (a, b) =>
        a.created_at - b.created_at || (a.config.id < b.config.id ? -1 : a.config.id > b.config.id ? 1 : 0),
    );
  }

  async #migrate(legacy: string, data: z.output<typeof legacyStoreSchema>): Promise<void> {
    // Files a migration cut off by a crash wrote: db.json is still the store, so they go.
    for (const name of await readdir(this.#processesDir))
      await rm(join(this.#processesDir, name), { force: true });
    this.#slots.clear();
    await Promise.all(
      data.processes.map((stored) => {
        const text = processJson({
          config: stored.config,
          order: stored.order,
          metadataJson: entriesJson(stored.metadata),
          createdAt: stored.created_at,
          updatedAt: stored.updated_at,
        });
        return this.writeProcess({ id: stored.config.id, stored: { text, bytes: text.length } });
      }),
    );
    await this.writeMetadata({ json: entriesJson(data.metadata) });
    await rename(legacy, join(this.path, `${legacyStoreFileName}.migrated`));
    await syncDirectory(this.#dataDir);
    this.#slots.clear();
  }
}

/**
 * A store file parsed with `schema`; undefined when it does not exist. One that cannot be read is
 * copied aside and refused with `StoreCorruptError`.
 */
async function readStoreFile<T extends z.ZodType>(path: string, schema: T): Promise<z.output<T> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreCorruptError(path, undefined, { cause: error });
  }
  try {
    return schema.parse(JSON.parse(text));
  } catch (error) {
    const backup = `${path}.corrupt-${new Date().toISOString().replaceAll(':', '-')}`;
    const copied = await copyFile(path, backup).then(
      () => backup,
      () => undefined,
    );
    throw new StoreCorruptError(path, copied, { cause: error });
  }
}

function entriesJson(entries: [string, unknown][]): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(',')}}`;
}

function processFileJson(slot: Slot, processText: string): string {
  slot.writes.seq++;
  return `{"version":3,"incarnation":${JSON.stringify(slot.incarnation)},"seq":${slot.writes.seq},"process":${processText}}\n`;
}

/** One process's record. */
export function processJson(stored: {
  config: ProcessConfig;
  order: 'start' | 'stop';
  metadataJson: string;
  createdAt: number;
  updatedAt: number;
}): string {
  return `{"config":${JSON.stringify(stored.config)},"order":${JSON.stringify(stored.order)},"metadata":${stored.metadataJson},"created_at":${stored.createdAt},"updated_at":${stored.updatedAt}}`;
}
