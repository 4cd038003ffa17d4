import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { RenditionConfigError, SourceClosedError } from '../errors.js';
import { FanoutPlane } from '../fanout/fanout-plane.js';
import type { PlaneSource, PlaneViewer, PlaneViewerSpec } from '../fanout/plane-handles.js';
import { readVideoHealth, type VideoHealth } from './h264-inspector.js';
import type { VideoCodec } from './keyframes.js';
import { type TrackKind, trackStatCount, trackStatFields } from './track-ingest.js';

export type { VideoCodec } from './keyframes.js';
export type { TrackKind } from './track-ingest.js';

export interface RtpTrackInput {
  /** A bound socket to take over (e.g. from @dragon/portalloc); the source closes it. */
  socket?: Socket;
  /** Or a port to bind on `host`. */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** The payload type FFmpeg stamps on this track. */
  payloadType: number;
}

/** A video leg: the top, or one of its renditions. */
export interface VideoTrackInput extends RtpTrackInput {
  /** What the leg carries. @default 'h264' */
  codec?: VideoCodec;
}

/**
 * A lower rendition of the source's video, received on its own leg (e.g. a scaled encode of the
 * same FFmpeg): rendition 1, 2… in the order given, the top being 0.
 */
export interface RenditionInput extends VideoTrackInput {
  /** '480p', '360p', 'vp8-360p'…: unique in the source, and not the top's `'top'`. */
  id: string;
  /** The configured bitrate, kbit/s (sizes its history; ordering and policy). 0: not known. */
  bitrateKbit: number;
  height?: number;
}

/** A video rendition as the source sees it: configuration, whether this run sends it, what it got. */
export interface RenditionInfo {
  /** 0 = the top, then the renditions in the order they were given. */
  index: number;
  /** `'top'` for rendition 0. */
  id: string;
  codec: VideoCodec;
  port: number;
  height: number | undefined;
  /** Configured, kbit/s (0: not known, e.g. a copied top). */
  bitrateKbit: number;
  /** Measured over the last second. */
  bitrateBps: number;
  /** The current run of FFmpeg sends it (`setActiveRenditions`). */
  active: boolean;
  packets: number;
  keyframes: number;
  /** Since the newest keyframe arrived; null before the first. */
  keyframeAgeMs: number | null;
}

export interface TrackStats {
  packets: number;
  bytes: number;
  /** Datagrams dropped: not from loopback, not RTP, or another payload type (FFmpeg's RTCP included). */
  dropped: number;
  bitrateBps: number;
  lastPacketAt: number | null;
}

export interface RtpSourceOptions {
  id: string;
  /** The top video leg: rendition 0, what viewers get unless moved to another. */
  video: VideoTrackInput;
  /**
   * Lower renditions, high to low, each on its own leg; none by default, and a source without them
   * behaves and costs exactly as before they existed.
   */
  renditions?: RenditionInput[];
  audio?: RtpTrackInput;
  /** Keep the packets since the last keyframe and prime new viewers with them. @default true */
  keyframeCache?: boolean;
  /** Bound on the keyframe cache; a longer GOP stops caching until the next keyframe. @default 4000 */
  maxCachedPackets?: number;
  /**
   * The data plane that receives and sends this source's packets. @default FanoutPlane.shared()
   */
  plane?: FanoutPlane;
}

/**
 * The receiving end of one process's RTP legs: loopback UDP sockets bound for the process's whole
 * life. Their packets are received by the data plane ({@link FanoutPlane}): validated, made
 * continuous across FFmpeg restarts, kept in a shared history and sent to every connected peer.
 */
