import type { Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { FanoutUnavailableError } from '../errors.js';
import { type TrackKind, trackStatCount } from '../ingest/track-ingest.js';
import { JsOutputBackend } from './js-output.js';
import { loadNativeAddon, type NativeAddon } from './native-addon.js';
import { NativeOutputBackend } from './native-output.js';
import type { OutputTarget } from './output.js';
import { streamCounterCount, streamCounterFields } from './output.js';
import { PacketHistory } from './packet-history.js';
import { Shard, type ShardSourceSpec, type ShardViewerSpec } from './shard.js';
import type { ShardCommand, ShardEvent, WireTarget } from './shard-worker.js';
import { socketFd } from './socket-fd.js';
import type { SrtpSessionKeys } from './srtp.js';

export const fanoutPlaneOptionsSchema = z.object({
  /**
   * `native`: SRTP and sendmmsg(2) in the addon, in worker threads apart from the caller's event
   * loop; `js`: Node's crypto and dgram in the caller's thread (the fallback where the addon was not
   * built); `auto`: native when the addon loads. @default 'auto'
   */
  engine: z.enum(['auto', 'native', 'js']).default('auto'),
  /**
   * Worker threads sharing the viewers (native only); 0 runs the native data plane in the calling
   * thread. A source is received by one worker; the others read its packets from shared memory.
   * @default 1
   */
  shards: z.number().int().min(0).max(64).default(1),
});
export type FanoutPlaneOptions = z.input<typeof fanoutPlaneOptionsSchema>;

/** Per source track: its history (entries, bytes). Video keeps a few seconds of a GOP. */
const historySize: Record<TrackKind, { entries: number; bytes: number }> = {
  video: { entries: 4096, bytes: 2 * 1024 * 1024 },
  audio: { entries: 1024, bytes: 256 * 1024 },
};

/** What a viewer's owner asks the plane to send to (resolved from werift's selected ICE pair). */
export type ViewerTarget =
  | { type: 'udp'; socket: Socket; host: string; port: number }
  | { type: 'writer'; write: (packet: Buffer) => void }
  | { type: 'none' };

interface Lane {
  readonly index: number;
  sources: number;
  viewers: number;
  /** socket id → streams here that send through it. */
  readonly socketUsers: Map<number, number>;
  send(command: ShardCommand, direct: () => void): void;
  close(): Promise<void>;
}

const workerFile = 'fanout-worker.js';
const workerCandidates = [`./${workerFile}`, `../../dist/${workerFile}`].map((path) =>
  fileURLToPath(new URL(path, import.meta.url)),
);

/**
 * The data plane: where source packets are received, kept (history) and sent to viewers as SRTP.
 * werift keeps ICE, DTLS, SDP and RTCP on the caller's thread; per packet, nothing runs there when
 * the engine is native with workers, so an API busy building a response costs no viewer a frame.
 *
 * Sources ({@link RtpSource}) are given to the plane when they open; viewers ({@link Peer}) when
 * their DTLS handshake completes. `FanoutPlane.shared()` is the plane of sources opened without one.
 * @example
 * const plane = FanoutPlane.open({ shards: 2 });
 * const source = await RtpSource.open({ id: 'cam', video: { payloadType: 96 }, plane });
 * // … viewers via PeerFactory.createPeer(source, offer)
 * source.close();
 * await plane.close();
 */
export class FanoutPlane extends EventEmitter<{ error: [Error] }> {
  static #shared: FanoutPlane | undefined;

  /** `native` or `js`: what `engine: 'auto'` resolved to. */
  readonly engine: 'native' | 'js';
  /** Worker threads (0: the data plane runs in the thread that created the plane). */
  readonly shards: number;
  readonly #lanes: Lane[];
  readonly #addon: NativeAddon | undefined;
  readonly #socketIds = new Map<Socket, number>();
  readonly #writers = new Map<number, (packet: Buffer) => void>();
  #nextKey = 1;
  #closed = false;

  private constructor(engine: 'native' | 'js', shards: number, addon: NativeAddon | undefined) {
    super();
    this.engine = engine;
    this.shards = shards;
    this.#addon = addon;
    if (shards === 0) {
      const backend = addon ? new NativeOutputBackend(addon) : new JsOutputBackend();
      this.#lanes = [this.#inThread(new Shard(backend))];
    } else {
      this.#lanes = Array.from({ length: shards }, (_, index) => this.#worker(index));
    }
  }

  /** @throws FanoutUnavailableError with `engine: 'native'` where the addon is missing or workers cannot start. */
  static open(options: FanoutPlaneOptions = {}): FanoutPlane {
    const { engine, shards } = fanoutPlaneOptionsSchema.parse(options);
    if (engine === 'js') return new FanoutPlane('js', 0, undefined);
    const native = loadNativeAddon();
    const worker = workerCandidates.find((candidate) => existsSync(candidate));
    const unavailable =
      'error' in native ? native.error : shards > 0 && !worker ? `${workerFile} was not built` : undefined;
    if (unavailable !== undefined || 'error' in native) {
      if (engine === 'native') throw new FanoutUnavailableError(unavailable ?? 'no addon');
      return new FanoutPlane('js', 0, undefined);
    }
    return new FanoutPlane('native', shards, native.addon);
  }

  /**
   * The process-wide plane used by sources opened without one, created on first use with
   * `DRAGON_FANOUT_ENGINE` (auto | native | js) and `DRAGON_FANOUT_SHARDS` when set. Its workers do
   * not keep the process alive.
   */
  static shared(): FanoutPlane {
    if (!FanoutPlane.#shared || FanoutPlane.#shared.#closed) {
      FanoutPlane.#shared = FanoutPlane.open(sharedOptionsFromEnv(process.env));
    }
    return FanoutPlane.#shared;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops every shard; sources and viewers on it stop sending. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#lanes.map((lane) => lane.close()));
  }

  /**
   * @internal A source's sockets go to the least busy shard, which receives them from now on (the
   * caller must not read them any more).
   */
  openSource(spec: PlaneSourceSpec): PlaneSource {
    const lane = this.#lanes.reduce((best, lane) => (lane.sources < best.sources ? lane : best));
    const shared = this.shards > 0;
    const sourceKey = this.#nextKey++;
    const tracks = spec.tracks.map((track) => ({
      kind: track.kind,
      socket: track.socket,
      payloadType: track.payloadType,
      history: PacketHistory.create({ ...historySize[track.kind], shared }),
      stats: new Float64Array(
        shared ? new SharedArrayBuffer(trackStatCount * 8) : new ArrayBuffer(trackStatCount * 8),
      ),
    }));
    const source = new PlaneSource(this, lane, sourceKey, {
      keyframeCache: spec.keyframeCache,
      maxCachedPackets: spec.maxCachedPackets,
      tracks: tracks.map(({ kind, history, stats }) => ({ kind, history, stats })),
    });
    const followSpec = source.followSpec();
    let command: ShardSourceSpec;
    if (shared) {
      const addon = this.#addon!;
      const fds = tracks.map((track) => socketFd(track.socket));
      if (fds.some((fd) => fd === undefined)) {
        throw new FanoutUnavailableError('the descriptor of a source socket cannot be read');
      }
      command = {
        ...followSpec,
        tracks: followSpec.tracks.map((track, index) => ({
          ...track,
          input: {
            fd: addon.dup(fds[index]!),
            family: tracks[index]!.socket.address().family === 'IPv6' ? ('udp6' as const) : ('udp4' as const),
            payloadType: tracks[index]!.payloadType,
            stats: tracks[index]!.stats,
          },
        })),
      };
      // The worker receives on its duplicates from now on; ours would compete for the datagrams.
      for (const track of tracks) track.socket.close();
    } else {
      command = {
        ...followSpec,
        tracks: followSpec.tracks.map((track, index) => ({
          ...track,
          input: {
            socket: tracks[index]!.socket,
            payloadType: tracks[index]!.payloadType,
            stats: tracks[index]!.stats,
          },
        })),
      };
    }
    lane.sources++;
    source.lanesFollowing.add(lane);
    lane.send({ type: 'openSource', spec: command }, () => this.#shardOf(lane).openSource(command));
    return source;
  }

  /** @internal */
  closeSource(source: PlaneSource): void {
    for (const viewer of [...source.viewers]) viewer.close();
    for (const lane of source.lanesFollowing) {
      lane.send({ type: 'closeSource', sourceKey: source.key }, () =>
        this.#shardOf(lane).closeSource(source.key),
      );
    }
    source.lanesFollowing.clear();
    source.home.sources--;
  }

  /** @internal A viewer goes to the shard with the fewest viewers. */
  addViewer(source: PlaneSource, spec: PlaneViewerSpec): PlaneViewer {
    const lane = this.#lanes.reduce((best, lane) => (lane.viewers < best.viewers ? lane : best));
    const shared = this.shards > 0;
    const viewerKey = this.#nextKey++;
    const size = spec.streams.length * streamCounterCount * 8;
    const counters = new Float64Array(shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
    const viewer = new PlaneViewer(this, source, lane, viewerKey, counters, spec);
    if (!source.lanesFollowing.has(lane)) {
      const followSpec = source.followSpec();
      source.lanesFollowing.add(lane);
      lane.send({ type: 'openSource', spec: followSpec }, () => this.#shardOf(lane).openSource(followSpec));
    }
    lane.viewers++;
    source.viewers.add(viewer);
    const streams = spec.streams.map((stream, index) => ({
      ...stream,
      counters,
      offset: index * streamCounterCount,
    }));
    const target = this.#useTarget(lane, viewerKey, spec.target);
    const shardSpec: Omit<ShardViewerSpec, 'target'> = {
      viewerKey,
      sourceKey: source.key,
      keys: spec.keys,
      streams,
    };
    lane.send({ type: 'addViewer', spec: shardSpec, target: target.wire }, () =>
      this.#shardOf(lane).addViewer({ ...shardSpec, target: target.local }),
    );
    viewer.targetSocket = target.socketId;
    return viewer;
  }

  /** @internal */
  setViewerTarget(viewer: PlaneViewer, target: ViewerTarget): void {
    const lane = viewer.lane;
    const resolved = this.#useTarget(lane, viewer.key, target);
    lane.send({ type: 'updateTarget', viewerKey: viewer.key, target: resolved.wire }, () =>
      this.#shardOf(lane).updateTarget(viewer.key, resolved.local),
    );
    this.#releaseSocket(lane, viewer.targetSocket);
    viewer.targetSocket = resolved.socketId;
  }

  /** @internal */
  removeViewer(viewer: PlaneViewer): void {
    const lane = viewer.lane;
    lane.send({ type: 'removeViewer', viewerKey: viewer.key }, () =>
      this.#shardOf(lane).removeViewer(viewer.key),
    );
    this.#releaseSocket(lane, viewer.targetSocket);
    viewer.targetSocket = undefined;
    this.#writers.delete(viewer.key);
    lane.viewers--;
    viewer.source.viewers.delete(viewer);
    viewer.source.retire(viewer);
  }

  /** @internal */
  nack(viewer: PlaneViewer, kind: TrackKind, sequenceNumbers: number[]): void {
    const lane = viewer.lane;
    lane.send({ type: 'nack', viewerKey: viewer.key, kind, sequenceNumbers }, () =>
      this.#shardOf(lane).nack(viewer.key, kind, sequenceNumbers),
    );
  }

  #useTarget(
    lane: Lane,
    viewerKey: number,
    target: ViewerTarget,
  ): { wire: WireTarget; local: OutputTarget; socketId: number | undefined } {
    this.#writers.delete(viewerKey);
    if (target.type === 'none') return { wire: target, local: target, socketId: undefined };
    if (target.type === 'writer') {
      this.#writers.set(viewerKey, target.write);
      return { wire: { type: 'relay' }, local: target, socketId: undefined };
    }
    const socket = target.socket;
    let socketId = this.#socketIds.get(socket);
    if (socketId === undefined) {
      socketId = this.#nextKey++;
      this.#socketIds.set(socket, socketId);
      socket.once('close', () => this.#socketIds.delete(socket));
    }
    const users = lane.socketUsers.get(socketId) ?? 0;
    if (users === 0) this.#registerSocket(lane, socketId, socket);
    lane.socketUsers.set(socketId, users + 1);
    const wire: WireTarget = {
      type: 'udp',
      socketId,
      host: target.host,
      port: target.port,
      family: socket.address().family === 'IPv6' ? 6 : 4,
    };
    return { wire, local: wire, socketId };
  }

  #registerSocket(lane: Lane, socketId: number, socket: Socket): void {
    if (!this.#addon) {
      this.#shardOf(lane).registerSocket(socketId, { socket });
      return;
    }
    const fd = socketFd(socket);
    // A socket whose descriptor cannot be read gets no media from the native plane; its viewer is
    // reaped as silent. socket-fd.test.ts guards the Node internals this relies on.
    const copy = fd === undefined ? -1 : this.#addon.dup(fd);
    lane.send({ type: 'registerSocket', id: socketId, fd: copy }, () =>
      this.#shardOf(lane).registerSocket(socketId, { fd: copy }),
    );
  }

  #releaseSocket(lane: Lane, socketId: number | undefined): void {
    if (socketId === undefined) return;
    const users = (lane.socketUsers.get(socketId) ?? 1) - 1;
    if (users > 0) {
      lane.socketUsers.set(socketId, users);
      return;
    }
    lane.socketUsers.delete(socketId);
    lane.send({ type: 'forgetSocket', id: socketId }, () => this.#shardOf(lane).forgetSocket(socketId));
  }

  readonly #inThreadShards = new Map<Lane, Shard>();

  #shardOf(lane: Lane): Shard {
    return this.#inThreadShards.get(lane)!;
  }

  #inThread(shard: Shard): Lane {
    const lane: Lane = {
      index: 0,
      sources: 0,
      viewers: 0,
      socketUsers: new Map(),
      send: (_command, direct) => {
        if (!this.#closed) direct();
      },
      close: async () => shard.close(),
    };
    this.#inThreadShards.set(lane, shard);
    return lane;
  }

  #worker(index: number): Lane {
    const file = workerCandidates.find((candidate) => existsSync(candidate))!;
    const worker = new Worker(file, { name: `dragon-fanout-${index}` });
    worker.unref();
    let closing: Promise<void> | undefined;
    let exited = false;
    worker.once('exit', () => {
      exited = true;
    });
    worker.on('message', (event: ShardEvent) => {
      if (event.type === 'relay') {
        const packet = event.packet;
        this.#writers.get(event.viewerKey)?.(Buffer.from(packet.buffer, packet.byteOffset, packet.length));
      } else if (event.type === 'failed') {
        this.emit('error', new FanoutUnavailableError(event.message));
      }
    });
    worker.on('error', (error) => {
      if (!closing) this.emit('error', error);
    });
    return {
      index,
      sources: 0,
      viewers: 0,
      socketUsers: new Map(),
      send: (command) => {
        if (!closing && !exited) worker.postMessage(command);
      },
      close: () => {
        // The shard closes its sockets and descriptors first; the caller waits for that, so the
        // worker is held alive (ref) until it has gone.
        closing ??= exited
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              worker.ref();
              const done = () => void worker.terminate().then(() => resolve());
              worker.on('message', (event: ShardEvent) => event.type === 'closed' && done());
              worker.once('exit', () => resolve());
              worker.postMessage({ type: 'close' } satisfies ShardCommand);
            });
        return closing;
      },
    };
  }
}

