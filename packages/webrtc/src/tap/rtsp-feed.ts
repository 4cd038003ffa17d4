import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { startsKeyframe } from '../ingest/keyframes.js';
import type { RtpSource, TrackKind } from '../ingest/rtp-source.js';
import { H264ParameterSets } from './h264-parameter-sets.js';
import {
  describeTracks,
  interleavedChannel,
  parseNext,
  type RtspRequest,
  response,
} from './rtsp-messages.js';
import { SourceTap, type TapTracks, tapTracks } from './source-tap.js';

/** What a feed path names: a source and the video rendition to read from it. */
export interface FeedTarget {
  source: RtpSource;
  /** @default 0, the top */
  rendition?: number;
}

export interface RtspFeedOptions {
  /** The source a request path (`/whip/cam`) names, or undefined (`404`). */
  resolve: (path: string) => FeedTarget | undefined;
  /** Port on 127.0.0.1. @default 0 (any free port) */
  port?: number;
  /** Readers at once; more are refused at connect. @default 64 */
  maxReaders?: number;
  /**
   * How long a `DESCRIBE` waits for the source's first keyframe (and, for H.264, its parameter
   * sets) before it is answered `503`. @default 5000
   */
  describeTimeoutMs?: number;
}

/** The socket's queue past which video is dropped until the next keyframe (a reader that cannot keep up). */
const maxQueuedBytes = 2 * 1024 * 1024;

interface Reader {
  socket: Socket;
  buffer: Buffer;
  target: FeedTarget | undefined;
  tracks: TapTracks | undefined;
  channels: Partial<Record<TrackKind, number>>;
  tap: SourceTap | undefined;
  /** Video is being dropped until the next keyframe (the reader fell behind). */
  skippingVideo: boolean;
  /** The RTSP session id (one per connection). */
  session: string;
  /** A `DESCRIBE` is being answered (one per connection). */
  describing: boolean;
  /**
   * Packets read between `DESCRIBE` and `PLAY`, video from a keyframe on (copies: the tap's
   * buffers are its own); undefined once playing.
   */
  pending: Buffer[] | undefined;
  pendingBytes: number;
  pendingKinds: TrackKind[];
  /** A keyframe has been read since `DESCRIBE`: video is kept from there on. */
  keyframeSeen: boolean;
  parameterSets: H264ParameterSets;
  /** Called when what `DESCRIBE` waits for has arrived. */
  onReady: (() => void) | undefined;
}

/**
 * A loopback RTSP server (RFC 2326, TCP interleaved only) that feeds FFmpeg from sources already
 * in the data plane: `rtsp://127.0.0.1:<port>/<path>?token=<token>`. FFmpeg reads it as it reads a
 * camera — codecs from `DESCRIBE`, media from `PLAY` — and gets the end of the source as the end
 * of its input. A reader asks UDP first; `461` makes FFmpeg retry over TCP, which keeps every port
 * on loopback and ends with the connection. The token (random per server) keeps other local users
 * out: anything on the machine can connect to loopback.
 */
export class RtspFeed {
  readonly token = randomBytes(18).toString('base64url');
  readonly #server: Server;
  readonly #options: RtspFeedOptions;
  readonly #readers = new Set<Reader>();
  #closed = false;

