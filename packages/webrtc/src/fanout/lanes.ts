import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FanoutUnavailableError, FanoutWorkerDiedError } from '../errors.js';
import type { Shard } from './shard.js';
import { applyCommand, type ShardCommand, type ShardEvent } from './shard-protocol.js';

/** Where one shard runs, as the plane sees it: how busy it is, and how to tell it things. */
export interface Lane {
  /** Its place among the plane's shards. */
  readonly index: number;
  /** Writers stay in the plane's thread: the shard relays a viewer's SRTP to it (a worker). */
  readonly relays: boolean;
  /** Sources this shard receives. */
  sources: number;
  /** Viewers this shard sends to. */
  viewers: number;
  /** Socket id → streams on this shard that send through it. */
  readonly socketUsers: Map<number, number>;
  /** The shard takes commands: false once closed, and while a worker that died is not replaced yet. */
  readonly running: boolean;
  /** Applied or posted while running; dropped otherwise (the plane gives a new worker everything). */
  send(command: ShardCommand): void;
  /** Stops the shard; resolves once its sockets and descriptors are closed. */
  close(): Promise<void>;
}

/** A shard in the plane's own thread: commands are applied at once. */
export class InThreadLane implements Lane {
  readonly index = 0;
  readonly relays = false;
  sources = 0;
  viewers = 0;
  readonly socketUsers = new Map<number, number>();
  readonly #shard: Shard;
  #closed = false;

  constructor(shard: Shard) {
    this.#shard = shard;
  }

  get running(): boolean {
    return !this.#closed;
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

/** What a worker lane tells the plane. */
export interface WorkerLaneEvents {
  /** A viewer's SRTP packet for a transport written in the plane's thread (ICE-TCP, TURN). */
  relay(viewerKey: number, packet: Buffer): void;
  /** A worker runs (the first or a new one): the kernel's id of its thread, when known. */
  ready(threadId: number | undefined): void;
  /** The worker stopped without being closed; once per worker. `respawn()` starts another. */
  died(error: FanoutWorkerDiedError): void;
}

/**
 * A shard in a worker thread (shard-worker.ts). The worker does not keep the process alive. A
 * worker that dies (an exception in its code, an exit, a failure to load the addon) is reported
 * once through `died`; what it held of the plane's state (sources, viewers, sockets) is gone with
 * it, and the plane gives all of it again to the worker `respawn()` starts.
 */
export class WorkerLane implements Lane {
  readonly relays = true;
  sources = 0;
  viewers = 0;
  readonly socketUsers = new Map<number, number>();
  /**
   * Socket id → the descriptor the current worker was given for it. The native backend holds it
   * as a number, which a dying worker does not close: the plane closes these when it dies.
   */
  readonly socketFds = new Map<number, number>();
  readonly index: number;
  /** The kernel's id of the current worker's thread once it runs; undefined if it cannot be known or never ran. */
  threadId: Promise<number | undefined> = Promise.resolve(undefined);
  readonly #script: string;
  readonly #events: WorkerLaneEvents;
  #worker: Worker | undefined;
  #closing: Promise<void> | undefined;

  constructor(script: string, index: number, events: WorkerLaneEvents) {
    this.#script = script;
    this.index = index;
    this.#events = events;
    this.respawn();
  }

  /** A worker runs and takes commands (not dead, not closing). */
  get running(): boolean {
    return this.#worker !== undefined && !this.#closing;
  }

  /** Starts a worker in place of the one that died (the first one, from the constructor). */
  respawn(): void {
    if (this.#worker || this.#closing) return;
    const worker = new Worker(this.#script, { name: `dragon-fanout-${this.index}` });
    this.#worker = worker;
    let cause: Error | undefined;
    let started: (threadId: number | undefined) => void = () => {};
    this.threadId = new Promise((resolve) => {
      // Unreferenced only once it has started: until then the process stays up for it, so that a
      // caller awaiting its thread id (FanoutPlane.prioritized, at boot) is not left unsettled.
      started = (threadId) => {
        started = () => {};
        worker.unref();
        resolve(threadId);
      };
    });
    worker.once('exit', (exitCode) => {
      started(undefined);
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      if (!this.#closing) this.#events.died(new FanoutWorkerDiedError(this.index, exitCode, { cause }));
    });
    worker.on('message', (event: ShardEvent) => {
      if (event.type === 'relay') {
        const { packet } = event;
        this.#events.relay(event.viewerKey, Buffer.from(packet.buffer, packet.byteOffset, packet.length));
      } else if (event.type === 'ready') {
        started(event.threadId);
        this.#events.ready(event.threadId);
      } else if (event.type === 'failed') {
        cause = new FanoutUnavailableError(event.message);
        started(undefined);
        void worker.terminate();
      }
    });
    // An uncaught exception in the worker: its 'exit' follows, and reports this as the cause.
    worker.on('error', (error) => {
      cause = error;
    });
    // A referenced worker keeps the process alive after everything else has finished; `started`
    // unreferences it, after these listeners (adding a 'message' listener refs its port again).
  }

  send(command: ShardCommand): void {
    if (this.running) this.#worker!.postMessage(command);
  }

  /** Ends the worker as a crash would (the plane is not told, and restarts it): for tests. */
  async terminate(): Promise<void> {
    await this.#worker?.terminate();
  }

  close(): Promise<void> {
    // The shard closes its sockets and descriptors first; the caller waits for that, so the
    // worker is held alive (ref) until it has gone.
    const worker = this.#worker;
    this.#closing ??= !worker
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
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