/** @internal What a source gives the plane. */
export interface PlaneSourceSpec {
  tracks: { kind: TrackKind; socket: Socket; payloadType: number }[];
  keyframeCache: boolean;
  maxCachedPackets: number;
}

/** @internal What a viewer gives the plane once its DTLS handshake has produced SRTP keys. */
export interface PlaneViewerSpec {
  keys: SrtpSessionKeys;
  streams: { kind: TrackKind; ssrc: number; payloadType: number }[];
  target: ViewerTarget;
}

/** @internal A source as the plane holds it: its shared history and counters. */
export class PlaneSource {
  readonly viewers = new Set<PlaneViewer>();
  readonly lanesFollowing = new Set<Lane>();
  readonly #tracks: Map<TrackKind, { history: PacketHistory; stats: Float64Array }>;
  readonly #spec: { keyframeCache: boolean; maxCachedPackets: number };
  #retired = { packetsSent: 0, bytesSent: 0 };
  #closed = false;

  constructor(
    readonly plane: FanoutPlane,
    readonly home: Lane,
    readonly key: number,
    spec: {
      keyframeCache: boolean;
      maxCachedPackets: number;
      tracks: { kind: TrackKind; history: PacketHistory; stats: Float64Array }[];
    },
  ) {
    this.#tracks = new Map(spec.tracks.map(({ kind, history, stats }) => [kind, { history, stats }]));
    this.#spec = { keyframeCache: spec.keyframeCache, maxCachedPackets: spec.maxCachedPackets };
  }

