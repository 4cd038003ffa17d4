import type { Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { getPriority } from 'node:os';
import { FanoutUnavailableError, type FanoutWorkerDiedError } from '../errors.js';
import { type TrackKind, trackStatLength } from '../ingest/track-ingest.js';
import { FeedbackBatches } from './feedback-batches.js';
import { JsOutputBackend } from './js-output.js';
import { InThreadLane, type Lane, WorkerLane, workerScript } from './lanes.js';
import { loadNativeAddon, type NativeAddon } from './native-addon.js';
import { NativeOutputBackend } from './native-output.js';
import { streamCounterCount } from './output.js';
import { PacketHistory } from './packet-history.js';
import {
  PlaneSource,
  type PlaneSourceSpec,
  type PlaneTrackSpec,
  PlaneViewer,
  type PlaneViewerSpec,
  type ViewerTarget,
} from './plane-handles.js';
import {
  type FanoutPlaneOptions,
  fanoutPlaneOptionsSchema,
  type Priorities,
  sharedOptionsFromEnv,
} from './plane-options.js';
import { RestartPolicy } from './restart-policy.js';
import { type RenditionPin, Shard, type ShardTrackInput } from './shard.js';
import { socketFd } from './socket-fd.js';
import { type DataPlanePriority, lowerOtherThreads, raiseThreads } from './thread-priority.js';
import { ViewerTargets } from './viewer-targets.js';

export type { FanoutPlaneOptions } from './plane-options.js';
export type { DataPlanePriority } from './thread-priority.js';

/** A worker started in place of one that died, running with what the dead one had. */
export interface WorkerRestart {
  /** The worker's index (`dragon-fanout-<shard>`). */
  shard: number;
  /** Sources and viewers given to the new worker. */
  sources: number;
  viewers: number;
  /** What the new worker's thread got (it starts with the priority of the thread that makes it). */
  priority: DataPlanePriority;
}

export interface FanoutPlaneEvents {
  /** A worker thread died; another takes its sources and viewers after `restartInMs`. */
  workerDied: [error: FanoutWorkerDiedError, restartInMs: number];
  /** The worker that replaces a dead one runs. */
  workerRestarted: [restart: WorkerRestart];
}

/** Per source track: its history (entries, bytes). Video keeps a few seconds of a GOP. */
const historySize: Record<TrackKind, { entries: number; bytes: number }> = {
  video: { entries: 4096, bytes: 2 * 1024 * 1024 },
  audio: { entries: 1024, bytes: 256 * 1024 },
};

/**
 * A lower rendition's history holds 4 s of its configured bitrate (at least 256 KiB): a 130 kbit/s
 * rung needs a tenth of the top's 2 MiB. Entries stay the top's, as NACKs reach back by count.
 */
function historySizeOf(track: PlaneTrackSpec): { entries: number; bytes: number } {
  const size = historySize[track.kind];
  if (track.kind === 'audio' || !track.rendition || !track.bitrateKbit) return size;
  const bytes = Math.ceil((track.bitrateKbit * 1000 * 4) / 8);
  return { entries: size.entries, bytes: Math.min(size.bytes, Math.max(256 * 1024, bytes)) };
}

/** How a source's tracks are received: what its receiving shard is given, again after a restart. */
interface SourceInput {
  kind: TrackKind;
  /** Same-thread shard: the socket itself. */
  socket?: Socket;
  /** Worker shard: a descriptor of the socket the plane keeps (never read), duplicated for each worker. */
  fd?: number | undefined;
  family: 'udp4' | 'udp6';
  payloadType: number;
  stats: Float64Array;
}

/**
 * The data plane: where source packets are received, kept (history) and sent to viewers as SRTP.
 * werift keeps ICE, DTLS, SDP and RTCP on the caller's thread; per packet, nothing runs there when
 * the engine is native with workers, so an API busy building a response costs no viewer a frame.
 *
 * Sources ({@link RtpSource}) are given to the plane when they open; viewers ({@link Peer}) when
 * their DTLS handshake completes. `FanoutPlane.shared()` is the plane of sources opened without one.
 *
 * The plane supervises its worker threads: one that dies (an exception in its code, an exit) is
 * reported (`workerDied`) and replaced, and the new worker is given the dead one's sources and
 * viewers; viewers keep their sessions, sequence numbers, timestamps and SRTP state. It is the
 * `PlaneControl` its source and viewer handles know it as.
 * @example
 * const plane = FanoutPlane.open({ shards: 2 });
 * const source = await RtpSource.open({ id: 'cam', video: { payloadType: 96 }, plane });
 * // … viewers via PeerFactory.createPeer(source, offer)
 * source.close();
 * await plane.close();
 */
export class FanoutPlane extends EventEmitter<FanoutPlaneEvents> {
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
   * Settles once the worker threads run and have been given `dataPlaneNice` (and, if opted in, the
   * process's other threads `controlNice`/`controlIdle`), with what the workers got and why. A
   * child process inherits the priority of the thread that starts it: with `controlNice` or
   * `controlIdle`, start FFmpeg after this. Never rejects.
   */
  readonly prioritized: Promise<DataPlanePriority>;
  readonly #lanes: Lane[];
  readonly #addon: NativeAddon | undefined;
  readonly #dataPlaneNice: number;
  readonly #sources = new Map<PlaneSource, SourceInput[]>();
  readonly #targets: ViewerTargets;
  readonly #restarts = new RestartPolicy();
  readonly #feedback = new FeedbackBatches();
  /** Lanes whose new worker has been given its state and is not running yet. */
  readonly #restarting = new Map<WorkerLane, { sources: number; viewers: number }>();
  #workerRestarts = 0;
  #nextKey = 1;
  #closed = false;

  private constructor(
    engine: 'native' | 'js',
    shards: number,
    addon: NativeAddon | undefined,
    script: string | undefined,
    priorities: Priorities,
  ) {
    super();
    this.engine = engine;
    this.shards = shards;
    this.#addon = addon;
    this.#dataPlaneNice = priorities.dataPlaneNice;
    this.#targets = new ViewerTargets(addon, () => this.#nextKey++);
    this.#lanes =
      shards === 0 || !script
        ? [new InThreadLane(new Shard(addon ? new NativeOutputBackend(addon) : new JsOutputBackend()))]
        : Array.from({ length: shards }, (_, index) => this.#workerLane(script, index));
    this.prioritized = this.#prioritize(addon, priorities);
  }

  /** @throws FanoutUnavailableError with `engine: 'native'` where the addon or the worker script is missing. */
  static open(options: FanoutPlaneOptions = {}): FanoutPlane {
    const { engine, shards, ...priorities } = fanoutPlaneOptionsSchema.parse(options);
    if (engine === 'js') {
      const plane = new FanoutPlane('js', 0, undefined, undefined, priorities);
      return FanoutPlane.#withReason(plane, "engine 'js' was asked for");
    }
    const native = loadNativeAddon();
    const script = workerScript();
    const unavailable =
      'error' in native ? native.error : shards > 0 && !script ? 'fanout-worker.js was not built' : undefined;
    if (unavailable !== undefined || 'error' in native) {
      if (engine === 'native') throw new FanoutUnavailableError(unavailable ?? 'no addon');
      const plane = new FanoutPlane('js', 0, undefined, undefined, priorities);
      return FanoutPlane.#withReason(plane, unavailable ?? 'no addon');
    }
    const plane = new FanoutPlane('native', shards, native.addon, script, priorities);
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

  /** Workers started in place of ones that died, since the plane opened. */
  get workerRestarts(): number {
    return this.#workerRestarts;
  }

  /** Stops every shard; sources and viewers on it stop sending. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#restarts.cancelAll();
    this.#feedback.close();
    await Promise.all(this.#lanes.map((lane) => lane.close()));
    for (const inputs of this.#sources.values()) this.#closeInputs(inputs);
    this.#sources.clear();
  }

  /**
   * Ends worker `shard` as a crash would (`worker.terminate()`, the plane not told): what follows
   * is what follows any death (`workerDied`, a new worker with the dead one's sources and viewers,
   * `workerRestarted`). For tests of that, here and in an application.
   */
  async terminateWorker(shard: number): Promise<void> {
    const lane = this.#lanes[shard];
    if (lane instanceof WorkerLane) await lane.terminate();
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
      rendition: track.rendition ?? 0,
      codec: track.codec ?? 'h264',
      history: PacketHistory.create({ ...historySizeOf(track), shared }),
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
    const inputs: SourceInput[] = tracks.map(({ kind, socket, payloadType, stats }, index) => ({
      kind,
      ...(shared ? { fd: this.#addon!.dup(fds[index]!) } : { socket }),
      family: socket.address().family === 'IPv6' ? 'udp6' : 'udp4',
      payloadType,
      stats,
    }));
    // The plane keeps a descriptor it never reads, for the worker that replaces a dead one; its
    // socket would compete with the worker's duplicates for the datagrams.
    if (shared) for (const track of tracks) track.socket.close();
    const source = new PlaneSource(this, lane, this.#nextKey++, {
      ...spec,
      tracks,
      shards: this.#lanes.length,
      shared,
    });
    this.#sources.set(source, inputs);
    lane.sources++;
    source.lanesFollowing.add(lane);
    this.#openOn(lane, source);
    return source;
  }

  /** @internal */
  closeSource(source: PlaneSource): void {
    for (const viewer of [...source.viewers]) viewer.close();
    for (const lane of source.lanesFollowing) lane.send({ type: 'closeSource', sourceKey: source.key });
    source.lanesFollowing.clear();
    source.home.sources--;
    this.#closeInputs(this.#sources.get(source) ?? []);
    this.#sources.delete(source);
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
      this.#openOn(lane, source);
    }
    lane.viewers++;
    source.viewers.add(viewer);
    this.#sendViewer(viewer, false);
    return viewer;
  }

  /** @internal */
  setViewerTarget(viewer: PlaneViewer, target: ViewerTarget): void {
    viewer.target = target;
    const resolved = this.#targets.use(viewer.lane, viewer.key, target);
    viewer.lane.send({ type: 'updateTarget', viewerKey: viewer.key, target: resolved.shard });
    this.#targets.release(viewer.lane, viewer.targetSocket);
    viewer.targetSocket = resolved.socketId;
  }

  /** @internal */
  removeViewer(viewer: PlaneViewer): void {
    const lane = viewer.lane;
    lane.send({ type: 'removeViewer', viewerKey: viewer.key });
    this.#targets.release(lane, viewer.targetSocket);
    viewer.targetSocket = undefined;
    this.#targets.forget(viewer.key);
    lane.viewers--;
    viewer.source.viewers.delete(viewer);
    viewer.source.retire(viewer);
  }

  /** @internal */
  nack(viewer: PlaneViewer, kind: TrackKind, sequenceNumbers: number[]): void {
    viewer.lane.send({ type: 'nack', viewerKey: viewer.key, kind, sequenceNumbers });
  }

  /** @internal */
  pinRendition(viewer: PlaneViewer, target: RenditionPin): void {
    viewer.lane.send({ type: 'pinRendition', viewerKey: viewer.key, rendition: target });
  }

  /** @internal */
  feedback(viewer: PlaneViewer, rtcp: Uint8Array): void {
    this.#feedback.add(viewer.lane, { viewerKey: viewer.key, rtcp });
  }

  /** @internal */
  receiverEstimate(viewer: PlaneViewer, bps: number): void {
    this.#feedback.add(viewer.lane, { viewerKey: viewer.key, rembBps: bps });
  }

  #workerLane(script: string, index: number): WorkerLane {
    const lane: WorkerLane = new WorkerLane(script, index, {
      relay: (viewerKey, packet) => this.#targets.relay(viewerKey, packet),
      ready: (threadId) => this.#restarted(lane, threadId),
      died: (error) => this.#died(lane, error),
    });
    return lane;
  }

  /** Raises the workers (and, if opted in, lowers the rest) once their thread ids are known. */
  async #prioritize(addon: NativeAddon | undefined, priorities: Priorities): Promise<DataPlanePriority> {
    const { dataPlaneNice, controlNice, controlIdle } = priorities;
    const workers = this.#lanes.filter((lane) => lane instanceof WorkerLane);
    if (workers.length === 0) {
      return { nice: getPriority(), requested: dataPlaneNice, outcome: 'no-workers' };
    }
    // A worker's id always settles (ready, failed or exited), so this does too.
    const ids = await Promise.all(workers.map((lane) => lane.threadId));
    const known = ids.filter((id) => id !== undefined);
    if (this.#closed || known.length !== ids.length) {
      return { nice: getPriority(), requested: dataPlaneNice, outcome: 'unknown' };
    }
    const priority = raiseThreads(known, dataPlaneNice);
    // Without every worker's id, lowering "the others" could lower the data plane too.
    if (controlNice > 0 || controlIdle) {
      const idle = controlIdle && addon ? (tid: number) => addon.idleThread(tid) : undefined;
      lowerOtherThreads(new Set(known), { nice: controlNice, idle });
    }
    return priority;
  }

  /**
   * A worker died: what it held of the process (descriptors it kept as numbers) is closed here, and
   * a new worker is started after the restart policy's delay, given everything the dead one had.
   */
  #died(lane: WorkerLane, error: FanoutWorkerDiedError): void {
    for (const fd of lane.socketFds.values()) this.#addon?.close(fd);
    lane.socketFds.clear();
    lane.socketUsers.clear();
    this.#restarting.delete(lane);
    const delay = this.#restarts.schedule(lane.index, () => this.#respawn(lane));
    this.emit('workerDied', error, delay);
  }

  #respawn(lane: WorkerLane): void {
    if (this.#closed) return;
    lane.respawn();
    // Every viewer's target is registered again below, counted afresh.
    lane.socketUsers.clear();
    let sources = 0;
    let viewers = 0;
    for (const source of this.#sources.keys()) {
      if (!source.lanesFollowing.has(lane)) continue;
      this.#openOn(lane, source);
      sources++;
    }
    for (const source of this.#sources.keys()) {
      for (const viewer of source.viewers) {
        if (viewer.lane !== lane) continue;
        this.#sendViewer(viewer, true);
        // A switch it was waiting for is asked again (one done is in its counters).
        if (viewer.pinned !== undefined) this.pinRendition(viewer, viewer.pinned);
        viewers++;
      }
    }
    this.#restarting.set(lane, { sources, viewers });
  }

  /** A worker runs: if it replaces one that died, it gets the data plane's priority and is announced. */
  #restarted(lane: WorkerLane, threadId: number | undefined): void {
    const restart = this.#restarting.get(lane);
    if (!restart) return;
    this.#restarting.delete(lane);
    this.#workerRestarts++;
    const priority: DataPlanePriority =
      threadId === undefined
        ? { nice: getPriority(), requested: this.#dataPlaneNice, outcome: 'unknown' }
        : raiseThreads([threadId], this.#dataPlaneNice);
    this.emit('workerRestarted', { shard: lane.index, ...restart, priority });
  }

  /** Tells `lane` to follow `source`, and to receive it if it is the source's home. */
  #openOn(lane: Lane, source: PlaneSource): void {
    if (!lane.running) return;
    const spec = source.followSpec(lane);
    const inputs = source.home === lane ? this.#sources.get(source) : undefined;
    lane.send({
      type: 'openSource',
      spec: {
        ...spec,
        tracks: spec.tracks.map((track, index) => {
          const input = inputs?.[index];
          return input ? { ...track, input: this.#shardInput(input) } : track;
        }),
      },
    });
  }

  #shardInput({ socket, fd, family, payloadType, stats }: SourceInput): ShardTrackInput {
    return socket
      ? { socket, payloadType, stats }
      : { fd: this.#addon!.dup(fd!), family, payloadType, stats };
  }

  #closeInputs(inputs: SourceInput[]): void {
    for (const input of inputs) {
      if (input.fd !== undefined) this.#addon?.close(input.fd);
      input.fd = undefined;
    }
  }

  /** Gives the viewer's shard the viewer; `resume`: it was sent to before, by a worker that died. */
  #sendViewer(viewer: PlaneViewer, resume: boolean): void {
    const lane = viewer.lane;
    const target = this.#targets.use(lane, viewer.key, viewer.target);
    viewer.targetSocket = target.socketId;
    lane.send({
      type: 'addViewer',
      spec: {
        viewerKey: viewer.key,
        sourceKey: viewer.source.key,
        keys: viewer.spec.keys,
        streams: viewer.spec.streams.map((stream, index) => ({
          ...stream,
          counters: viewer.counters,
          offset: index * streamCounterCount,
        })),
        resume,
        ...(viewer.spec.video ? { video: viewer.spec.video } : {}),
      },
      target: target.shard,
    });
  }

  #leastBusy(by: 'sources' | 'viewers'): Lane {
    return this.#lanes.reduce((best, lane) => (lane[by] < best[by] ? lane : best));
  }
}
