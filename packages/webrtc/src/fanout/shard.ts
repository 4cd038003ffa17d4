import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { VideoCodec } from '../ingest/keyframes.js';
import { clockRates, TrackIngest, type TrackKind } from '../ingest/track-ingest.js';
import { AdaptationTicker } from './adaptation-ticker.js';
import type { OutputBackend, OutputGroup, OutputStream, OutputTarget, SocketHandle } from './output.js';
import { streamCounterFields } from './output.js';
import { type Paced, PacingTimer } from './pacing-timer.js';
import { PacketHistory } from './packet-history.js';
import { RetransmitPacer } from './retransmit-pacer.js';
import { maxRtpPacket, type SrtpSessionKeys } from './srtp.js';
import { type OutputEnd, rebase, SwitchLog } from './switch-log.js';
import { type AdaptationMove, type AdaptiveViewerSpec, ViewerAdaptation } from './viewer-adaptation.js';
import { pacingRate, ViewerPacer } from './viewer-pacer.js';

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
  /** Video: which rendition (0 = the top). Audio: 0. */
  rendition: number;
  codec: VideoCodec;
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
  /**
   * Video of a source with renditions: the renditions this viewer can decode (its codec) and the
   * one it starts on. Absent: rendition 0, the top.
   */
  video?: ShardViewerVideo;
}

export interface ShardViewerVideo {
  eligible: number[];
  start: number;
  /** Congestion control decides where its video goes (`ViewerAdaptation`); absent: pins only. */
  adaptive?: AdaptiveViewerSpec;
}

/** Where a viewer's video goes: a rendition (index), or `'audio'` (video paused, audio only). */
export type RenditionTarget = number | 'audio';
/** A pin from the viewer's owner: a target, or `'auto'` (an adaptive viewer's controller decides again). */
export type RenditionPin = RenditionTarget | 'auto';

/**
 * Bounds on what one NACK can make us resend: a viewer can only ask for recent packets (libwebrtc
 * gives up on a packet after about a second) and not make the server replay its whole history at
 * will (see also RetransmitPacer). Beyond these it gets a keyframe with the next GOP instead.
 */
const maxNackAge = 2048;
const maxNackedPerReport = 256;
/** How often adaptive viewers' congestion control looks at what was sent and lost. */
const adaptationTickMs = 25;
/** A probe resends from the last this many packets of the viewer's current run. */
const maxProbeSpan = 64;

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
  /** Viewers' streams that move to this track at its next keyframe. */
  readonly joining: ShardViewerStream[] = [];
  /** Adaptive viewers' video sent this track through their pacers (not members of the group). */
  readonly paced: PacedVideo[] = [];
  readonly onPublished: () => void;
  readonly onReceived: () => void;

  constructor(
    readonly kind: TrackKind,
    readonly rendition: number,
    readonly codec: VideoCodec,
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

  /** Someone here is sent this track or waits for its next keyframe. */
  get busy(): boolean {
    return this.group.size !== 0 || this.joining.length !== 0 || this.paced.length !== 0;
  }

  /** Hot path, once per batch: the cursor moved (kept where a shard made again finds it). */
  moveCursor(ext: number): void {
    this.cursor = ext;
    if (this.sent) this.sent[0] = ext;
  }
}

class ShardSource {
  /** Audio, and the video renditions (0 = the top). */
  readonly tracks: ShardTrack[] = [];
  readonly viewers = new Set<ShardViewer>();
  closed = false;

  constructor(
    readonly key: number,
    readonly keyframeCache: boolean,
    readonly maxCachedPackets: number,
  ) {}

  track(kind: TrackKind, rendition = 0): ShardTrack | undefined {
    for (const track of this.tracks) if (track.kind === kind && track.rendition === rendition) return track;
    return undefined;
  }

  /** Renditions need keyframes marked even where the cache does not prime new viewers. */
  get marksKeyframes(): boolean {
    return this.keyframeCache || this.tracks.some((track) => track.rendition > 0);
  }
}

