import type { Socket } from 'node:dgram';
import type { TrackKind } from '../ingest/track-ingest.js';
import type { Lane } from './lanes.js';
import { streamCounterCount, streamCounterFields } from './output.js';
import type { PacketHistory } from './packet-history.js';
import type { ShardSourceSpec } from './shard.js';
import type { SrtpSessionKeys } from './srtp.js';

// The plane's handles on a source (held by RtpSource) and on a viewer (held by Peer): what they
// read (counters, the Sender Report clock) and what they ask of the plane (`PlaneControl`, which
// FanoutPlane implements: this file knows the plane only by that contract).

/** What a viewer's owner asks the plane to send to (resolved from werift's selected ICE pair). */
export type ViewerTarget =
  | { type: 'udp'; socket: Socket; host: string; port: number }
  | { type: 'writer'; write: (packet: Buffer) => void }
  | { type: 'none' };

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

/** @internal What the handles ask of the plane that made them. */
export interface PlaneControl {
  readonly closed: boolean;
  addViewer(source: PlaneSource, spec: PlaneViewerSpec): PlaneViewer;
  closeSource(source: PlaneSource): void;
  setViewerTarget(viewer: PlaneViewer, target: ViewerTarget): void;
  removeViewer(viewer: PlaneViewer): void;
  nack(viewer: PlaneViewer, kind: TrackKind, sequenceNumbers: number[]): void;
}

/** @internal A source as the plane holds it: its shared history and counters. */
export class PlaneSource {
  readonly viewers = new Set<PlaneViewer>();
  readonly lanesFollowing = new Set<Lane>();
  readonly #tracks: Map<TrackKind, { history: PacketHistory; stats: Float64Array }>;
  readonly #spec: { keyframeCache: boolean; maxCachedPackets: number };
  /** Per shard and track, the newest ext that shard has sent (`ShardTrackSpec.sent`). */
  readonly #sent: Float64Array;
  #retired = { packetsSent: 0, bytesSent: 0, packetsDropped: 0 };
  #closed = false;

  constructor(
    readonly plane: PlaneControl,
    readonly home: Lane,
    readonly key: number,
    spec: {
      keyframeCache: boolean;
      maxCachedPackets: number;
      tracks: { kind: TrackKind; history: PacketHistory; stats: Float64Array }[];
      /** Shards of the plane, and whether they are other threads (shared memory). */
      shards: number;
      shared: boolean;
    },
  ) {
    this.#tracks = new Map(spec.tracks.map(({ kind, history, stats }) => [kind, { history, stats }]));
    this.#spec = { keyframeCache: spec.keyframeCache, maxCachedPackets: spec.maxCachedPackets };
    const size = spec.shards * spec.tracks.length * 8;
    this.#sent = new Float64Array(spec.shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size)).fill(-1);
  }

  /** What shard `lane` needs to send this source: each track's history and its own send cursor. */
  followSpec(lane: Lane): ShardSourceSpec {
    const first = lane.index * this.#tracks.size;
    return {
      sourceKey: this.key,
      keyframeCache: this.#spec.keyframeCache,
      maxCachedPackets: this.#spec.maxCachedPackets,
      tracks: [...this.#tracks].map(([kind, { history }], index) => ({
        kind,
        history: history.buffer,
        sent: this.#sent.subarray(first + index, first + index + 1),
      })),
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

  /** Packets and bytes handed out to viewers, and packets dropped for them, closed ones included. */
  sentStats(): { packetsSent: number; bytesSent: number; packetsDropped: number } {
    let { packetsSent, bytesSent, packetsDropped } = this.#retired;
    for (const viewer of this.viewers) {
      const stats = viewer.stats();
      packetsSent += stats.packetsSent;
      bytesSent += stats.bytesSent;
      packetsDropped += stats.dropped;
    }
    return { packetsSent, bytesSent, packetsDropped };
  }

  retire(viewer: PlaneViewer): void {
    const stats = viewer.stats();
    this.#retired = {
      packetsSent: this.#retired.packetsSent + stats.packetsSent,
      bytesSent: this.#retired.bytesSent + stats.bytesSent,
      packetsDropped: this.#retired.packetsDropped + stats.dropped,
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.plane.closed) this.plane.closeSource(this);
  }
}

/**
 * @internal A viewer as the plane holds it: what it was given (keys, streams), where it is sent to
 * and from, its counters; all a shard needs to take it on again after a worker died.
 */
export class PlaneViewer {
  targetSocket: number | undefined;
  /** The latest target its owner asked for. */
  target: ViewerTarget;
  readonly #kinds: TrackKind[];
  #closed = false;

  constructor(
    readonly plane: PlaneControl,
    readonly source: PlaneSource,
    readonly lane: Lane,
    readonly key: number,
    readonly counters: Float64Array,
    readonly spec: PlaneViewerSpec,
  ) {
    this.#kinds = spec.streams.map((stream) => stream.kind);
    this.target = spec.target;
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

  stats(): { packetsSent: number; bytesSent: number; retransmitted: number; dropped: number } {
    let packetsSent = 0;
    let bytesSent = 0;
    let retransmitted = 0;
    let dropped = 0;
    for (let offset = 0; offset < this.counters.length; offset += streamCounterCount) {
      packetsSent += this.counters[offset + streamCounterFields.packets]!;
      bytesSent += this.counters[offset + streamCounterFields.octets]!;
      retransmitted += this.counters[offset + streamCounterFields.retransmitted]!;
      dropped += this.counters[offset + streamCounterFields.dropped]!;
    }
    return { packetsSent, bytesSent, retransmitted, dropped };
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