  followSpec(): ShardSourceSpec {
    return {
      sourceKey: this.key,
      keyframeCache: this.#spec.keyframeCache,
      maxCachedPackets: this.#spec.maxCachedPackets,
      tracks: [...this.#tracks].map(([kind, { history }]) => ({ kind, history: history.buffer })),
    };
  }

  /** `trackStatFields` counters of a track. */
  stats(kind: TrackKind): Float64Array | undefined {
    return this.#tracks.get(kind)?.stats;
  }

  /** The newest packet's RTP timestamp and arrival time on a track (the Sender Report clock). */
  clock(kind: TrackKind): { rtpTimestamp: number; arrivalMs: number } | undefined {
    return this.#tracks.get(kind)?.history.clock();
  }

  /** Packets and bytes handed out to viewers, closed ones included. */
  sentStats(): { packetsSent: number; bytesSent: number } {
    let { packetsSent, bytesSent } = this.#retired;
    for (const viewer of this.viewers) {
      const stats = viewer.stats();
      packetsSent += stats.packetsSent;
      bytesSent += stats.bytesSent;
    }
    return { packetsSent, bytesSent };
  }

  retire(viewer: PlaneViewer): void {
    const stats = viewer.stats();
    this.#retired = {
      packetsSent: this.#retired.packetsSent + stats.packetsSent,
      bytesSent: this.#retired.bytesSent + stats.bytesSent,
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.plane.closed) this.plane.closeSource(this);
  }
}