export class RtpSource extends EventEmitter<{
  closed: [];
  keyframeRequest: [];
  /** The number of viewers whose video is in `codec` changed (a VP8 encode made on demand follows it). */
  demand: [codec: VideoCodec, viewers: number];
}> {
  readonly id: string;
  readonly #fanout: PlaneSource;
  readonly #videoPort: number;
  readonly #audioPort: number | undefined;
  readonly #renditions: RenditionConfig[];
  #closed = false;
  #active = { video: true, audio: true };
  readonly #demand = new Map<VideoCodec, number>();

  private constructor(
    id: string,
    fanout: PlaneSource,
    renditions: RenditionConfig[],
    audioPort: number | undefined,
  ) {
    super();
    // Every viewer listens for 'closed': hundreds of listeners are the design, not a leak.
    this.setMaxListeners(0);
    this.id = id;
    this.#fanout = fanout;
    this.#renditions = renditions;
    this.#videoPort = renditions[0]!.port;
    this.#audioPort = audioPort;
  }

  /**
   * Takes over the given bound sockets, or binds the given ports on loopback.
   * @throws RenditionConfigError for a rendition id used twice (or `'top'`)
   */
  static async open(options: RtpSourceOptions): Promise<RtpSource> {
    const plane = options.plane ?? FanoutPlane.shared();
    if (plane.closed) throw new SourceClosedError(options.id);
    const renditions = options.renditions ?? [];
    const ids = new Set(['top']);
    for (const rendition of renditions) {
      if (ids.has(rendition.id)) throw new RenditionConfigError(options.id, rendition.id);
      ids.add(rendition.id);
    }
    const legs: { kind: TrackKind; input: VideoTrackInput; config?: RenditionInput }[] = [
      { kind: 'video', input: options.video },
      ...renditions.map((config) => ({ kind: 'video' as const, input: config, config })),
      ...(options.audio ? [{ kind: 'audio' as const, input: options.audio }] : []),
    ];
    const sockets: Socket[] = [];
    try {
      for (const leg of legs) sockets.push(await socketFor(leg.input));
    } catch (error) {
      for (const socket of sockets) socket.close();
      throw error;
    }
    const configs: RenditionConfig[] = legs.flatMap((leg, index) =>
      leg.kind === 'video'
        ? [
            {
              id: leg.config?.id ?? 'top',
              codec: leg.input.codec ?? 'h264',
              port: sockets[index]!.address().port,
              height: leg.config?.height,
              bitrateKbit: leg.config?.bitrateKbit ?? 0,
              active: true,
            },
          ]
        : [],
    );
    const audioPort = options.audio ? sockets.at(-1)!.address().port : undefined;
    let fanout: PlaneSource;
    try {
      fanout = plane.openSource({
        tracks: legs.map((leg, index) => ({
          kind: leg.kind,
          socket: sockets[index]!,
          payloadType: leg.input.payloadType,
          rendition: leg.kind === 'video' ? index : 0,
          codec: leg.input.codec ?? 'h264',
          bitrateKbit: leg.config?.bitrateKbit ?? 0,
        })),
        keyframeCache: options.keyframeCache ?? true,
        maxCachedPackets: options.maxCachedPackets ?? 4000,
      });
    } catch (error) {
      for (const socket of sockets) socket.close();
      throw error;
    }
    return new RtpSource(options.id, fanout, configs, audioPort);
  }

  get videoPort(): number {
    return this.#videoPort;
  }

  get audioPort(): number | undefined {
    return this.#audioPort;
  }

  /** The source sends audio: it has an audio socket and the current run has an audio leg. */
  get hasAudio(): boolean {
    return this.#audioPort !== undefined && this.#active.audio;
  }

  /** The current run has a video leg (an audio-only input has none). */
  get hasVideo(): boolean {
    return this.#active.video;
  }

  /**
   * Which tracks the current run of FFmpeg sends (both by default): viewers' answers reject the
   * others, so an audio-only input plays without a video track. The sockets stay bound either way,
   * for the next run.
   */
  setActiveTracks(tracks: { video: boolean; audio: boolean }): void {
    this.#active = { video: tracks.video, audio: tracks.audio };
  }

  /**
   * The video renditions (the top first, then the others in the order given): configuration, and
   * what each has received.
   */
  renditions(): RenditionInfo[] {
    const now = Date.now();
    return this.#renditions.map((config, index) => {
      const stats = this.#fanout.stats('video', index);
      const lastKeyframeAt = stats?.[trackStatFields.lastKeyframeAt] ?? 0;
      return {
        index,
        ...config,
        bitrateBps: stats?.[trackStatFields.bitrateBps] ?? 0,
        packets: stats?.[trackStatFields.packets] ?? 0,
        keyframes: stats?.[trackStatFields.keyframes] ?? 0,
        keyframeAgeMs: lastKeyframeAt === 0 ? null : Math.max(0, now - lastKeyframeAt),
      };
    });
  }

  /**
   * Which renditions the current run of FFmpeg sends (by id; the top is `'top'`): the others are
   * reported inactive. The sockets stay bound either way, for the next run.
   */
  setActiveRenditions(ids: readonly string[]): void {
    for (const config of this.#renditions) config.active = ids.includes(config.id);
  }

  /** The codecs of the video renditions (the top's first), each once: what viewers can negotiate. */
  videoCodecs(): VideoCodec[] {
    return [...new Set(this.#renditions.map((rendition) => rendition.codec))];
  }

  /** Viewers (answered, not yet closed) whose video is in `codec`. */
  viewersOf(codec: VideoCodec): number {
    return this.#demand.get(codec) ?? 0;
  }

  /**
   * A viewer of `codec` was answered (the peer factory says so): counted until the returned
   * function is called (once), each change emitted as `demand`.
   */
  addDemand(codec: VideoCodec): () => void {
    this.#changeDemand(codec, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#changeDemand(codec, -1);
    };
  }

  #changeDemand(codec: VideoCodec, by: number): void {
    const viewers = Math.max(0, (this.#demand.get(codec) ?? 0) + by);
    this.#demand.set(codec, viewers);
    if (!this.#closed) this.emit('demand', codec, viewers);
  }

  /** What the video track delivered so far: keyframes, parameter sets, timestamps going back. */
  health(): { video: VideoHealth & { packets: number; lastPacketAt: number | null } } {
    const { packets, lastPacketAt } = this.#stats('video');
    // The receiving shard's H.264 inspector writes its counters after the track's own.
    const fields = this.#fanout.stats('video')!.subarray(trackStatCount);
    return { video: { packets, lastPacketAt, ...readVideoHealth(fields) } };
  }

  /** A valid RTP packet has arrived since the source opened. */
  get hasMedia(): boolean {
    return (
      this.#stats('video').packets > 0 || (this.#audioPort !== undefined && this.#stats('audio').packets > 0)
    );
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Connected peers this source sends to: a resource count for leak checks. The viewer count is
   * the WHEP session count.
   */
  get subscriberCount(): number {
    return this.#fanout.viewers.size;
  }

  stats(): { video: TrackStats; audio?: TrackStats } {
    return {
      video: this.#stats('video'),
      ...(this.#audioPort !== undefined ? { audio: this.#stats('audio') } : {}),
    };
  }

  /**
   * Packets and bytes handed to peers, all of them together (closed peers included), and the
   * packets dropped for them: the kernel would not take them in time (a congested uplink; the
   * viewers' NACKs and keyframe requests recover) or their destination failed.
   */
  sentStats(): { packetsSent: number; bytesSent: number; packetsDropped: number } {
    return this.#fanout.sentStats();
  }

  /** @internal The source as the data plane holds it (shared history, Sender Report clock). */
  get fanout(): PlaneSource {
    return this.#fanout;
  }

  /**
   * @internal A connected peer joins: primed with the packets since the last keyframe (it decodes a
   * picture at once instead of waiting a whole GOP), then sent every new packet.
   */
  attachViewer(spec: PlaneViewerSpec): PlaneViewer {
    if (this.#closed) throw new SourceClosedError(this.id);
    return this.#fanout.plane.addViewer(this.#fanout, spec);
  }

  /**
   * A viewer asked for a keyframe (a PLI it could not recover from): emitted as `keyframeRequest`
   * for a sender that can make one (a WHIP publisher). FFmpeg legs cannot, and their viewers are
   * primed from the keyframe cache instead, so nothing listens for theirs.
   */
  requestKeyframe(): void {
    if (!this.#closed) this.emit('keyframeRequest');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#fanout.close();
    this.emit('closed');
  }

  #stats(kind: TrackKind): TrackStats {
    const stats = this.#fanout.stats(kind);
    if (!stats) return { packets: 0, bytes: 0, dropped: 0, bitrateBps: 0, lastPacketAt: null };
    const lastPacketAt = stats[trackStatFields.lastPacketAt]!;
    return {
      packets: stats[trackStatFields.packets]!,
      bytes: stats[trackStatFields.bytes]!,
      dropped: stats[trackStatFields.dropped]!,
      bitrateBps: stats[trackStatFields.bitrateBps]!,
      lastPacketAt: lastPacketAt === 0 ? null : lastPacketAt,
    };
  }
}

interface RenditionConfig {
  id: string;
  codec: VideoCodec;
  port: number;
  height: number | undefined;
  bitrateKbit: number;
  active: boolean;
}

function socketFor(input: RtpTrackInput): Promise<Socket> {
  if (input.socket) return Promise.resolve(input.socket);
  const host = input.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', reject);
    socket.bind(input.port ?? 0, host, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}
