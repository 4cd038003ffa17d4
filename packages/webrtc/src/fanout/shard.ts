import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { TrackIngest, type TrackKind } from '../ingest/track-ingest.js';
import type { OutputBackend, OutputGroup, OutputStream, OutputTarget, SocketHandle } from './output.js';
import { streamCounterFields } from './output.js';
import { PacketHistory } from './packet-history.js';
import { RetransmitPacer } from './retransmit-pacer.js';
import { maxRtpPacket, type SrtpSessionKeys } from './srtp.js';

/** A track's receiving end, on the one shard that receives it. */
export interface ShardTrackInput {
  /** The bound socket (same thread), or a descriptor of it this shard wraps and owns (a worker). */
  socket?: Socket;
  fd?: number;
  family?: 'udp4' | 'udp6';
  payloadType: number;
  /** Counters of `trackStatFields`, read by the source's owner. */
  stats: Float64Array;
}

export interface ShardTrackSpec {
  kind: TrackKind;
  history: SharedArrayBuffer | ArrayBuffer;
  /**
   * This shard's cursor, one value the plane keeps: the newest ext it has sent (-1: none). A shard
   * made again after its worker died goes on from there, so its viewers lose nothing the history
   * still holds.
   */
  sent?: Float64Array;
  input?: ShardTrackInput;
}

/** A restarted shard sends at most this much of what its dead worker had not; older is a gap. */
const maxResumedPackets = 2048;

export interface ShardSourceSpec {
  sourceKey: number;
  tracks: ShardTrackSpec[];
  keyframeCache: boolean;
  maxCachedPackets: number;
}

export interface ShardStreamSpec {
  kind: TrackKind;
  ssrc: number;
  payloadType: number;
  /** `streamCounterFields` from `offset` on; its index base, when set, is the stream's. */
  counters: Float64Array;
  offset: number;
}

export interface ShardViewerSpec {
  viewerKey: number;
  sourceKey: number;
  keys: SrtpSessionKeys;
  streams: ShardStreamSpec[];
  target: OutputTarget;
  /**
   * The viewer was sent to by a shard whose worker died: no keyframe cache replayed (its decoder
   * has the stream already), and each stream goes on from the index base in its counters.
   */
  resume?: boolean;
}

/**
 * Bounds on what one NACK can make us resend: a viewer can only ask for recent packets (libwebrtc
 * gives up on a packet after about a second) and not make the server replay its whole history at
 * will (see also RetransmitPacer). Beyond these it gets a keyframe with the next GOP instead.
 */
const maxNackAge = 2048;
const maxNackedPerReport = 256;

class ShardTrack {
  readonly group: OutputGroup;
  /** The newest ext this shard has sent (or, with no viewer, seen). */
  cursor: number;
  ingest: TrackIngest | undefined;
  socket: Socket | undefined;
  /** A follower waits for the receiving shard's appends while it has viewers. */
  waiting = false;
  /** The receiving shard has appended packets it will send once the socket is read dry. */
  scheduled = false;
  /** Streams of the group that have not been sent a packet yet: their index base is not set. */
  readonly unbased: ShardViewerStream[] = [];
  readonly onPublished: () => void;
  readonly onReceived: () => void;

  constructor(
    readonly kind: TrackKind,
    readonly history: PacketHistory,
    readonly sent: Float64Array | undefined,
    backend: OutputBackend,
    onPublished: (track: ShardTrack) => void,
    onReceived: (track: ShardTrack) => void,
  ) {
    this.group = backend.createGroup();
    this.cursor = this.start();
    this.onPublished = () => onPublished(this);
    this.onReceived = () => onReceived(this);
  }

  /** Where sending starts: the history's head, or where this shard's dead worker stopped. */
  start(): number {
    const head = this.history.head;
    const sent = this.sent?.[0] ?? -1;
    return sent >= 0 && sent <= head && head - sent <= maxResumedPackets ? sent : head;
  }

  /** Hot path, once per batch: the cursor moved (kept where a shard made again finds it). */
  moveCursor(ext: number): void {
    this.cursor = ext;
    if (this.sent) this.sent[0] = ext;
  }
}

class ShardSource {
  readonly tracks = new Map<TrackKind, ShardTrack>();
  readonly viewers = new Set<ShardViewer>();
  closed = false;

  constructor(
    readonly key: number,
    readonly keyframeCache: boolean,
    readonly maxCachedPackets: number,
  ) {}
}

interface ShardViewerStream {
  stream: OutputStream;
  track: ShardTrack;
  counters: Float64Array;
  offset: number;
  pacer: RetransmitPacer;
  /** The stream's SRTP index base is set (and in its counters). */
  based: boolean;
}

class ShardViewer {
  readonly streams = new Map<TrackKind, ShardViewerStream>();

  constructor(
    readonly key: number,
    readonly source: ShardSource,
  ) {}
}