/** @internal A viewer as the plane holds it: where it is sent from, its counters. */
export class PlaneViewer {
  targetSocket: number | undefined;
  readonly #kinds: TrackKind[];
  #closed = false;

  constructor(
    readonly plane: FanoutPlane,
    readonly source: PlaneSource,
    readonly lane: Lane,
    readonly key: number,
    readonly counters: Float64Array,
    spec: PlaneViewerSpec,
  ) {
    this.#kinds = spec.streams.map((stream) => stream.kind);
  }

  /** Counters of one stream (`streamCounterFields`), or undefined for a kind it does not send. */
  streamCounters(kind: TrackKind): { packets: number; payloadOctets: number } | undefined {
    const index = this.#kinds.indexOf(kind);
    if (index < 0) return undefined;
    const offset = index * streamCounterCount;
    return {
      packets: this.counters[offset + streamCounterFields.packets]!,
      payloadOctets: this.counters[offset + streamCounterFields.payloadOctets]!,
    };
  }

  stats(): { packetsSent: number; bytesSent: number; retransmitted: number } {
    let packetsSent = 0;
    let bytesSent = 0;
    let retransmitted = 0;
    for (let offset = 0; offset < this.counters.length; offset += streamCounterCount) {
      packetsSent += this.counters[offset + streamCounterFields.packets]!;
      bytesSent += this.counters[offset + streamCounterFields.octets]!;
      retransmitted += this.counters[offset + streamCounterFields.retransmitted]!;
    }
    return { packetsSent, bytesSent, retransmitted };
  }

