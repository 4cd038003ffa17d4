import type { Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { z } from 'zod';
import { FanoutUnavailableError } from '../errors.js';
import { type TrackKind, trackStatLength } from '../ingest/track-ingest.js';
import { JsOutputBackend } from './js-output.js';
import { InThreadLane, type Lane, WorkerLane, workerScript } from './lanes.js';
import { loadNativeAddon, type NativeAddon } from './native-addon.js';
import { NativeOutputBackend } from './native-output.js';
import { streamCounterCount } from './output.js';
import { PacketHistory } from './packet-history.js';
import {
  PlaneSource,
  type PlaneSourceSpec,
  PlaneViewer,
  type PlaneViewerSpec,
  type ViewerTarget,
} from './plane-handles.js';
import { Shard, type ShardSourceSpec } from './shard.js';
import type { ShardTarget } from './shard-protocol.js';
import { socketFd } from './socket-fd.js';
import { lowerOtherThreads } from './thread-priority.js';

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
  /**
   * Once the worker threads run, every other thread of the process (the caller's event loop, V8's
   * and libuv's helpers) gets this nice value, so that on a busy core a frame's fan-out goes before
   * an API response or a garbage collection instead of waiting out their time slices. Threads and
   * child processes started later by those threads inherit it, the ones of a plane opened later
   * included. 0 leaves priorities alone, as does a plane without workers. Linux. @default 0
   */
  controlNice: z.number().int().min(0).max(19).default(0),
  /**
   * Like `controlNice`, stronger: the other threads run under SCHED_IDLE (native only, Linux), so a
   * waking worker preempts them at once instead of when the scheduler's weights allow; FFmpeg
   * started from them included, the data plane forwards each packet as it is written instead of
   * after the frame. Where the kernel refuses, `controlNice` applies. @default false
   */
  controlIdle: z.boolean().default(false),
});
type ControlPriority = Pick<z.output<typeof fanoutPlaneOptionsSchema>, 'controlNice' | 'controlIdle'>;
export type FanoutPlaneOptions = z.input<typeof fanoutPlaneOptionsSchema>;

