import { EventEmitter } from 'node:events';
import { createClient } from '@redis/client';
import type { z } from 'zod';
import {
  type ClusterKeys,
  type NodeRecord,
  nodeRecordSchema,
  type ProcessRecord,
  processRecordSchema,
} from './cluster-records.js';
import { RecordSeal } from './record-seal.js';

/**
 * Claims the lease when nobody holds it (or it holds ARGV[3], a value no node signed), renews it when
 * this node does; answers the holder either way. One script, so no other node can take the lease
 * between the read and the write.
 */
const claimOrRenewScript = `
local holder = redis.call('GET', KEYS[1])
if (not holder) or holder == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return holder`;

/** Deletes the lease only while this node holds it. */
const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface ClusterStoreOptions {
  url: string;
  keys: ClusterKeys;
  /** `cluster.secret`: signs what this node writes; what no node signed is not read (see RecordSeal). */
  secret: string;
}

type Client = ReturnType<typeof createClient>;

/**
 * The cluster's view in Redis: node heartbeats, process records and ownership leases. Connects in the
 * background and reconnects for ever; while Redis is away every call rejects at once (no offline
 * queue: a heartbeat written late is worse than one not written), and `ready` fires when it is back.
 *
 * Every value is signed on write and checked on read: a value without a valid signature reads as
 * absent (`unsigned` says which key held it), whatever wrote it.
 */
export class ClusterStore extends EventEmitter<{ ready: []; down: [error: Error]; unsigned: [key: string] }> {
  readonly keys: ClusterKeys;
  readonly #client: Client;
  readonly #seal: RecordSeal;
  #connected: Promise<unknown>;
  #up = false;
  #closed = false;

  constructor(options: ClusterStoreOptions) {
    super();
    this.keys = options.keys;
    this.#seal = new RecordSeal(options.secret);
    this.#client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 2000,
        // A restarted Redis is found within a second; a long outage costs one attempt a second.
        reconnectStrategy: (attempt) => Math.min(100 * 2 ** attempt, 1000),
      },
    });
    this.#client.on('ready', () => {
      this.#up = true;
      this.emit('ready');
    });
    this.#client.on('error', (error: Error) => {
      const wasUp = this.#up;
      this.#up = this.#client.isReady;
      if (wasUp && !this.#up) this.emit('down', error);
    });
    this.#connected = this.#client.connect().catch((error: unknown) => error);
  }

  /** Whether Redis answers now. */
  get up(): boolean {
    return this.#up;
  }

  /** Resolves true once connected, false if that takes longer than `timeoutMs`. */
  async waitUp(timeoutMs: number): Promise<boolean> {
    if (this.#up) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const up = this.#connected.then(() => this.#up);
    try {
      return await Promise.race([up, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async writeNode(record: NodeRecord, ttlMs: number): Promise<void> {
    const key = this.keys.node(record.id);
    await this.#client.set(key, this.#seal.seal(key, JSON.stringify(record)), {
      expiration: { type: 'PX', value: ttlMs },
    });
  }

  async deleteNode(id: string): Promise<void> {
    await this.#client.del(this.keys.node(id));
  }

  /** Nodes whose heartbeat has not expired. */
  async nodes(): Promise<NodeRecord[]> {
    return this.#readAll(this.keys.nodePattern, nodeRecordSchema);
  }

  async processes(): Promise<ProcessRecord[]> {
    return this.#readAll(this.keys.processPattern, processRecordSchema);
  }

  async process(id: string): Promise<ProcessRecord | undefined> {
    const key = this.keys.process(id);
    const raw = await this.#client.get(key);
    return raw === null ? undefined : this.#read(key, raw, processRecordSchema);
  }

  async writeProcess(record: ProcessRecord): Promise<void> {
    const key = this.keys.process(record.id);
    await this.#client.set(key, this.#seal.seal(key, JSON.stringify(record)));
  }

  /** Forgets a process: its record, and its lease if `nodeId` holds it. */
  async deleteProcess(id: string, nodeId: string): Promise<void> {
    await Promise.all([this.#client.del(this.keys.process(id)), this.release(id, nodeId)]);
  }

  /**
   * Claims or renews the lease on `id` for `nodeId`; resolves to the node that holds it afterwards. A
   * lease no node signed counts as none: it is replaced, so a forged holder can neither keep a node
   * from starting its process nor make it give the process up.
   * @throws Error when the lease is still unsigned after the replacement (someone keeps writing it).
   */
  async claim(id: string, nodeId: string, ttlMs: number): Promise<string> {
    const key = this.keys.owner(id);
    const mine = this.#seal.seal(key, nodeId);
    const found = String(
      await this.#client.eval(claimOrRenewScript, { keys: [key], arguments: [mine, String(ttlMs), ''] }),
    );
    const holder = this.#seal.open(key, found);
    if (holder !== undefined) return holder;
    this.emit('unsigned', key);
    const replaced = String(
      await this.#client.eval(claimOrRenewScript, { keys: [key], arguments: [mine, String(ttlMs), found] }),
    );
    const after = this.#seal.open(key, replaced);
    if (after === undefined) throw new Error(`the lease ${key} keeps being overwritten with unsigned values`);
    return after;
  }

  async release(id: string, nodeId: string): Promise<void> {
    const key = this.keys.owner(id);
    await this.#client.eval(releaseScript, { keys: [key], arguments: [this.#seal.seal(key, nodeId)] });
  }

  /** Every live lease: process id → the node holding it. Unsigned leases are left out (they count as none). */
  async owners(): Promise<Map<string, string>> {
    const keys = await this.#scan(`${this.keys.prefix}:owner:*`);
    const holders = keys.length > 0 ? await this.#client.mGet(keys) : [];
    const owners = new Map<string, string>();
    keys.forEach((key, index) => {
      const raw = holders[index];
      if (typeof raw !== 'string') return;
      const holder = this.#seal.open(key, raw);
      if (holder === undefined) this.emit('unsigned', key);
      else owners.set(this.keys.idOf(key), holder);
    });
    return owners;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#up = false;
    if (this.#client.isOpen) await this.#client.close().catch(() => this.#client.destroy());
    else this.#client.destroy();
  }

  async #readAll<T extends { id: string }>(pattern: string, schema: z.ZodType<T>): Promise<T[]> {
    const keys = await this.#scan(pattern);
    if (keys.length === 0) return [];
    const values = await this.#client.mGet(keys);
    return values.flatMap((raw, index) => {
      const record = typeof raw === 'string' ? this.#read(keys[index]!, raw, schema) : undefined;
      return record === undefined ? [] : [record];
    });
  }

  /** The record under `key` if a node of this cluster signed it there; undefined otherwise. */
  #read<T extends { id: string }>(key: string, raw: string, schema: z.ZodType<T>): T | undefined {
    const payload = this.#seal.open(key, raw);
    if (payload === undefined) {
      this.emit('unsigned', key);
      return undefined;
    }
    const record = parseRecord(payload, schema);
    return record?.id === this.keys.idOf(key) ? record : undefined;
  }

  async #scan(pattern: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const batch of this.#client.scanIterator({ MATCH: pattern, COUNT: 500 })) keys.push(...batch);
    return keys;
  }
}

/** A record another version wrote in a shape this one does not read is skipped, not fatal. */
function parseRecord<T>(raw: string, schema: z.ZodType<T>): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