interface ShardViewerStream {
  stream: OutputStream;
  track: ShardTrack;
  counters: Float64Array;
  offset: number;
  pacer: RetransmitPacer;
  /** The stream's SRTP index base is set (and in its counters). */
  based: boolean;
  /** Its output space (`OutputStream.setOffsets`): 0 until the viewer moves to another rendition. */
  seqOffset: number;
  tsOffset: number;
  /** Video paused (audio only): `track` is the one it was last sent, no longer its group's member. */
  paused: OutputEnd | undefined;
  /** The track it joins at that track's next keyframe. */
  pending: ShardTrack | undefined;
  /** The runs of its output space, from its first switch on (for NACKs of packets sent before it). */
  log: SwitchLog<ShardTrack> | undefined;
  /** An adaptive viewer's video: told of every switch. */
  adaptation: ViewerAdaptation | undefined;
  /** Packets the viewer NACKed for the first time since the last adaptation tick (its losses). */
  nacked: number;
  /** The newest output ext counted in `nacked`. */
  lostUpTo: number;
  /** An adaptive viewer's video: sent through its pacer instead of its track's group. */
  paced: PacedVideo | undefined;
}

/** Adaptation ticks in the second over which an adaptive viewer's offered video rate is measured. */
const offeredSlots = 40;
/** Audio on the wire beside an adaptive viewer's video, for its pacing rate's floor (Opus 64 kbit/s with headers). */
const pacedAudioBps = 87_000;

/**
 * An adaptive viewer's video through its pacer (`ViewerPacer`): its packets are offered as the
 * track is drained, and what has to wait goes out on the shard's pacing timer, each with the
 * output offsets it had when it was queued (a switch may come in between).
 */
class PacedVideo implements Paced {
  readonly pacer: ViewerPacer<ShardTrack>;
  /** The pacer's drops already added to the stream's `dropped` counter. */
  droppedReported = 0;
  /** Video bytes offered so far, and their rate over the last second (bit/s). */
  offeredOctets = 0;
  offeredBps = 0;
  #offeredSeen = 0;
  /** The last second of ticks: bytes offered and milliseconds covered by each. */
  readonly #slotOctets = new Float64Array(offeredSlots);
  readonly #slotMs = new Float64Array(offeredSlots);
  #slot = 0;
  readonly #entry: ShardViewerStream;
  readonly #viewer: ShardViewer;
  readonly #scratch: Buffer;

  constructor(entry: ShardViewerStream, viewer: ShardViewer, scratch: Buffer) {
    this.#entry = entry;
    this.#viewer = viewer;
    this.#scratch = scratch;
    this.pacer = new ViewerPacer((track, ext, seqOffset, tsOffset) =>
      this.#send(track, ext, seqOffset, tsOffset),
    );
  }

  /** Everything the viewer was sent so far (audio, video, retransmissions, probes), bytes. */
  octets(): number {
    let octets = 0;
    for (const stream of this.#viewer.list)
      octets += stream.counters[stream.offset + streamCounterFields.octets]!;
    return octets;
  }

  /** Hot path: packet `ext` of `track` (in the shard's scratch, `length` bytes) for this viewer. */
  offer(nowMs: number, track: ShardTrack, ext: number, length: number, keyframeStart: boolean): void {
    const entry = this.#entry;
    this.offeredOctets += length;
    this.pacer.offer(
      nowMs,
      this.octets(),
      track,
      ext,
      entry.seqOffset,
      entry.tsOffset,
      length,
      keyframeStart,
    );
  }

  /** One tick (`elapsedMs` since the last): the rate offered over the last second, or since the first tick. */
  measureOffered(elapsedMs: number): void {
    const slot = this.#slot;
    this.#slotOctets[slot] = this.offeredOctets - this.#offeredSeen;
    this.#slotMs[slot] = elapsedMs;
    this.#offeredSeen = this.offeredOctets;
    this.#slot = (slot + 1) % offeredSlots;
    let octets = 0;
    let ms = 0;
    for (let index = 0; index < offeredSlots; index++) {
      octets += this.#slotOctets[index]!;
      ms += this.#slotMs[index]!;
    }
    this.offeredBps = ms > 0 ? (octets * 8000) / ms : 0;
    this.measuredMs = ms;
  }

  /** How long `offeredBps` covers (at most a second). */
  measuredMs = 0;

  drainPaced(nowMs: number): number {
    return this.pacer.drain(nowMs, this.octets());
  }

  #send(track: ShardTrack, ext: number, seqOffset: number, tsOffset: number): number {
    const scratch = this.#scratch;
    const length = track.history.read(ext, scratch);
    if (length === 0) return 0;
    const { stream } = this.#entry;
    const earlier = seqOffset !== this.#entry.seqOffset || tsOffset !== this.#entry.tsOffset;
    if (earlier) stream.setOffsets(seqOffset, tsOffset);
    const sent = stream.send(scratch.subarray(0, length), ext);
    if (earlier) stream.setOffsets(this.#entry.seqOffset, this.#entry.tsOffset);
    return sent === 1 ? length : 0;
  }
}

/** Where a paused stream's output stood, from its counters (a shard made again). */
function pausedEnd(counters: Float64Array, offset: number): OutputEnd {
  return {
    outExt: counters[offset + streamCounterFields.pausedOutExt]! - 1,
    outTs: counters[offset + streamCounterFields.pausedOutTs]!,
    arrivalMs: Date.now(),
  };
}

class ShardViewer {
  readonly streams = new Map<TrackKind, ShardViewerStream>();
  /** The same streams, for loops on the hot path (no iterator). */
  readonly list: ShardViewerStream[] = [];
  /** Adaptation ticks: the video packets and all octets sent by the last one. */
  sentPackets = 0;
  sentOctets = 0;
  /** A running probe: until when, at what rate in all, and the next duplicate to send. */
  probeStartMs = 0;
  probeUntilMs = 0;
  probeRateBps = 0;
  probeNext = -1;
  /** Duplicates sent since the last tick (not video sent, for the loss figures). */
  duplicates = 0;