  private constructor(server: Server, options: RtspFeedOptions) {
    this.#server = server;
    this.#options = options;
    server.on('connection', (socket) => this.#accept(socket));
  }

  static listen(options: RtspFeedOptions): Promise<RtspFeed> {
    const server = createServer();
    const feed = new RtspFeed(server, options);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve(feed);
      });
    });
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** The URL FFmpeg reads `path` from (`/whip/cam`), token included. */
  url(path: string): string {
    return `rtsp://127.0.0.1:${this.port}${path}?token=${this.token}`;
  }

  /** Readers connected now. */
  get readers(): number {
    return this.#readers.size;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const reader of this.#readers) this.#drop(reader);
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    if (this.#closed || this.#readers.size >= (this.#options.maxReaders ?? 64)) {
      socket.destroy();
      return;
    }
    const reader: Reader = {
      socket,
      buffer: Buffer.alloc(0),
      target: undefined,
      tracks: undefined,
      channels: {},
      tap: undefined,
      skippingVideo: false,
      session: randomBytes(8).toString('hex'),
      describing: false,
      pending: [],
      pendingBytes: 0,
      pendingKinds: [],
      keyframeSeen: false,
      parameterSets: new H264ParameterSets(),
      onReady: undefined,
    };
    this.#readers.add(reader);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      try {
        this.#data(reader, chunk);
      } catch {
        // A reader's bad bytes end that reader, never the server.
        this.#drop(reader);
      }
    });
    socket.on('error', () => this.#drop(reader));
    socket.on('close', () => this.#drop(reader));
  }

  #data(reader: Reader, chunk: Buffer): void {
    reader.buffer = reader.buffer.length === 0 ? chunk : Buffer.concat([reader.buffer, chunk]);
    for (;;) {
      const parsed = parseNext(reader.buffer);
      if (parsed === undefined) return;
      if (parsed.type === 'invalid') {
        reader.socket.end(response(400, 'Bad Request', undefined));
        this.#drop(reader);
        return;
      }
      reader.buffer = reader.buffer.subarray(parsed.length);
      if (parsed.type === 'request') this.#request(reader, parsed.request);
      if (reader.socket.destroyed) return;
    }
  }

  #request(reader: Reader, request: RtspRequest): void {
    const cseq = request.headers.get('cseq');
    const send = (status: number, reason: string, headers?: Record<string, string>, body?: string) =>
      reader.socket.write(response(status, reason, cseq, headers, body));
    const url = parseUrl(request.url);
    switch (request.method) {
      case 'OPTIONS':
        return void send(200, 'OK', { Public: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER' });
      case 'DESCRIBE': {
        if (!url || !this.#authorised(url)) return void send(401, 'Unauthorized');
        if (reader.describing || reader.tap) return void send(455, 'Method Not Valid in This State');
        const target = this.#options.resolve(url.pathname);
        if (!target || target.source.closed) return void send(404, 'Not Found');
        reader.describing = true;
        void this.#describe(reader, target, url.pathname, send);
        return;
      }
      case 'SETUP': {
        if (!reader.target) return void send(455, 'Method Not Valid in This State');
        const channel = interleavedChannel(request.headers.get('transport'));
        if (channel === undefined) return void send(461, 'Unsupported Transport');
        const kind: TrackKind = /trackID=1\/?$/.test(request.url) ? 'audio' : 'video';
        reader.channels[kind] = channel;
        return void send(200, 'OK', {
          Transport: `RTP/AVP/TCP;unicast;interleaved=${channel}-${channel + 1}`,
          Session: `${reader.session};timeout=60`,
        });
      }
      case 'PLAY':
        if (!reader.target) return void send(455, 'Method Not Valid in This State');
        send(200, 'OK', { Session: reader.session, Range: 'npt=0.000-' });
        this.#play(reader);
        return;
      case 'GET_PARAMETER':
        return void send(200, 'OK', reader.target ? { Session: reader.session } : {});
      case 'TEARDOWN':
        send(200, 'OK');
        reader.socket.end();
        this.#drop(reader);
        return;
      default:
        return void send(501, 'Not Implemented');
    }
  }

  /**
   * Joins the source's data plane at once (primed from its keyframe cache) and answers once the
   * reader can start decoding from its first packet: a keyframe has arrived and, for H.264, its
   * SPS and PPS, which the description carries as `sprop-parameter-sets` so that FFmpeg has the
   * decoder configuration before the first packet (the header of the first HLS segment, an FLV's
   * sequence header). A publisher is asked for the keyframe; none within the timeout is `503`.
   */
  async #describe(
    reader: Reader,
    target: FeedTarget,
    path: string,
    send: (status: number, reason: string, headers?: Record<string, string>, body?: string) => void,
  ): Promise<void> {
    const tracks = tapTracks(target.source, target.rendition ?? 0);
    reader.tracks = tracks;
    const ready = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.#options.describeTimeoutMs ?? 5000);
      reader.onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    if (!tracks.video) reader.onReady?.();
    try {
      reader.tap = await SourceTap.open(target.source, {
        rendition: target.rendition ?? 0,
        onPacket: (kind, packet) => this.#forward(reader, kind, packet),
        onClosed: () => {
          // The source ended (the publication, the process): so does the reader's input.
          reader.onReady?.();
          reader.socket.end();
          this.#drop(reader);
        },
      });
    } catch {
      reader.socket.destroy();
      this.#drop(reader);
      return;
    }
    if (!this.#readers.has(reader)) {
      reader.tap.close();
      return;
    }
    // A publisher makes a keyframe for the new reader (rate-limited by the publisher peer); an
    // FFmpeg source primes it from the keyframe cache instead.
    target.source.requestKeyframe();
    const arrived = await ready;
    reader.onReady = undefined;
    if (!this.#readers.has(reader)) return;
    if (!arrived) {
      send(503, 'Service Unavailable');
      reader.socket.end();
      this.#drop(reader);
      return;
    }
    reader.target = target;
    const h264 = tracks.video?.codec === 'h264' ? reader.parameterSets.fmtp() : undefined;
    send(
      200,
      'OK',
      { 'Content-Base': `rtsp://127.0.0.1:${this.port}${path}/`, 'Content-Type': 'application/sdp' },
      describeTracks(tracks, h264),
    );
  }

  /** Sends what was read since `DESCRIBE`, in order, then every packet as it arrives. */
  #play(reader: Reader): void {
    const pending = reader.pending;
    if (!pending) return;
    reader.pending = undefined;
    for (let index = 0; index < pending.length; index++) {
      this.#send(reader, reader.pendingKinds[index]!, pending[index]!);
    }
    reader.pendingKinds = [];
    reader.pendingBytes = 0;
  }

  /** Per packet from the tap: kept until `PLAY`, then sent. */
  #forward(reader: Reader, kind: TrackKind, packet: Buffer): void {
    if (reader.pending === undefined) {
      this.#send(reader, kind, packet);
      return;
    }
    if (kind === 'video') {
      const codec = reader.tracks?.video?.codec ?? 'h264';
      if (!reader.keyframeSeen) {
        const header = 12 + (packet[0]! & 0x0f) * 4;
        if (!startsKeyframe(codec, packet, header, packet.length - header)) return;
        reader.keyframeSeen = true;
      }
      if (codec === 'h264') reader.parameterSets.readPacket(packet);
      if (reader.onReady && (codec !== 'h264' || reader.parameterSets.complete)) reader.onReady();
    }
    reader.pending.push(Buffer.from(packet));
    reader.pendingKinds.push(kind);
    reader.pendingBytes += packet.length;
    // A reader that describes and never plays holds no more than a socket's worth.
    if (reader.pendingBytes > maxQueuedBytes) {
      reader.socket.destroy();
      this.#drop(reader);
    }
  }

  /** Per packet: frame it `$ channel length` (RFC 2326 §10.12). */
  #send(reader: Reader, kind: TrackKind, packet: Buffer): void {
    const channel = reader.channels[kind];
    if (channel === undefined || reader.socket.destroyed) return;
    if (kind === 'video') {
      const codec = reader.tracks?.video?.codec ?? 'h264';
      const header = 12 + (packet[0]! & 0x0f) * 4;
      if (reader.skippingVideo && startsKeyframe(codec, packet, header, packet.length - header))
        reader.skippingVideo = false;
      if (reader.socket.writableLength > maxQueuedBytes) reader.skippingVideo = true;
      if (reader.skippingVideo) return;
    }
    const frame = Buffer.allocUnsafe(4 + packet.length);
    frame[0] = 0x24;
    frame[1] = channel;
    frame.writeUInt16BE(packet.length, 2);
    packet.copy(frame, 4);
    reader.socket.write(frame);
  }

  #authorised(url: URL): boolean {
    const given = Buffer.from(url.searchParams.get('token') ?? '');
    const expected = Buffer.from(this.token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  #drop(reader: Reader): void {
    if (!this.#readers.delete(reader)) return;
    reader.onReady?.();
    reader.tap?.close();
    if (!reader.socket.destroyed && reader.socket.writableLength > 0) reader.socket.end();
    else reader.socket.destroy();
  }
}

function parseUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}