/**
 * One data-plane thread's share of the fan-out: the sources it receives (validation, continuity,
 * history) and the viewers it sends to. Per source packet it reads the packet once from the shared
 * history and hands it to its output group, which patches SSRC and payload type, protects and sends
 * it for every viewer. Runs in a worker (native backend) or in the thread that owns the sockets (JS
 * backend, or native with `shards: 0`); the methods are its whole protocol.
 *
 * A shard that has viewers of a source received by another shard follows that source's history:
 * it waits on the history's publish counter with `Atomics.waitAsync` and sends what was appended.
 */
export class Shard {
  readonly #backend: OutputBackend;
  readonly #sources = new Map<number, ShardSource>();
  readonly #viewers = new Map<number, ShardViewer>();
  readonly #scratch = Buffer.allocUnsafe(maxRtpPacket);

  constructor(backend: OutputBackend) {
    this.#backend = backend;
  }

  get backend(): OutputBackend {
    return this.#backend;
  }

  /** Starts receiving a source (with inputs) or following it (without); both at once is fine. */
  openSource(spec: ShardSourceSpec): void {
    let source = this.#sources.get(spec.sourceKey);
    if (!source) {
      source = new ShardSource(spec.sourceKey, spec.keyframeCache, spec.maxCachedPackets);
      this.#sources.set(spec.sourceKey, source);
    }
    for (const trackSpec of spec.tracks) {
      let track = source.tracks.get(trackSpec.kind);
      if (!track) {
        track = new ShardTrack(
          trackSpec.kind,
          PacketHistory.attach(trackSpec.history),
          trackSpec.sent,
          this.#backend,
          (published) => this.#onPublished(published),
          (received) => {
            received.scheduled = false;
            this.#drain(received);
          },
        );
        source.tracks.set(trackSpec.kind, track);
      }
      if (trackSpec.input && !track.ingest) this.#receive(source, track, trackSpec.input);
    }
  }

  /** Stops receiving and sending a source here; its viewers on this shard are dropped. */
  closeSource(sourceKey: number): void {
    const source = this.#sources.get(sourceKey);
    if (!source) return;
    source.closed = true;
    this.#sources.delete(sourceKey);
    for (const viewer of [...source.viewers]) this.removeViewer(viewer.key);
    for (const track of source.tracks.values()) {
      track.socket?.close();
      track.socket = undefined;
      track.ingest = undefined;
    }
  }