  constructor(
    readonly key: number,
    readonly source: ShardSource,
    /** Renditions its video may be sent (indexes). */
    readonly eligible: readonly number[],
    readonly adaptation: ViewerAdaptation | undefined,
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
  /** Pacers' sends read here: they may run while `#scratch` holds the packet being drained. */
  readonly #pacedScratch = Buffer.allocUnsafe(maxRtpPacket);
  readonly #ticker: AdaptationTicker<ShardViewer>;
  readonly #pacing = new PacingTimer<PacedVideo>();

  constructor(backend: OutputBackend) {
    this.#backend = backend;
    this.#ticker = new AdaptationTicker(
      (viewer, nowMs, elapsedMs) => this.#tick(viewer, nowMs, elapsedMs),
      adaptationTickMs,
    );
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
      let track = source.track(trackSpec.kind, trackSpec.rendition);
      if (!track) {
        track = new ShardTrack(
          trackSpec.kind,
          trackSpec.rendition,
          trackSpec.codec,
          PacketHistory.attach(trackSpec.history),
          trackSpec.sent,
          this.#backend,
          (published) => this.#onPublished(published),
          (received) => {
            received.scheduled = false;
            this.#drain(received);
          },
        );
        source.tracks.push(track);
      }
    }
    // Once every track is known: whether keyframes are marked depends on all of them.
    for (const trackSpec of spec.tracks) {
      const track = source.track(trackSpec.kind, trackSpec.rendition)!;
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
    for (const track of source.tracks) {
      track.socket?.close();
      track.socket = undefined;
      track.ingest = undefined;
    }
  }