  setTarget(target: ViewerTarget): void {
    if (!this.#closed && !this.plane.closed) this.plane.setViewerTarget(this, target);
  }

  nack(kind: TrackKind, sequenceNumbers: number[]): void {
    if (!this.#closed && !this.plane.closed) this.plane.nack(this, kind, sequenceNumbers);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.plane.closed) this.plane.removeViewer(this);
  }
}

const envSchema = z.object({
  DRAGON_FANOUT_ENGINE: z.enum(['auto', 'native', 'js']).optional(),
  DRAGON_FANOUT_SHARDS: z.coerce.number().int().min(0).max(64).optional(),
});

function sharedOptionsFromEnv(env: NodeJS.ProcessEnv): FanoutPlaneOptions {
  const parsed = envSchema.parse({
    DRAGON_FANOUT_ENGINE: env.DRAGON_FANOUT_ENGINE || undefined,
    DRAGON_FANOUT_SHARDS: env.DRAGON_FANOUT_SHARDS || undefined,
  });
  return {
    ...(parsed.DRAGON_FANOUT_ENGINE ? { engine: parsed.DRAGON_FANOUT_ENGINE } : {}),
    ...(parsed.DRAGON_FANOUT_SHARDS !== undefined ? { shards: parsed.DRAGON_FANOUT_SHARDS } : {}),
  };
}