/** Per source track: its history (entries, bytes). Video keeps a few seconds of a GOP. */
const historySize: Record<TrackKind, { entries: number; bytes: number }> = {
  video: { entries: 4096, bytes: 2 * 1024 * 1024 },
  audio: { entries: 1024, bytes: 256 * 1024 },
};

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
  /**
   * Why this engine: for `native`, where the addon came from (built on this machine, or the
   * prebuild for this platform); for `js`, that it was asked for or why the native one is not
   * available (e.g. "not built on this machine: no C++ compiler …; and no prebuild for
   * linux-arm64-glibc"). For a log line at start.
   */
  get engineReason(): string {
    return this.#engineReason;
  }
  #engineReason = '';
  /** Worker threads (0: the data plane runs in the thread that created the plane). */
  readonly shards: number;
  /**
   * Settles once `controlNice`/`controlIdle` have been applied to the process's other threads (at
   * once when there is nothing to apply). A child process inherits the priority of the thread that
   * starts it: start FFmpeg after this, or it keeps the data plane's priority. Never rejects.
   */
  readonly prioritized: Promise<void>;
  readonly #lanes: Lane[];
  readonly #addon: NativeAddon | undefined;
  readonly #socketIds = new Map<Socket, number>();
  readonly #writers = new Map<number, (packet: Buffer) => void>();
  #nextKey = 1;
  #closed = false;

  private constructor(
    engine: 'native' | 'js',
    shards: number,
    addon: NativeAddon | undefined,
    script?: string,
    { controlNice, controlIdle }: ControlPriority = { controlNice: 0, controlIdle: false },
  ) {
    super();
    this.engine = engine;
    this.shards = shards;
    this.#addon = addon;
    const events = {
      relay: (viewerKey: number, packet: Buffer) => this.#writers.get(viewerKey)?.(packet),
      error: (error: Error) => this.emit('error', error),
    };
    this.#lanes =
      shards === 0 || !script
        ? [new InThreadLane(new Shard(addon ? new NativeOutputBackend(addon) : new JsOutputBackend()))]
        : Array.from({ length: shards }, (_, index) => new WorkerLane(script, index, events));
    const workers = this.#lanes.filter((lane) => lane instanceof WorkerLane);
    this.prioritized = Promise.resolve();
    if ((controlNice > 0 || controlIdle) && workers.length > 0) {
      const idle = controlIdle && addon ? (tid: number) => addon.idleThread(tid) : undefined;
      // A worker's id always settles (ready, failed or exited), so this does too.
      this.prioritized = Promise.all(workers.map((lane) => lane.threadId)).then((ids) => {
        const known = ids.filter((id) => id !== undefined);
        // Without every worker's id, lowering "the others" could lower the data plane too.
        if (!this.#closed && known.length === ids.length)
          lowerOtherThreads(new Set(known), { nice: controlNice, idle });
      });
    }
  }

  /** @throws FanoutUnavailableError with `engine: 'native'` where the addon or the worker script is missing. */
  static open(options: FanoutPlaneOptions = {}): FanoutPlane {
    const { engine, shards, controlNice, controlIdle } = fanoutPlaneOptionsSchema.parse(options);
    if (engine === 'js')
      return FanoutPlane.#withReason(new FanoutPlane('js', 0, undefined), "engine 'js' was asked for");
    const native = loadNativeAddon();
    const script = workerScript();
    const unavailable =
      'error' in native ? native.error : shards > 0 && !script ? 'fanout-worker.js was not built' : undefined;
    if (unavailable !== undefined || 'error' in native) {
      if (engine === 'native') throw new FanoutUnavailableError(unavailable ?? 'no addon');
      return FanoutPlane.#withReason(new FanoutPlane('js', 0, undefined), unavailable ?? 'no addon');
    }
    const plane = new FanoutPlane('native', shards, native.addon, script, { controlNice, controlIdle });
    return FanoutPlane.#withReason(plane, native.reason);
  }

  static #withReason(plane: FanoutPlane, reason: string): FanoutPlane {
    plane.#engineReason = reason;
    return plane;
  }

  /**
   * The process-wide plane used by sources opened without one, created on first use from
   * `defaults` with `DRAGON_FANOUT_ENGINE` (auto | native | js) and `DRAGON_FANOUT_SHARDS` over them
   * when set; later calls return it and ignore `defaults`. Its workers do not keep the process alive.
   */
  static shared(defaults: FanoutPlaneOptions = {}): FanoutPlane {
    if (!FanoutPlane.#shared || FanoutPlane.#shared.#closed) {
      const fromEnv = sharedOptionsFromEnv(process.env);
      const plane = FanoutPlane.open({ ...defaults, ...fromEnv });
      if (fromEnv.engine === 'js') FanoutPlane.#withReason(plane, 'DRAGON_FANOUT_ENGINE=js');
      FanoutPlane.#shared = plane;
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
   * @internal A source's sockets go to the shard with the fewest sources, which receives them from
   * now on (the caller must not read them any more).
   */
  openSource(spec: PlaneSourceSpec): PlaneSource {
    const lane = this.#leastBusy('sources');
    const shared = lane.relays;
    const tracks = spec.tracks.map((track) => ({
      ...track,
      history: PacketHistory.create({ ...historySize[track.kind], shared }),
      stats: new Float64Array(
        shared
          ? new SharedArrayBuffer(trackStatLength(track.kind) * 8)
          : new ArrayBuffer(trackStatLength(track.kind) * 8),
      ),
    }));
    // A worker receives on duplicates of the sockets' descriptors; all must be readable first.
    const fds = shared ? tracks.map((track) => socketFd(track.socket)) : [];
    if (fds.some((fd) => fd === undefined)) {
      throw new FanoutUnavailableError('the descriptor of a source socket cannot be read');
    }
    const source = new PlaneSource(this, lane, this.#nextKey++, { ...spec, tracks });
    const followSpec = source.followSpec();
    const command: ShardSourceSpec = {
      ...followSpec,
      tracks: followSpec.tracks.map((track, index) => {
        const { socket, payloadType, stats } = tracks[index]!;
        const family = socket.address().family === 'IPv6' ? ('udp6' as const) : ('udp4' as const);
        return {
          ...track,
          input: shared
            ? { fd: this.#addon!.dup(fds[index]!), family, payloadType, stats }
            : { socket, payloadType, stats },
        };
      }),
    };
    // Ours would compete with the worker's duplicates for the datagrams.
    if (shared) for (const track of tracks) track.socket.close();
    lane.sources++;
    source.lanesFollowing.add(lane);
    lane.send({ type: 'openSource', spec: command });
    return source;
  }

  /** @internal */
  closeSource(source: PlaneSource): void {
    for (const viewer of [...source.viewers]) viewer.close();
    for (const lane of source.lanesFollowing) lane.send({ type: 'closeSource', sourceKey: source.key });
    source.lanesFollowing.clear();
    source.home.sources--;
  }

  /** @internal A viewer goes to the shard with the fewest viewers. */
  addViewer(source: PlaneSource, spec: PlaneViewerSpec): PlaneViewer {
    const lane = this.#leastBusy('viewers');
    const viewerKey = this.#nextKey++;
    const size = spec.streams.length * streamCounterCount * 8;
    const counters = new Float64Array(lane.relays ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
    const viewer = new PlaneViewer(this, source, lane, viewerKey, counters, spec);
    if (!source.lanesFollowing.has(lane)) {
      source.lanesFollowing.add(lane);
      lane.send({ type: 'openSource', spec: source.followSpec() });
    }
    lane.viewers++;
    source.viewers.add(viewer);
    const target = this.#useTarget(lane, viewerKey, spec.target);
    viewer.targetSocket = target.socketId;
    lane.send({
      type: 'addViewer',
      spec: {
        viewerKey,
        sourceKey: source.key,
        keys: spec.keys,
        streams: spec.streams.map((stream, index) => ({
          ...stream,
          counters,
          offset: index * streamCounterCount,
        })),
      },
      target: target.shard,
    });
    return viewer;
  }

  /** @internal */
  setViewerTarget(viewer: PlaneViewer, target: ViewerTarget): void {
    const resolved = this.#useTarget(viewer.lane, viewer.key, target);
    viewer.lane.send({ type: 'updateTarget', viewerKey: viewer.key, target: resolved.shard });
    this.#releaseSocket(viewer.lane, viewer.targetSocket);
    viewer.targetSocket = resolved.socketId;
  }

  /** @internal */
  removeViewer(viewer: PlaneViewer): void {
    const lane = viewer.lane;
    lane.send({ type: 'removeViewer', viewerKey: viewer.key });
    this.#releaseSocket(lane, viewer.targetSocket);
    viewer.targetSocket = undefined;
    this.#writers.delete(viewer.key);
    lane.viewers--;
    viewer.source.viewers.delete(viewer);
    viewer.source.retire(viewer);
  }

  /** @internal */
  nack(viewer: PlaneViewer, kind: TrackKind, sequenceNumbers: number[]): void {
    viewer.lane.send({ type: 'nack', viewerKey: viewer.key, kind, sequenceNumbers });
  }

  #leastBusy(by: 'sources' | 'viewers'): Lane {
    return this.#lanes.reduce((best, lane) => (lane[by] < best[by] ? lane : best));
  }

  /** The target as the viewer's shard takes it; a UDP socket is registered with that shard once. */
  #useTarget(
    lane: Lane,
    viewerKey: number,
    target: ViewerTarget,
  ): { shard: ShardTarget; socketId: number | undefined } {
    this.#writers.delete(viewerKey);
    if (target.type === 'none') return { shard: target, socketId: undefined };
    if (target.type === 'writer') {
      if (!lane.relays) return { shard: target, socketId: undefined };
      this.#writers.set(viewerKey, target.write);
      return { shard: { type: 'relay' }, socketId: undefined };
    }
    const socket = target.socket;
    let socketId = this.#socketIds.get(socket);
    if (socketId === undefined) {
      socketId = this.#nextKey++;
      this.#socketIds.set(socket, socketId);
      socket.once('close', () => this.#socketIds.delete(socket));
    }
    const users = lane.socketUsers.get(socketId) ?? 0;
    if (users === 0) {
      // The native backend sends on a duplicate it owns: valid until it lets go, whatever happens
      // to the original. A descriptor that cannot be read (-1) gets no media; the viewer is reaped.
      const fd = this.#addon ? socketFd(socket) : undefined;
      const handle = this.#addon ? { fd: fd === undefined ? -1 : this.#addon.dup(fd) } : { socket };
      lane.send({ type: 'registerSocket', id: socketId, handle });
    }
    lane.socketUsers.set(socketId, users + 1);
    const shard: ShardTarget = {
      type: 'udp',
      socketId,
      host: target.host,
      port: target.port,
      family: socket.address().family === 'IPv6' ? 6 : 4,
    };
    return { shard, socketId };
  }

  #releaseSocket(lane: Lane, socketId: number | undefined): void {
    if (socketId === undefined) return;
    const users = (lane.socketUsers.get(socketId) ?? 1) - 1;
    if (users > 0) {
      lane.socketUsers.set(socketId, users);
      return;
    }
    lane.socketUsers.delete(socketId);
    lane.send({ type: 'forgetSocket', id: socketId });
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