  addViewer(spec: ShardViewerSpec): void {
    const source = this.#sources.get(spec.sourceKey);
    if (!source || this.#viewers.has(spec.viewerKey)) return;
    const adaptive = spec.video?.adaptive;
    const viewer = new ShardViewer(
      spec.viewerKey,
      source,
      spec.video?.eligible ?? [0],
      adaptive ? new ViewerAdaptation(adaptive) : undefined,
    );
    for (const streamSpec of spec.streams) {
      const { counters, offset } = streamSpec;
      // A viewer taken on again after its worker died goes on where its counters say it was.
      const rendition =
        streamSpec.kind === 'audio'
          ? 0
          : spec.resume
            ? counters[offset + streamCounterFields.rendition]!
            : (spec.video?.start ?? 0);
      const track = source.track(streamSpec.kind, Math.max(0, rendition)) ?? source.track(streamSpec.kind);
      if (!track) continue;
      const stream = this.#backend.createStream({ ...streamSpec, keys: spec.keys });
      stream.setTarget(spec.target);
      const entry: ShardViewerStream = {
        stream,
        track,
        counters,
        offset,
        pacer: new RetransmitPacer(),
        based: false,
        seqOffset: spec.resume ? counters[offset + streamCounterFields.seqOffset]! : 0,
        tsOffset: spec.resume ? counters[offset + streamCounterFields.tsOffset]! : 0,
        paused: rendition < 0 ? pausedEnd(counters, offset) : undefined,
        pending: undefined,
        log: undefined,
        adaptation: streamSpec.kind === 'video' ? viewer.adaptation : undefined,
        nacked: 0,
        lostUpTo: -1,
        paced: undefined,
      };
      if (streamSpec.kind === 'video' && viewer.adaptation) {
        entry.paced = new PacedVideo(entry, viewer, this.#pacedScratch);
      }
      counters[offset + streamCounterFields.rendition] = rendition < 0 ? -1 : track.rendition;
      if (entry.seqOffset !== 0 || entry.tsOffset !== 0) stream.setOffsets(entry.seqOffset, entry.tsOffset);
      // Stored plus one: counters start at 0, and 0 is a valid ext.
      const indexBase = counters[offset + streamCounterFields.indexBase]! - 1;
      if (indexBase >= 0) {
        stream.setIndexBase(indexBase);
        entry.based = true;
      } else if (!entry.paused) {
        track.unbased.push(entry);
      }
      viewer.streams.set(streamSpec.kind, entry);
      viewer.list.push(entry);
    }
    this.#viewers.set(viewer.key, viewer);
    source.viewers.add(viewer);
    if (viewer.adaptation) this.#ticker.add(viewer);
    for (const entry of viewer.streams.values()) {
      if (entry.paused) continue;
      const { track } = entry;
      if (!track.ingest && !track.busy && !spec.resume) {
        // First viewer of a followed track here: start from what the receiving shard has now.
        track.moveCursor(track.history.head);
      }
      if (track.kind === 'video' && source.keyframeCache && !spec.resume) this.#prime(source, track, entry);
      this.#attach(entry, track);
      if (!track.ingest) this.#follow(track);
    }
  }

  /**
   * Moves a viewer's video to rendition `target` at that rendition's next keyframe (until then it
   * keeps getting the one it has, so a switch never freezes by itself), or pauses it at once
   * (`'audio'`: audio goes on). A paused viewer resumes from the target's keyframe cache when that
   * keyframe is newer than the pause (a browser drops frames older than what it has shown), else at
   * the next keyframe. Sequence numbers and timestamps stay continuous for the viewer throughout.
   * A rendition the viewer cannot decode, or that the source does not have, is ignored.
   */
  pinRendition(viewerKey: number, pin: RenditionPin): void {
    const viewer = this.#viewers.get(viewerKey);
    if (!viewer) return;
    // An adaptive viewer's pins go through its controller, whose state follows them.
    if (viewer.adaptation) this.#apply(viewer, viewer.adaptation.pin(Date.now(), pin));
    else if (pin !== 'auto') this.#moveVideo(viewer, pin);
  }

  /**
   * One transport-wide congestion control feedback packet (RTCP, decrypted) of an adaptive viewer:
   * its controller may move the viewer. Ignored for other viewers.
   */
  feedback(viewerKey: number, rtcp: Uint8Array): void {
    const viewer = this.#viewers.get(viewerKey);
    if (viewer?.adaptation) this.#apply(viewer, viewer.adaptation.feedback(Date.now(), rtcp));
  }

  /** A REMB of an adaptive viewer (bit/s): its browser's own estimate of its link. */
  receiverEstimate(viewerKey: number, bps: number): void {
    this.#viewers.get(viewerKey)?.adaptation?.remb(Date.now(), bps);
  }

  /**
   * An adaptive viewer's periodic look at what it was sent and lost (REMB mode), and its probe:
   * while one runs, recent video packets go again so that all it is sent adds up to the probe's
   * rate (its SRTP replay check drops them once they arrived; on the link they weigh as media).
   */
  #tick(viewer: ShardViewer, nowMs: number, elapsedMs: number): void {
    const adaptation = viewer.adaptation!;
    const entry = viewer.streams.get('video');
    let packets = 0;
    let octets = 0;
    for (const stream of viewer.streams.values()) {
      const counters = stream.counters;
      octets += counters[stream.offset + streamCounterFields.octets]!;
      // Media packets: a retransmission is not one more packet the link could lose.
      if (stream === entry)
        packets =
          counters[stream.offset + streamCounterFields.packets]! -
          counters[stream.offset + streamCounterFields.retransmitted]!;
    }
    const sentPackets = Math.max(0, packets - viewer.sentPackets - viewer.duplicates);
    // What the viewer was sent (media and retransmissions) since the last tick, bytes.

    const sentOctets = octets - viewer.sentOctets;
    viewer.sentPackets = packets;
    viewer.sentOctets = octets;
    viewer.duplicates = 0;
    const lost = entry ? entry.nacked : 0;
    if (entry) entry.nacked = 0;
    this.#apply(viewer, adaptation.tick(nowMs, sentPackets, lost, sentOctets));
    if (entry) {
      entry.counters[entry.offset + streamCounterFields.estimateBps] = adaptation.estimateBps;
      entry.counters[entry.offset + streamCounterFields.switches] = adaptation.switches;
      entry.counters[entry.offset + streamCounterFields.loss] = adaptation.loss;
    }
    if (entry?.paced) this.#pace(viewer, entry, entry.paced, nowMs, elapsedMs);
    if (entry && nowMs < viewer.probeUntilMs && !entry.paused) {
      // At most two ticks' share at once: a late tick must not become a burst a shaper drops.
      const slice = Math.min(elapsedMs, 2 * adaptationTickMs);
      // The rate ramps from half the probe's to all of it over 3/4 of the probe: an overshoot is
      // seen (a REMB drop, NACKs) and the probe stopped before it is twice what the link carries.
      const ramp = Math.min(
        1,
        (nowMs - viewer.probeStartMs) / (0.75 * (viewer.probeUntilMs - viewer.probeStartMs)),
      );
      const rate = viewer.probeRateBps * (0.5 + 0.5 * ramp);
      this.#duplicate(entry, viewer, (rate * slice) / 8000 - sentOctets);
    }
  }

  /**
   * The viewer's pacing rate follows its estimate, its rendition and its probe; its drops are
   * counted. The rendition's rate is the larger of what it was said to be and what it was measured
   * to send: a copied top's rate is whatever was measured when the viewer came, and the estimate
   * (in REMB mode mostly what was delivered) must never hold the pacer below the media, or it
   * would only ever measure what the pacer let through.
   */
  #pace(
    viewer: ShardViewer,
    entry: ShardViewerStream,
    paced: PacedVideo,
    nowMs: number,
    elapsedMs: number,
  ): void {
    const adaptation = viewer.adaptation!;
    const probeBps = nowMs < viewer.probeUntilMs ? viewer.probeRateBps : 0;
    paced.measureOffered(elapsedMs);
    const renditionBps = entry.paused
      ? 0
      : Math.max(adaptation.renditionBps(entry.track.rendition), paced.offeredBps);
    const audioBps = viewer.streams.has('audio') ? pacedAudioBps : 0;
    const pacer = paced.pacer;
    // Unpaced until half a second of the viewer's video says what its rendition sends.
    const rate =
      paced.measuredMs < 500
        ? Number.POSITIVE_INFINITY
        : pacingRate(adaptation.estimateBps, renditionBps, audioBps, probeBps);
    pacer.setRate(nowMs, paced.octets(), rate);
    const dropped = pacer.dropped - paced.droppedReported;
    if (dropped > 0) {
      entry.counters[entry.offset + streamCounterFields.dropped]! += dropped;
      paced.droppedReported = pacer.dropped;
    }
  }

