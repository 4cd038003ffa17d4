import { randomBytes, randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { SrtpSession } from 'werift';
import { SourceClosedError } from '../errors.js';
import type { PlaneViewer } from '../fanout/plane-handles.js';
import { SrtpProfile } from '../fanout/srtp.js';
import type { RtpSource, TrackKind, VideoCodec } from '../ingest/rtp-source.js';
import { sessionSendKeys } from '../werift/srtp-keys.js';

/** The payload types a tap's packets carry, whatever the source's legs use. */
export const tapPayloadTypes = { video: 96, audio: 111 } as const;

export interface SourceTapOptions {
  /** The video rendition to read (an index of `RtpSource.renditions()`). @default 0, the top */
  rendition?: number;
  /** Read the audio track too, when the source has one. @default true */
  audio?: boolean;
  /**
   * Each packet, plain RTP with the payload type of {@link tapPayloadTypes}, sequence numbers and
   * timestamps continuous across the source's restarts. The buffer is the tap's only until the call
   * returns.
   */
  onPacket: (kind: TrackKind, packet: Buffer) => void;
  /** The source closed (its process or publication ended): the tap is closed. */
  onClosed?: () => void;
}

/** What a tap reads: codecs and payload types for the reader's SDP. */
export interface TapTracks {
  video: { codec: VideoCodec; payloadType: number } | undefined;
  audio: { payloadType: number } | undefined;
}

/** The tracks a tap of `source` reads: what its reader's session description says. */
export function tapTracks(source: RtpSource, rendition = 0, audio = true): TapTracks {
  const info = source.renditions().find((candidate) => candidate.index === rendition);
  return {
    video: source.hasVideo && info ? { codec: info.codec, payloadType: tapPayloadTypes.video } : undefined,
    audio: source.hasAudio && audio ? { payloadType: tapPayloadTypes.audio } : undefined,
  };
}

/**
 * A loopback reader of a source already in the data plane: the plane sends it like a viewer (primed
 * from the keyframe cache, then every packet, continuous across FFmpeg restarts and publisher
 * reconnects) to a loopback socket of its own, and the tap hands the packets on as plain RTP. What
 * feeds an FFmpeg from a WHIP publication or from a process's own picture (a VP8 encode).
 *
 * The plane only sends SRTP; the tap is its own viewer with fresh keys, so it decrypts what it
 * receives (one stream, not the fan-out's hot path). Datagrams from anything but its own socket are
 * dropped: the plane sends from the socket it is given, which is the tap's.
 */
export class SourceTap {
  readonly tracks: TapTracks;
  readonly #socket: Socket;
  readonly #port: number;
  readonly #srtp: SrtpSession;
  readonly #viewer: PlaneViewer;
  readonly #kinds = new Map<number, TrackKind>();
  readonly #onPacket: SourceTapOptions['onPacket'];
  readonly #source: RtpSource;
  readonly #onClosed: (() => void) | undefined;
  #received = { packets: 0, dropped: 0 };
  #closed = false;

  private constructor(
    source: RtpSource,
    socket: Socket,
    srtp: SrtpSession,
    viewer: PlaneViewer,
    kinds: Map<number, TrackKind>,
    tracks: TapTracks,
    options: SourceTapOptions,
  ) {
    this.#source = source;
    this.#socket = socket;
    this.#port = socket.address().port;
    this.#srtp = srtp;
    this.#viewer = viewer;
    this.#kinds = kinds;
    this.tracks = tracks;
    this.#onPacket = options.onPacket;
    this.#onClosed = options.onClosed;
    socket.on('message', (message, remote) => this.#receive(message, remote.port, remote.address));
    source.once('closed', this.#onSourceClosed);
  }

  /**
   * Joins the source's data plane as a reader of one video rendition (and its audio).
   * @throws SourceClosedError
   */
  static async open(source: RtpSource, options: SourceTapOptions): Promise<SourceTap> {
    if (source.closed) throw new SourceClosedError(source.id);
    const rendition = options.rendition ?? 0;
    const tracks = tapTracks(source, rendition, options.audio !== false);
    const socket = await loopbackSocket();
    try {
      const key = randomBytes(16);
      const salt = randomBytes(12);
      // The plane encrypts with the "local" keys; the tap decrypts with the same as "remote".
      const srtp = new SrtpSession({
        keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt },
        profile: SrtpProfile.aeadAes128Gcm,
      });
      const keys = sessionSendKeys(srtp);
      if (!keys) throw new Error('werift SRTP session keys are not where they were (werift-shape)');
      const kinds = new Map<number, TrackKind>();
      const streams: { kind: TrackKind; ssrc: number; payloadType: number }[] = [];
      if (tracks.video) {
        const ssrc = randomInt(1, 0xffff_ffff);
        kinds.set(ssrc, 'video');
        streams.push({ kind: 'video', ssrc, payloadType: tapPayloadTypes.video });
      }
      if (tracks.audio) {
        let ssrc = randomInt(1, 0xffff_ffff);
        while (kinds.has(ssrc)) ssrc = randomInt(1, 0xffff_ffff);
        kinds.set(ssrc, 'audio');
        streams.push({ kind: 'audio', ssrc, payloadType: tapPayloadTypes.audio });
      }
      const port = socket.address().port;
      const viewer = source.attachViewer({
        keys,
        streams,
        target: { type: 'udp', socket, host: '127.0.0.1', port },
        ...(tracks.video && source.renditions().length > 1
          ? { video: { eligible: [rendition], start: rendition } }
          : {}),
      });
      return new SourceTap(source, socket, srtp, viewer, kinds, tracks, options);
    } catch (error) {
      socket.close();
      throw error;
    }
  }

  /** Packets handed on, and datagrams dropped (not from the plane, or not decryptable). */
  stats(): { packets: number; dropped: number } {
    return { ...this.#received };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Leaves the data plane and closes the socket; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#source.off('closed', this.#onSourceClosed);
    this.#viewer.close();
    this.#socket.close();
  }

  readonly #onSourceClosed = (): void => {
    this.close();
    this.#onClosed?.();
  };

  #receive(message: Buffer, port: number, address: string): void {
    if (this.#closed) return;
    if (port !== this.#port || address !== '127.0.0.1' || message.length < 12) {
      this.#received.dropped += 1;
      return;
    }
    const kind = this.#kinds.get(message.readUInt32BE(8));
    let plain: Buffer;
    try {
      plain = this.#srtp.decrypt(message);
    } catch {
      // Not the plane's (authentication failed): counted, never handed on.
      this.#received.dropped += 1;
      return;
    }
    if (kind === undefined) {
      this.#received.dropped += 1;
      return;
    }
    this.#received.packets += 1;
    this.#onPacket(kind, plain);
  }
}

function loopbackSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}