  addViewer(spec: ShardViewerSpec): void {
    const source = this.#sources.get(spec.sourceKey);
    if (!source || this.#viewers.has(spec.viewerKey)) return;
    const viewer = new ShardViewer(spec.viewerKey, source);
    for (const streamSpec of spec.streams) {
      const track = source.tracks.get(streamSpec.kind);
      if (!track) continue;
      const stream = this.#backend.createStream({ ...streamSpec, keys: spec.keys });
      stream.setTarget(spec.target);
      const entry: ShardViewerStream = {
        stream,
        track,
        counters: streamSpec.counters,
        offset: streamSpec.offset,
        pacer: new RetransmitPacer(),
        based: false,
      };
      // Stored plus one: counters start at 0, and 0 is a valid ext.
      const indexBase = streamSpec.counters[streamSpec.offset + streamCounterFields.indexBase]! - 1;
      if (indexBase >= 0) {
        stream.setIndexBase(indexBase);
        entry.based = true;
      } else {
        track.unbased.push(entry);
      }
      viewer.streams.set(streamSpec.kind, entry);
    }
    this.#viewers.set(viewer.key, viewer);
    source.viewers.add(viewer);
    for (const entry of viewer.streams.values()) {
      const { stream, track } = entry;
      if (!track.ingest && track.group.size === 0 && !spec.resume) {
        // First viewer of a followed track here: start from what the receiving shard has now.
        track.moveCursor(track.history.head);
      }
      if (track.kind === 'video' && source.keyframeCache && !spec.resume) this.#prime(source, track, entry);
      track.group.add(stream);
      if (!track.ingest) this.#follow(track);
    }
  }

  updateTarget(viewerKey: number, target: OutputTarget): void {
    const viewer = this.#viewers.get(viewerKey);
    if (!viewer) return;
    for (const { stream } of viewer.streams.values()) stream.setTarget(target);
  }

  removeViewer(viewerKey: number): void {
    const viewer = this.#viewers.get(viewerKey);
    if (!viewer) return;
    this.#viewers.delete(viewerKey);
    viewer.source.viewers.delete(viewer);
    for (const entry of viewer.streams.values()) {
      const { stream, track } = entry;
      track.group.delete(stream);
      stream.close();
      const waiting = track.unbased.indexOf(entry);
      if (waiting >= 0) track.unbased.splice(waiting, 1);
    }
  }

  /**
   * Resends what a viewer reported lost (RFC 4585 generic NACK), from the shared history and with
   * the original sequence numbers (no RTX: the answer does not negotiate it). A packet no longer
   * kept is skipped: the viewer asks for a keyframe instead.
   */
  nack(viewerKey: number, kind: TrackKind, sequenceNumbers: readonly number[]): void {
    const entry = this.#viewers.get(viewerKey)?.streams.get(kind);
    // A stream that was never sent a packet has nothing to resend.
    if (!entry?.based) return;
    const { track, stream, counters, offset, pacer } = entry;
    const count = Math.min(sequenceNumbers.length, maxNackedPerReport);
    const now = Date.now();
    for (let index = 0; index < count; index++) {
      const ext = PacketHistory.before(track.cursor, sequenceNumbers[index]! & 0xffff);
      if (track.cursor - ext > maxNackAge || !pacer.allow(ext, now)) continue;
      const length = track.history.read(ext, this.#scratch);
      if (length === 0) continue;
      if (stream.send(this.#scratch.subarray(0, length), ext) === 1) {
        counters[offset + streamCounterFields.retransmitted]!++;
      }
    }
  }

  registerSocket(id: number, handle: SocketHandle): void {
    this.#backend.registerSocket(id, handle);
  }

  forgetSocket(id: number): void {
    this.#backend.forgetSocket(id);
  }

  close(): void {
    for (const sourceKey of [...this.#sources.keys()]) this.closeSource(sourceKey);
  }

  #receive(source: ShardSource, track: ShardTrack, input: ShardTrackInput): void {
    const socket = input.socket ?? createSocket(input.family ?? 'udp4');
    if (!input.socket) socket.bind({ fd: input.fd! });
    track.socket = socket;
    track.ingest = new TrackIngest({
      kind: track.kind,
      payloadType: input.payloadType,
      history: track.history,
      stats: input.stats,
      keyframeCache: source.keyframeCache,
      maxCachedPackets: source.maxCachedPackets,
    });
    track.moveCursor(track.start());
    const ingest = track.ingest;
    // Sending waits until libuv has read what the socket holds (its read loop runs before
    // immediates): a frame the encoder wrote at once then leaves as one batch per viewer.
    socket.on('message', (packet: Buffer, remote: RemoteInfo) => {
      if (source.closed) return;
      if (ingest.receive(packet, remote.address, Date.now()) && !track.scheduled) {
        track.scheduled = true;
        setImmediate(track.onReceived);
      }
    });
    // A socket error on a loopback receiver (e.g. ICMP feedback) must not stop the shard.
    socket.on('error', () => undefined);
  }

  /** Sends every packet appended since the cursor to the track's group, as one batch. Hot path. */
  #drain(track: ShardTrack): void {
    const history = track.history;
    const head = history.head;
    let ext = track.cursor < 0 ? head : track.cursor + 1;
    if (track.group.size === 0) {
      track.moveCursor(head);
      return;
    }
    const scratch = this.#scratch;
    const group = track.group;
    for (; ext <= head; ext++) {
      const length = history.read(ext, scratch);
      if (length === 0) continue;
      if (track.unbased.length !== 0) this.#setIndexBases(track, ext);
      group.enqueue(scratch, length, ext);
    }
    group.flush();
    track.moveCursor(head);
  }

  /**
   * The waiting streams of a track are about to be sent `ext` first: their SRTP index base is that
   * packet's, as the backend would take it, and goes into their counters for a shard made again.
   */
  #setIndexBases(track: ShardTrack, ext: number): void {
    for (const entry of track.unbased) this.#setIndexBase(entry, ext);
    track.unbased.length = 0;
  }

  #setIndexBase(entry: ShardViewerStream, ext: number): void {
    entry.stream.setIndexBase(ext);
    entry.counters[entry.offset + streamCounterFields.indexBase] = ext + 1;
    entry.based = true;
  }

  /** Primes a new viewer with the cached GOP (fast start), up to what the shard has sent. */
  #prime(source: ShardSource, track: ShardTrack, entry: ShardViewerStream): void {
    const keyframe = track.history.keyframe;
    const last = track.cursor;
    if (keyframe < 0 || last < keyframe || last - keyframe >= source.maxCachedPackets) return;
    const scratch = this.#scratch;
    // The GOP is replayed only whole: a missing first packet (the SPS) makes the rest useless.
    if (track.history.read(keyframe, scratch) === 0) return;
    const stream = entry.stream;
    const waiting = track.unbased.indexOf(entry);
    if (waiting >= 0) {
      track.unbased.splice(waiting, 1);
      this.#setIndexBase(entry, keyframe);
    }
    for (let ext = keyframe; ext <= last; ext++) {
      const length = track.history.read(ext, scratch);
      if (length > 0) stream.send(scratch.subarray(0, length), ext);
    }
  }

  #follow(track: ShardTrack): void {
    if (track.waiting) return;
    const words = track.history.publishWords;
    for (;;) {
      const seen = Atomics.load(words, PacketHistory.publishIndex);
      this.#drain(track);
      if (track.group.size === 0) return;
      const wait = Atomics.waitAsync(words, PacketHistory.publishIndex, seen);
      if (!wait.async) continue;
      track.waiting = true;
      void wait.value.then(track.onPublished);
      return;
    }
  }

  #onPublished(track: ShardTrack): void {
    track.waiting = false;
    if (track.group.size > 0 && !track.ingest) this.#follow(track);
  }
}
