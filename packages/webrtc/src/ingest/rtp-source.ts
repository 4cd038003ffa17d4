import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { RtpPacket } from 'werift';
import { SourceClosedError } from '../errors.js';
import { startsKeyframe } from './h264.js';
import { H264Inspector, readVideoHealth, type VideoHealth } from './h264-inspector.js';
import { RtpContinuity } from './rtp-continuity.js';
import { isLoopbackAddress, readRtpHeader } from './rtp-header.js';

export type TrackKind = 'video' | 'audio';

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

export interface TrackStats {
  packets: number;
  bytes: number;
  /** Datagrams dropped: not from loopback, not RTP, or another payload type (FFmpeg's RTCP included). */
  dropped: number;
  bitrateBps: number;
  lastPacketAt: number | null;
}

/** What a source hands each packet to: a peer. */
export interface MediaSink {
  deliver(kind: TrackKind, packet: RtpPacket, size: number): void;
}

export interface RtpSourceOptions {
  id: string;
  video: RtpTrackInput;
  audio?: RtpTrackInput;
  /** Keep the packets since the last keyframe and prime new viewers with them. @default true */
  keyframeCache?: boolean;
  /** Bound on the keyframe cache; a longer GOP stops caching until the next keyframe. @default 4000 */
  maxCachedPackets?: number;
}

const clockRates: Record<TrackKind, number> = { video: 90_000, audio: 48_000 };

class Track {
  readonly stats: TrackStats = { packets: 0, bytes: 0, dropped: 0, bitrateBps: 0, lastPacketAt: null };
  readonly continuity: RtpContinuity;
  readonly sinks = new Set<MediaSink>();
  windowStart = 0;
  windowBytes = 0;

  constructor(
    readonly kind: TrackKind,
    readonly socket: Socket,
    readonly payloadType: number,
  ) {
    this.continuity = new RtpContinuity(clockRates[kind]);
  }
}

/**
 * The receiving end of one process's RTP legs: loopback UDP sockets bound for the process's whole
 * life, validated packets made continuous across FFmpeg restarts and handed to every subscribed peer.
 */
export class RtpSource extends EventEmitter<{ closed: [] }> {
  readonly id: string;
  readonly #tracks: Track[];
  readonly #video: Track;
  readonly #audio: Track | undefined;
  readonly #cacheEnabled: boolean;
  readonly #maxCached: number;
  #keyframeCache: RtpPacket[] = [];
  #cacheTimestamp: number | undefined;
  #closed = false;
  #sentPackets = 0;
  #sentBytes = 0;
  readonly #inspector = new H264Inspector();
  #active = { video: true, audio: true };

  private constructor(options: RtpSourceOptions, video: Socket, audio: Socket | undefined) {
    super();
    // Every viewer listens for 'closed': hundreds of listeners are the design, not a leak.
    this.setMaxListeners(0);
    this.id = options.id;
    this.#cacheEnabled = options.keyframeCache ?? true;
    this.#maxCached = options.maxCachedPackets ?? 4000;
    this.#video = new Track('video', video, options.video.payloadType);
    this.#audio = audio && options.audio ? new Track('audio', audio, options.audio.payloadType) : undefined;
    this.#tracks = this.#audio ? [this.#video, this.#audio] : [this.#video];
    for (const track of this.#tracks) {
      track.socket.on('message', (packet: Buffer, remote: RemoteInfo) =>
        this.#onPacket(track, packet, remote),
      );
      // A socket error on a loopback receiver (e.g. ICMP feedback) must not crash the server.
      track.socket.on('error', () => undefined);
    }
  }

  /** Takes over the given bound sockets, or binds the given ports on loopback. */
  static async open(options: RtpSourceOptions): Promise<RtpSource> {
    const video = await socketFor(options.video);
    let audio: Socket | undefined;
    try {
      audio = options.audio ? await socketFor(options.audio) : undefined;
    } catch (error) {
      video.close();
      throw error;
    }
    return new RtpSource(options, video, audio);
  }

  get videoPort(): number {
    return this.#video.socket.address().port;
  }

  get audioPort(): number | undefined {
    return this.#audio?.socket.address().port;
  }

