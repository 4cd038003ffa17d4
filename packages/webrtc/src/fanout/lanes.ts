import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FanoutUnavailableError } from '../errors.js';
import type { Shard } from './shard.js';
import { applyCommand, type ShardCommand, type ShardEvent } from './shard-protocol.js';

/** Where one shard runs, as the plane sees it: how busy it is, and how to tell it things. */
export interface Lane {
  /** Writers stay in the plane's thread: the shard relays a viewer's SRTP to it (a worker). */
  readonly relays: boolean;
  /** Sources this shard receives. */
  sources: number;
  /** Viewers this shard sends to. */
  viewers: number;
  /** Socket id → streams on this shard that send through it. */
  readonly socketUsers: Map<number, number>;
  send(command: ShardCommand): void;
  /** Stops the shard; resolves once its sockets and descriptors are closed. */
  close(): Promise<void>;
}

/** A shard in the plane's own thread: commands are applied at once. */
export class InThreadLane implements Lane {
  readonly relays = false;
  sources = 0;
  viewers = 0;
  readonly socketUsers = new Map<number, number>();
  readonly #shard: Shard;
  #closed = false;

  constructor(shard: Shard) {
    this.#shard = shard;
  }

  send(command: ShardCommand): void {
    if (this.#closed) return;
    // In this thread a writer is passed as itself: nothing is relayed.
    applyCommand(this.#shard, command, () => ({ type: 'none' }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#shard.close();
  }
}

const workerFile = 'fanout-worker.js';
// Bundled, the plane is in dist/ beside the worker script; run from src/ (tests), it is in dist/.
const workerCandidates = [`./${workerFile}`, `../../dist/${workerFile}`].map((path) =>
  fileURLToPath(new URL(path, import.meta.url)),
);

/** The worker script, or undefined when the package was not built. */
export function workerScript(): string | undefined {
  return workerCandidates.find((candidate) => existsSync(candidate));
}

/** A shard in a worker thread (shard-worker.ts). The worker does not keep the process alive. */
export class WorkerLane implements Lane {
  readonly relays = true;
  sources = 0;
  viewers = 0;
  readonly socketUsers = new Map<number, number>();
  /** The kernel's id of the worker's thread once it runs; undefined if it cannot be known or never ran. */
  readonly threadId: Promise<number | undefined>;
  readonly #worker: Worker;
  #closing: Promise<void> | undefined;
  #exited = false;

  constructor(
    script: string,
    index: number,
    events: { relay(viewerKey: number, packet: Buffer): void; error(error: Error): void },
  ) {
    this.#worker = new Worker(script, { name: `dragon-fanout-${index}` });
    let started: (threadId: number | undefined) => void = () => {};
    this.threadId = new Promise((resolve) => {
      // Unreferenced only once it has started: until then the process stays up for it, so that a
      // caller awaiting its thread id (FanoutPlane.prioritized, at boot) is not left unsettled.
      started = (threadId) => {
        this.#worker.unref();
        resolve(threadId);
      };
    });
    this.#worker.once('exit', () => {
      this.#exited = true;
      started(undefined);
    });
    this.#worker.on('message', (event: ShardEvent) => {
      if (event.type === 'ready') {
        started(event.threadId);
      } else if (event.type === 'relay') {
        const { packet } = event;
        events.relay(event.viewerKey, Buffer.from(packet.buffer, packet.byteOffset, packet.length));
      } else if (event.type === 'failed') {
        started(undefined);
        events.error(new FanoutUnavailableError(event.message));
      }
    });
    this.#worker.on('error', (error) => {
      if (!this.#closing) events.error(error);
    });
    // A referenced worker keeps the process alive after everything else has finished; `started`
    // unreferences it, after these listeners (adding a 'message' listener refs its port again).
  }

  send(command: ShardCommand): void {
    if (!this.#closing && !this.#exited) this.#worker.postMessage(command);
  }

  close(): Promise<void> {
    // The shard closes its sockets and descriptors first; the caller waits for that, so the
    // worker is held alive (ref) until it has gone.
    this.#closing ??= this.#exited
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const worker = this.#worker;
          worker.ref();
          worker.on('message', (event: ShardEvent) => {
            if (event.type === 'closed') void worker.terminate().then(() => resolve());
          });
          worker.once('exit', () => resolve());
          worker.postMessage({ type: 'close' } satisfies ShardCommand);
        });
    return this.#closing;
  }
}