  /**
   * Sends the viewer's most recent video packets again, up to `budget` bytes, and leaves them out
   * of the next tick's figures (they are neither media sent nor the probe's next share).
   */
  #duplicate(entry: ShardViewerStream, viewer: ShardViewer, budget: number): void {
    const track = entry.track;
    // Only packets of its current run: earlier numbers of its output space carried another rendition.
    const segment = entry.log?.find(track.cursor + entry.seqOffset);
    const first = Math.max(track.cursor - maxProbeSpan, segment ? segment.outStart - entry.seqOffset : 0);
    if (viewer.probeNext < first || viewer.probeNext > track.cursor) viewer.probeNext = first;
    const scratch = this.#scratch;
    let sent = 0;
    for (let tries = 0; budget > 0 && tries <= maxProbeSpan; tries++) {
      const ext = viewer.probeNext;
      viewer.probeNext = ext >= track.cursor ? first : ext + 1;
      const length = track.history.read(ext, scratch);
      if (length === 0) continue;
      if (entry.stream.send(scratch.subarray(0, length), ext) !== 1) break;
      budget -= length;
      viewer.sentOctets += length;
      sent++;
    }
    viewer.duplicates = sent;
  }

  #apply(viewer: ShardViewer, move: AdaptationMove | undefined): void {
    if (!move) return;
    if (move.kind === 'probe') {
      viewer.probeStartMs = Date.now();
      viewer.probeUntilMs = viewer.probeStartMs + move.probeDurationMs;
      viewer.probeRateBps = move.probeRateBps;
      return;
    }
    viewer.probeUntilMs = 0;
    if (move.kind === 'probe-stop') return;
    const entry = viewer.streams.get('video');
    // An emergency: nothing more of the current rendition, the target joins at its next keyframe.
    if (move.pauseNow && entry) this.#pause(entry);
    this.#moveVideo(viewer, move.rendition);
  }

  #moveVideo(viewer: ShardViewer, target: RenditionTarget): void {
    const entry = viewer.streams.get('video');
    if (!entry) return;
    this.#cancelPending(entry);
    if (target === 'audio') {
      this.#pause(entry);
      return;
    }
    const track = viewer.eligible.includes(target) ? viewer.source.track('video', target) : undefined;
    if (!track || (track === entry.track && !entry.paused)) return;
    if (!track.ingest && !track.busy) track.moveCursor(track.history.head);
    if (entry.paused && this.#resumeFromCache(viewer.source, track, entry)) return;
    entry.pending = track;
    track.joining.push(entry);
    if (!track.ingest) this.#follow(track);
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
    this.#ticker.delete(viewer);
    for (const entry of viewer.streams.values()) {
      const { stream, track } = entry;
      this.#detach(entry, track);
      if (entry.paced) this.#pacing.delete(entry.paced);
      stream.close();
      const waiting = track.unbased.indexOf(entry);
      if (waiting >= 0) track.unbased.splice(waiting, 1);
      this.#cancelPending(entry);
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
    const { stream, counters, offset, pacer, log } = entry;
    const newest = entry.paused ? entry.paused.outExt : entry.track.cursor + entry.seqOffset;
    const count = Math.min(sequenceNumbers.length, maxNackedPerReport);
    const now = Date.now();
    for (let index = 0; index < count; index++) {
      // Numbers are the viewer's: sent from the run (rendition, offsets) the switch log says.
      const outExt = PacketHistory.before(newest, sequenceNumbers[index]! & 0xffff);
      const segment = log?.find(outExt);
      const track = segment ? segment.track : entry.track;
      const seqOffset = segment ? segment.seqOffset : entry.seqOffset;
      const ext = outExt - seqOffset;
      // A loss report of the current run, counted once: what the adaptation weighs against what was sent.
      if (
        !entry.paused &&
        outExt > entry.lostUpTo &&
        track === entry.track &&
        seqOffset === entry.seqOffset
      ) {
        entry.lostUpTo = outExt;
        entry.nacked++;
      }
      if (track.cursor - ext > maxNackAge || !pacer.allow(outExt, now)) continue;
      const length = track.history.read(ext, this.#scratch);
      if (length === 0) continue;
      const earlier =
        segment !== undefined && (seqOffset !== entry.seqOffset || segment.tsOffset !== entry.tsOffset);
      if (earlier) stream.setOffsets(seqOffset, segment.tsOffset);
      const sent = stream.send(this.#scratch.subarray(0, length), ext);
      if (earlier) stream.setOffsets(entry.seqOffset, entry.tsOffset);
      if (sent === 1) counters[offset + streamCounterFields.retransmitted]!++;
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
    this.#ticker.close();
    this.#pacing.close();
  }

  #receive(source: ShardSource, track: ShardTrack, input: ShardTrackInput): void {
    const socket = input.socket ?? createSocket(input.family ?? 'udp4');
    if (!input.socket) socket.bind({ fd: input.fd! });
    track.socket = socket;
    track.ingest = new TrackIngest({
      kind: track.kind,
      payloadType: input.payloadType,
      codec: track.codec,
      history: track.history,
      stats: input.stats,
      keyframeCache: source.marksKeyframes,
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
    if (!track.busy) {
      track.moveCursor(head);
      return;
    }
    const scratch = this.#scratch;
    const group = track.group;
    // Viewers waiting for this track join at the first packet of a keyframe in this batch: what
    // came before it goes out first, to the members only.
    const keyframe = track.joining.length === 0 ? -1 : history.keyframe;
    const joinAt = keyframe >= ext && keyframe <= head ? keyframe : -1;
    const now = track.paced.length !== 0 || joinAt >= 0 ? Date.now() : 0;
    for (; ext <= head; ext++) {
      if (ext === joinAt) {
        group.flush();
        this.#join(track, ext);
      }
      const length = history.read(ext, scratch);
      if (length === 0) continue;
      if (track.unbased.length !== 0) this.#setIndexBases(track, ext);
      group.enqueue(scratch, length, ext);
      const paced = track.paced;
      if (paced.length === 0) continue;
      const keyframeStart = ext === history.keyframe;
      for (let index = 0; index < paced.length; index++)
        paced[index]!.offer(now, track, ext, length, keyframeStart);
    }
    group.flush();
    track.moveCursor(head);
    for (let index = 0; index < track.paced.length; index++) {
      const paced = track.paced[index]!;
      this.#pacing.schedule(paced, now, paced.drainPaced(now));
    }
  }

  /** A viewer's stream is sent `track` from now on: through its pacer, or as a member of the group. */
  #attach(entry: ShardViewerStream, track: ShardTrack): void {
    if (entry.paced) {
      if (!track.paced.includes(entry.paced)) track.paced.push(entry.paced);
    } else {
      track.group.add(entry.stream);
    }
  }

  #detach(entry: ShardViewerStream, track: ShardTrack): void {
    if (entry.paced) {
      const index = track.paced.indexOf(entry.paced);
      if (index >= 0) track.paced.splice(index, 1);
    } else {
      track.group.delete(entry.stream);
    }
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
    const outExt = ext + entry.seqOffset;
    entry.stream.setIndexBase(outExt);
    entry.counters[entry.offset + streamCounterFields.indexBase] = outExt + 1;
    entry.based = true;
  }

  /** The joining viewers of `track` move to it: `ext` (the first packet of a keyframe) is their next. */
  #join(track: ShardTrack, ext: number): void {
    const length = track.history.read(ext, this.#scratch);
    if (length === 0) return;
    const timestamp = this.#scratch.readUInt32BE(4);
    const now = Date.now();
    for (const entry of track.joining) this.#moveTo(entry, track, ext, timestamp, now);
    track.joining.length = 0;
  }

  /**
   * Puts a viewer's stream on `track` from `firstExt` on (a packet of timestamp `firstTs` that
   * arrived at `firstArrivalMs`), in an output space that continues what it was sent before.
   */
  #moveTo(
    entry: ShardViewerStream,
    track: ShardTrack,
    firstExt: number,
    firstTs: number,
    firstArrivalMs: number,
  ): void {
    const end = entry.based ? (entry.paused ?? this.#outputEnd(entry)) : undefined;
    this.#leaveGroup(entry);
    entry.pending = undefined;
    entry.paused = undefined;
    const { seqOffset, tsOffset } =
      end && end.outExt >= 0
        ? rebase(end, firstExt, firstTs, firstArrivalMs, clockRates[track.kind])
        : { seqOffset: 0, tsOffset: 0 };
    if (end) {
      entry.log ??= new SwitchLog();
      if (entry.log.size === 0) {
        entry.log.push({
          outStart: 0,
          track: entry.track,
          seqOffset: entry.seqOffset,
          tsOffset: entry.tsOffset,
        });
      }
      entry.log.push({ outStart: firstExt + seqOffset, track, seqOffset, tsOffset });
    }
    entry.seqOffset = seqOffset;
    entry.tsOffset = tsOffset;
    entry.track = track;
    entry.stream.setOffsets(seqOffset, tsOffset);
    const counters = entry.counters;
    counters[entry.offset + streamCounterFields.seqOffset] = seqOffset;
    counters[entry.offset + streamCounterFields.tsOffset] = tsOffset;
    counters[entry.offset + streamCounterFields.rendition] = track.rendition;
    if (!entry.based) track.unbased.push(entry);
    this.#attach(entry, track);
    entry.adaptation?.switched(firstArrivalMs, track.rendition);
  }

  /** The newest packet a viewer's stream was sent from its current track, in its output space. */
  #outputEnd(entry: ShardViewerStream): OutputEnd {
    const track = entry.track;
    const length = track.history.read(track.cursor, this.#scratch);
    const clock = track.history.clock();
    const timestamp = length > 0 ? this.#scratch.readUInt32BE(4) : (clock?.rtpTimestamp ?? 0);
    return {
      outExt: track.cursor + entry.seqOffset,
      outTs: (timestamp + entry.tsOffset) >>> 0,
      arrivalMs: clock?.arrivalMs ?? Date.now(),
    };
  }

  /** Stops sending a viewer video at once (audio only); it keeps its place for a resume. */
  #pause(entry: ShardViewerStream): void {
    if (entry.paused) return;
    const end = entry.based ? this.#outputEnd(entry) : { outExt: -1, outTs: 0, arrivalMs: 0 };
    this.#leaveGroup(entry);
    // Nothing more of it: what still waits in its pacer would only delay the link's draining.
    entry.paced?.pacer.clear();
    entry.paused = end;
    const { counters, offset } = entry;
    counters[offset + streamCounterFields.rendition] = -1;
    counters[offset + streamCounterFields.pausedOutExt] = end.outExt + 1;
    counters[offset + streamCounterFields.pausedOutTs] = end.outTs;
    entry.adaptation?.switched(Date.now(), -1);
  }

  /**
   * A paused viewer goes back to video from `track`'s cached keyframe, if that arrived after the
   * pause (its pictures are newer than the last one shown): no wait for the next keyframe.
   */
  #resumeFromCache(source: ShardSource, track: ShardTrack, entry: ShardViewerStream): boolean {
    const history = track.history;
    const keyframe = history.keyframe;
    const last = track.cursor;
    if (keyframe < 0 || last < keyframe || last - keyframe >= source.maxCachedPackets) return false;
    if (entry.paused && entry.paused.outExt >= 0 && history.keyframeAt <= entry.paused.arrivalMs)
      return false;
    const scratch = this.#scratch;
    if (history.read(keyframe, scratch) === 0) return false;
    this.#moveTo(entry, track, keyframe, scratch.readUInt32BE(4), history.keyframeAt);
    if (!track.ingest) this.#follow(track);
    this.#replay(track, entry, keyframe, last);
    return true;
  }

  /** Sends a stream `from` … `last` of its track, one by one (a primer). */
  #replay(track: ShardTrack, entry: ShardViewerStream, from: number, last: number): void {
    const waiting = track.unbased.indexOf(entry);
    if (waiting >= 0) {
      track.unbased.splice(waiting, 1);
      this.#setIndexBase(entry, from);
    }
    const scratch = this.#scratch;
    for (let ext = from; ext <= last; ext++) {
      const length = track.history.read(ext, scratch);
      if (length > 0) entry.stream.send(scratch.subarray(0, length), ext);
    }
  }

  /** The stream leaves its track's group (paused or moving); nothing more of that track reaches it. */
  #leaveGroup(entry: ShardViewerStream): void {
    if (entry.paused) return;
    const track = entry.track;
    this.#detach(entry, track);
    const waiting = track.unbased.indexOf(entry);
    if (waiting >= 0) track.unbased.splice(waiting, 1);
  }

  #cancelPending(entry: ShardViewerStream): void {
    const pending = entry.pending;
    if (!pending) return;
    entry.pending = undefined;
    const index = pending.joining.indexOf(entry);
    if (index >= 0) pending.joining.splice(index, 1);
  }

  /** Primes a new viewer with the cached GOP (fast start), up to what the shard has sent. */
  #prime(source: ShardSource, track: ShardTrack, entry: ShardViewerStream): void {
    const keyframe = track.history.keyframe;
    const last = track.cursor;
    if (keyframe < 0 || last < keyframe || last - keyframe >= source.maxCachedPackets) return;
    // The GOP is replayed only whole: a missing first packet (the SPS) makes the rest useless.
    if (track.history.read(keyframe, this.#scratch) === 0) return;
    this.#replay(track, entry, keyframe, last);
  }

  #follow(track: ShardTrack): void {
    if (track.waiting) return;
    const words = track.history.publishWords;
    for (;;) {
      const seen = Atomics.load(words, PacketHistory.publishIndex);
      this.#drain(track);
      if (!track.busy) return;
      const wait = Atomics.waitAsync(words, PacketHistory.publishIndex, seen);
      if (!wait.async) continue;
      track.waiting = true;
      void wait.value.then(track.onPublished);
      return;
    }
  }

  #onPublished(track: ShardTrack): void {
    track.waiting = false;
    if (track.busy && !track.ingest) this.#follow(track);
  }
}
