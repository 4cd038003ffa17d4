import type { Socket } from 'node:dgram';
import type { VideoCodec } from '../ingest/keyframes.js';
import type { TrackKind } from '../ingest/track-ingest.js';
import type { Lane } from './lanes.js';
import { streamCounterCount, streamCounterFields } from './output.js';
import type { PacketHistory } from './packet-history.js';
import type { RenditionPin, ShardSourceSpec, ShardViewerVideo } from './shard.js';
import type { SrtpSessionKeys } from './srtp.js';

// The plane's handles on a source (held by RtpSource) and on a viewer (held by Peer): what they
// read (counters, the Sender Report clock) and what they ask of the plane (`PlaneControl`, which
// FanoutPlane implements: this file knows the plane only by that contract).

/** What a viewer's owner asks the plane to send to (resolved from werift's selected ICE pair). */
export type ViewerTarget =
  | { type: 'udp'; socket: Socket; host: string; port: number }
  | { type: 'writer'; write: (packet: Buffer) => void }
  | { type: 'none' };

/**
 * @internal One track of a source. Video tracks are its renditions: 0 is the top (the one a source
 * without renditions has), 1… the others, high to low; audio is rendition 0.
 */
export interface PlaneTrackSpec {
  kind: TrackKind;
  socket: Socket;
  payloadType: number;
  /** @default 0 */
  rendition?: number;
  /** @default 'h264' */
  codec?: VideoCodec;
  /** The configured bitrate (kbit/s) a rendition's history is sized for; 0 or absent: the top's size. */
  bitrateKbit?: number;
}

/** @internal What a source gives the plane. */
export interface PlaneSourceSpec {
  tracks: PlaneTrackSpec[];
  keyframeCache: boolean;
  maxCachedPackets: number;
}

/** @internal A track as the plane holds it. */
export interface PlaneTrack {
  kind: TrackKind;
  rendition: number;
  codec: VideoCodec;
  history: PacketHistory;
  stats: Float64Array;
}

/** @internal What a viewer gives the plane once its DTLS handshake has produced SRTP keys. */
export interface PlaneViewerSpec {
  keys: SrtpSessionKeys;
  streams: { kind: TrackKind; ssrc: number; payloadType: number }[];
  target: ViewerTarget;
  /** A source with renditions: the ones this viewer can decode, and where it starts. @default top only */
  video?: ShardViewerVideo;
}

/** @internal What the handles ask of the plane that made them. */
export interface PlaneControl {
  readonly closed: boolean;
  addViewer(source: PlaneSource, spec: PlaneViewerSpec): PlaneViewer;
  closeSource(source: PlaneSource): void;
  setViewerTarget(viewer: PlaneViewer, target: ViewerTarget): void;
  removeViewer(viewer: PlaneViewer): void;
  nack(viewer: PlaneViewer, kind: TrackKind, sequenceNumbers: number[]): void;
  pinRendition(viewer: PlaneViewer, target: RenditionPin): void;
  feedback(viewer: PlaneViewer, rtcp: Uint8Array): void;
  receiverEstimate(viewer: PlaneViewer, bps: number): void;
}

/** @internal A source as the plane holds it: its shared history and counters. */
export class PlaneSource {
  readonly viewers = new Set<PlaneViewer>();
  readonly lanesFollowing = new Set<Lane>();
  readonly #tracks: PlaneTrack[];
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
      tracks: PlaneTrack[];
      /** Shards of the plane, and whether they are other threads (shared memory). */
      shards: number;
      shared: boolean;
    },
  ) {
    this.#tracks = spec.tracks;
    this.#spec = { keyframeCache: spec.keyframeCache, maxCachedPackets: spec.maxCachedPackets };
    const size = spec.shards * spec.tracks.length * 8;
    this.#sent = new Float64Array(spec.shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size)).fill(-1);
  }

  /** What shard `lane` needs to send this source: each track's history and its own send cursor. */
  followSpec(lane: Lane): ShardSourceSpec {
    const first = lane.index * this.#tracks.length;
    return {
      sourceKey: this.key,
      keyframeCache: this.#spec.keyframeCache,
      maxCachedPackets: this.#spec.maxCachedPackets,
      tracks: this.#tracks.map(({ kind, rendition, codec, history }, index) => ({
        kind,
        rendition,
        codec,
        history: history.buffer,
        sent: this.#sent.subarray(first + index, first + index + 1),
      })),
    };
  }

  /** Video renditions (1 for a source without renditions, 0 for one without video). */
  get renditions(): number {
    return this.#tracks.filter((track) => track.kind === 'video').length;
  }

  track(kind: TrackKind, rendition = 0): PlaneTrack | undefined {
    return this.#tracks.find((track) => track.kind === kind && track.rendition === rendition);
  }

  /** `trackStatFields` counters of a track. */
  stats(kind: TrackKind, rendition = 0): Float64Array | undefined {
    return this.track(kind, rendition)?.stats;
  }

  /** The newest packet's RTP timestamp and arrival time on a track (the Sender Report clock). */
  clock(kind: TrackKind, rendition = 0): { rtpTimestamp: number; arrivalMs: number } | undefined {
    return this.track(kind, rendition)?.history.clock();
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
  /** The latest rendition its owner pinned it to (given again to a shard made again). */
  pinned: RenditionPin | undefined;
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

  /**
   * Counters of one stream (`streamCounterFields`), or undefined for a kind it does not send: what
   * it was sent, and where its packets come from now: the rendition (video; -1 while paused, audio
   * only) and the timestamp offset of the viewer's output space.
   */
  streamCounters(kind: TrackKind):
    | {
        packets: number;
        payloadOctets: number;
        rendition: number;
        tsOffset: number;
        estimateBps: number;
        switches: number;
        loss: number;
      }
    | undefined {
    const index = this.#kinds.indexOf(kind);
    if (index < 0) return undefined;
    const offset = index * streamCounterCount;
    return {
      packets: this.counters[offset + streamCounterFields.packets]!,
      payloadOctets: this.counters[offset + streamCounterFields.payloadOctets]!,
      rendition: this.counters[offset + streamCounterFields.rendition]!,
      tsOffset: this.counters[offset + streamCounterFields.tsOffset]!,
      estimateBps: this.counters[offset + streamCounterFields.estimateBps]!,
      switches: this.counters[offset + streamCounterFields.switches]!,
      loss: this.counters[offset + streamCounterFields.loss]!,
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

  /**
   * Sends the viewer's video from rendition `target` from that rendition's next keyframe on, or
   * pauses it (`'audio'`); see `Shard.pinRendition`. A rendition it cannot decode is ignored.
   */
  pinRendition(target: RenditionPin): void {
    if (this.#closed || this.plane.closed) return;
    this.pinned = target;
    this.plane.pinRendition(this, target);
  }

  /**
   * A transport-wide feedback packet from the viewer (decrypted RTCP, PT 205 FMT 15), for its
   * congestion control in the shard that sends it (an adaptive viewer; ignored otherwise).
   */
  feedback(rtcp: Uint8Array): void {
    if (!this.#closed && !this.plane.closed) this.plane.feedback(this, rtcp);
  }

  /** A REMB from the viewer (its browser's estimate of its link, bit/s), for its congestion control. */
  receiverEstimate(bps: number): void {
    if (!this.#closed && !this.plane.closed) this.plane.receiverEstimate(this, bps);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.plane.closed) this.plane.removeViewer(this);
  }
}