  /** The source sends audio: it has an audio socket and the current run has an audio leg. */
  get hasAudio(): boolean {
    return this.#audio !== undefined && this.#active.audio;
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

  /** What the video track delivered so far: keyframes, parameter sets, timestamps going back. */
  health(): { video: VideoHealth & { packets: number; lastPacketAt: number | null } } {
    const { packets, lastPacketAt } = this.#video.stats;
    return { video: { packets, lastPacketAt, ...readVideoHealth(this.#inspector.fields) } };
  }

  /** A valid RTP packet has arrived since the source opened. */
  get hasMedia(): boolean {
    return this.#video.stats.packets > 0 || (this.#audio?.stats.packets ?? 0) > 0;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sinks (connected peers) this source delivers to: a resource count for leak checks. The viewer
   * count is the WHEP session count.
   */
  get subscriberCount(): number {
    return this.#video.sinks.size;
  }

  stats(): { video: TrackStats; audio?: TrackStats } {
    return {
      video: { ...this.#video.stats },
      ...(this.#audio ? { audio: { ...this.#audio.stats } } : {}),
    };
  }

  /** Packets and bytes handed to peers, all of them together (closed peers included). */
  sentStats(): { packetsSent: number; bytesSent: number } {
    return { packetsSent: this.#sentPackets, bytesSent: this.#sentBytes };
  }

  /**
   * Starts delivering to `sink`: first the cached packets since the last keyframe (so the viewer
   * decodes a picture at once instead of waiting a whole GOP), then every new packet.
   */
  subscribe(sink: MediaSink): void {
    if (this.#closed) throw new SourceClosedError(this.id);
    for (const packet of this.#keyframeCache) {
      sink.deliver('video', packet, packet.payload.length + 12);
    }
    for (const track of this.#tracks) track.sinks.add(sink);
  }

  unsubscribe(sink: MediaSink): void {
    for (const track of this.#tracks) track.sinks.delete(sink);
  }

  /** @internal counts what peers actually sent */
  countSent(bytes: number): void {
    this.#sentPackets++;
    this.#sentBytes += bytes;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const track of this.#tracks) {
      track.sinks.clear();
      track.socket.close();
    }
    this.#keyframeCache = [];
    this.emit('closed');
  }

  #onPacket(track: Track, packet: Buffer, remote: RemoteInfo): void {
    if (this.#closed) return;
    const header = isLoopbackAddress(remote.address) ? readRtpHeader(packet) : undefined;
    if (!header || header.payloadType !== track.payloadType) {
      track.stats.dropped++;
      return;
    }
    const now = Date.now();
    track.continuity.rewrite(packet, header.ssrc, header.sequenceNumber, header.timestamp, now);
    if (track === this.#video)
      this.#inspector.inspect(
        packet,
        header.payloadOffset,
        header.payloadLength,
        packet.readUInt32BE(4),
        now,
      );
    const stats = track.stats;
    stats.packets++;
    stats.bytes += packet.length;
    stats.lastPacketAt = now;
    track.windowBytes += packet.length;
    if (now - track.windowStart >= 1000) {
      stats.bitrateBps =
        track.windowStart === 0 ? 0 : Math.round((track.windowBytes * 8000) / (now - track.windowStart));
      track.windowStart = now;
      track.windowBytes = 0;
    }
    let parsed: RtpPacket;
    try {
      parsed = RtpPacket.deSerialize(packet);
    } catch {
      stats.dropped++;
      return;
    }
    if (track === this.#video && this.#cacheEnabled)
      this.#cache(parsed, packet, header.payloadOffset, header.payloadLength);
    for (const sink of track.sinks) sink.deliver(track.kind, parsed, packet.length);
  }

  #cache(parsed: RtpPacket, raw: Buffer, payloadOffset: number, payloadLength: number): void {
    const timestamp = parsed.header.timestamp;
    if (startsKeyframe(raw, payloadOffset, payloadLength) && timestamp !== this.#cacheTimestamp) {
      this.#keyframeCache = [parsed];
      this.#cacheTimestamp = timestamp;
      return;
    }
    if (this.#cacheTimestamp === undefined) return;
    if (this.#keyframeCache.length >= this.#maxCached) {
      // A GOP this long is not worth replaying; wait for the next keyframe.
      this.#keyframeCache = [];
      this.#cacheTimestamp = undefined;
      return;
    }
    this.#keyframeCache.push(parsed);
  }
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
