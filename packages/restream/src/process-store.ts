import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { webRtcConfigSchema } from '@dragon/ffmpeg-args';
import { z } from 'zod';
import { AtomicJsonFile } from './atomic-json-file.js';
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

/** What version 1 wrote into every config without a `webrtc` block: the block's defaults. */
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

/** The store's layout; `version` lets a later release migrate it. */
const storeSchema = z
  .object({
    version: z.union([z.literal(1), z.literal(2)]),
    processes: z.array(storedProcessSchema),
    metadata: metadataSchema,
  })
  .transform((store) =>
    store.version === 2
      ? store
      : { ...store, version: 2 as const, processes: store.processes.map(withoutUnsetWebRtc) },
  );

export type StoredProcess = z.output<typeof storedProcessSchema>;
export type StoreData = z.output<typeof storeSchema>;

export const storeFileName = 'db.json';

/** Anything that keeps its own line of the store (a process), cached as text with its size. */
export interface StoredLine {
  readonly stored: { text: string; bytes: number };
}

/**
 * `db.json` in the data directory: read once at boot, then written through `AtomicJsonFile`
 * (coalesced, asynchronous, atomic). Processes arrive as ready JSON texts, each cached by its
 * owner, so a write costs a concatenation, not a serialisation of every config and metadata value.
 */
export class ProcessStore {
  readonly file: AtomicJsonFile;
  readonly #dir: string;
  readonly #maxBytes: number;

  constructor(dataDir: string, maxBytes = Number.POSITIVE_INFINITY) {
    this.#dir = dataDir;
    this.#maxBytes = maxBytes;
    this.file = new AtomicJsonFile(join(dataDir, storeFileName));
  }

  /** Reads the store; a missing one is empty, a corrupt one is copied aside and refused. */
  async load(): Promise<StoreData> {
    await mkdir(this.#dir, { recursive: true });
    await this.file.removeStaleTemps();
    try {
      const raw = await this.file.read();
      if (raw === undefined) return { version: 2, processes: [], metadata: [] };
      return storeSchema.parse(raw);
    } catch (error) {
      const backup = `${this.file.path}.corrupt-${new Date().toISOString().replaceAll(':', '-')}`;
      const copied = await copyFile(this.file.path, backup).then(
        () => backup,
        () => undefined,
      );
      throw new StoreCorruptError(this.file.path, copied, { cause: error });
    }
  }

  /**
   * Schedules a write of the processes and global metadata as they are when the write begins
   * (see `AtomicJsonFile.schedule`); resolves when it is durable.
   */
  save(processes: () => Iterable<StoredLine>, metadata: { readonly json: string }): Promise<void> {
    return this.file.schedule(() =>
      storeJson(
        [...processes()].map((entry) => entry.stored.text),
        metadata.json,
      ),
    );
  }

  /** Throws `StoreFullError` when growing the store by `growth` bytes would pass its limit. */
  assertRoom(growth: number, processes: Iterable<StoredLine>, metadata: { bytes: number }): void {
    if (growth <= 0) return;
    let bytes = metadata.bytes + growth;
    for (const entry of processes) bytes += entry.stored.bytes;
    if (bytes > this.#maxBytes) throw new StoreFullError(bytes, this.#maxBytes);
  }

  flush(): Promise<void> {
    return this.file.flush();
  }
}

/** One process as a line of the store. */
export function processJson(stored: {
  config: ProcessConfig;
  order: 'start' | 'stop';
  metadataJson: string;
  createdAt: number;
  updatedAt: number;
}): string {
  return `{"config":${JSON.stringify(stored.config)},"order":${JSON.stringify(stored.order)},"metadata":${stored.metadataJson},"created_at":${stored.createdAt},"updated_at":${stored.updatedAt}}`;
}

/** The whole store, one process per line. */
export function storeJson(processes: readonly string[], metadataJson: string): string {
  const list = processes.length === 0 ? '[]' : `[\n${processes.join(',\n')}\n]`;
  return `{"version":2,"processes":${list},"metadata":${metadataJson}}\n`;
}
