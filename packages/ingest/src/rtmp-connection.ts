import { type ParsedUrlQuery, parse as parseQuery } from 'node:querystring';
import { RtmpLimitError, RtmpProtocolError, RtmpRefusedError } from './errors.js';
import { type Amf0Object, type Amf0Value, decodeAmf0 } from './rtmp-amf0.js';
import { ChunkReader, type ChunkReaderLimits, type RtmpMessage } from './rtmp-chunk-reader.js';
import {
  commandMessage,
  controlMessage,
  dataMessage,
  MessageType,
  outChunkSize,
} from './rtmp-chunk-writer.js';
import { Handshake } from './rtmp-handshake.js';
import { type MediaKind, mediaKind } from './rtmp-media.js';

/** What a `publish` or `play` asks for: the `connect`'s app and the stream name with its query. */
export interface RtmpStreamRequest {
  app: string;
  name: string;
  query: ParsedUrlQuery;
}

export type RtmpAction = 'publish' | 'play';

/** How a connection talks to its server; every call happens inside {@link RtmpConnection.push}. */
export interface RtmpConnectionHandlers {
  /** Bytes for the peer, in order. */
  send(bytes: Buffer): void;
  /** Before anything is answered to a `publish` or `play`: throw `RtmpRefusedError` to refuse it. */
  authorize(action: RtmpAction, request: RtmpStreamRequest): void;
  /** The peer has been told that it publishes or plays. */
  started(action: RtmpAction): void;
  /** A message the publisher sent: audio, video or data (metadata). */
  media(message: RtmpMessage, kind: MediaKind): void;
}

/** The bounds of one connection; `RtmpServer`'s options document them. */
export interface RtmpConnectionLimits {
  maxBytesBeforeStart: number;
  maxMessageBytes: number;
  maxBufferedBytes: number;
  maxChunkStreams: number;
}

/** Commands are small: FFmpeg's `connect` is 140 bytes, OBS's a few hundred. */
const maxCommandBytes = 16 * 1024;
/** `createStream` calls answered; clients make one. */
const maxMessageStreams = 8;
/** What the server asks peers to acknowledge, and lets them send unacknowledged (node-media-server's). */
const windowBytes = 5_000_000;

type Stage = 'handshake' | 'connect' | 'connected' | 'publishing' | 'playing';

const isObject = (value: Amf0Value): value is Amf0Object =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);

/**
 * One RTMP connection's protocol, from the handshake to `publish` or `play` and the published media
 * (RTMP 1.0; what FFmpeg, OBS and librtmp send). Synchronous and bounded: until the server allows a
 * publish or play, the peer may send at most `maxBytesBeforeStart` bytes and messages of at most
 * 16 KiB; a publisher's messages may then be `maxMessageBytes` long with `maxBufferedBytes` held in
 * incomplete ones. Anything that breaks the protocol or a bound throws (`RtmpProtocolError`,
 * `RtmpLimitError`, or the server's `RtmpRefusedError`), and the caller closes the connection.
 */
export class RtmpConnection {
  readonly #handlers: RtmpConnectionHandlers;
  readonly #limits: RtmpConnectionLimits;
  readonly #handshake = new Handshake();
  readonly #reader: ChunkReader;
  #stage: Stage = 'handshake';
  #app = '';
  #messageStreams = 0;
  #received = 0;
  #acknowledged = 0;
  #peerWindow = 0;

  constructor(limits: RtmpConnectionLimits, handlers: RtmpConnectionHandlers) {
    this.#limits = limits;
    this.#handlers = handlers;
    const beforeStart: ChunkReaderLimits = {
      maxMessageBytes: Math.min(maxCommandBytes, limits.maxBytesBeforeStart),
      maxChunkStreams: limits.maxChunkStreams,
      maxBufferedBytes: limits.maxBytesBeforeStart,
    };
    this.#reader = new ChunkReader(beforeStart, (message) => this.#onMessage(message));
  }

  /** The handshake is over. */
  get handshaken(): boolean {
    return this.#handshake.done;
  }

  /** The peer publishes or plays. */
  get started(): boolean {
    return this.#stage === 'publishing' || this.#stage === 'playing';
  }

  /** Bytes held in incomplete messages. */
  get bufferedBytes(): number {
    return this.#reader.bufferedBytes;
  }

  /** Reads what the peer sent; throws when the connection must end. */
  push(data: Buffer): void {
    this.#received += data.length;
    let offset = 0;
    if (!this.#handshake.done) {
      offset = this.#handshake.push(data, 0, (bytes) => this.#handlers.send(bytes));
      if (this.#handshake.done && this.#stage === 'handshake') this.#stage = 'connect';
    }
    if (offset < data.length) this.#reader.push(offset === 0 ? data : data.subarray(offset));
    if (!this.started && this.#received > this.#limits.maxBytesBeforeStart) {
      throw new RtmpLimitError(
        'bytes before publish or play',
        this.#received,
        this.#limits.maxBytesBeforeStart,
      );
    }
    // §5.4.3: acknowledge each window of bytes the peer asked for.
    if (this.#peerWindow > 0 && this.#received - this.#acknowledged >= this.#peerWindow) {
      this.#acknowledged = this.#received;
      this.#handlers.send(controlMessage.acknowledgement(this.#received));
    }
  }

  #onMessage(message: RtmpMessage): void {
    const { payload } = message;
    switch (message.type) {
      case MessageType.windowAcknowledgementSize:
        if (payload.length < 4)
          throw new RtmpProtocolError('a Window Acknowledgement Size message is cut off');
        this.#peerWindow = payload.readUInt32BE(0);
        return;
      case MessageType.amf0Command:
        this.#command(message, payload);
        return;
      case MessageType.amf3Command:
        // An AMF3 command message is a format byte, then the command in AMF0.
        if (payload.length < 1) throw new RtmpProtocolError('an AMF3 command message is empty');
        this.#command(message, payload.subarray(1));
        return;
      case MessageType.audio:
      case MessageType.video:
      case MessageType.amf0Data:
        if (this.#stage !== 'publishing')
          throw new RtmpProtocolError('media from a peer that does not publish');
        if (payload.length > 0) this.#handlers.media(message, mediaKind(message));
        return;
      default:
        // Acknowledgements, user control events, peer bandwidth, AMF3 data, shared objects and
        // aggregates change nothing here.
        return;
    }
  }

  #command(message: RtmpMessage, payload: Buffer): void {
    const [name, transactionId, commandObject, ...args] = decodeAmf0(payload);
    if (typeof name !== 'string') throw new RtmpProtocolError('a command without a name');
    const transaction = typeof transactionId === 'number' ? transactionId : 0;
    switch (name) {
      case 'connect':
        this.#connect(transaction, commandObject);
        return;
      case 'createStream':
        this.#createStream(transaction);
        return;
      case 'publish':
      case 'play':
        this.#start(name, message.streamId, args[0]);
        return;
      default:
        // releaseStream, FCPublish, FCUnpublish, deleteStream, getStreamLength, _checkbw…: nothing
        // to answer for a live server.
        return;
    }
  }

  #connect(transaction: number, commandObject: Amf0Value): void {
    if (this.#stage !== 'connect') throw new RtmpProtocolError('connect twice');
    if (!isObject(commandObject) || typeof commandObject.app !== 'string')
      throw new RtmpProtocolError('connect without an app');
    this.#app = commandObject.app;
    this.#stage = 'connected';
    const send = (bytes: Buffer) => this.#handlers.send(bytes);
    send(controlMessage.windowAcknowledgementSize(windowBytes));
    send(controlMessage.setPeerBandwidth(windowBytes));
    send(controlMessage.setChunkSize(outChunkSize));
    send(
      commandMessage(0, [
        '_result',
        transaction,
        { fmsVer: 'FMS/3,0,1,123', capabilities: 31 },
        // AMF0 only: a client that offered AMF3 (objectEncoding 3) is told to use AMF0.
        {
          level: 'status',
          code: 'NetConnection.Connect.Success',
          description: 'Connection succeeded.',
          objectEncoding: 0,
        },
      ]),
    );
  }

  #createStream(transaction: number): void {
    if (this.#stage === 'connect') throw new RtmpProtocolError('createStream before connect');
    if (this.#messageStreams >= maxMessageStreams)
      throw new RtmpLimitError('createStream calls', this.#messageStreams + 1, maxMessageStreams);
    this.#messageStreams++;
    this.#handlers.send(commandMessage(0, ['_result', transaction, null, this.#messageStreams]));
  }

  #start(action: RtmpAction, streamId: number, streamName: Amf0Value): void {
    if (this.#stage === 'connect') throw new RtmpProtocolError(`${action} before connect`);
    if (this.started)
      throw new RtmpProtocolError(`${action} on a connection that already publishes or plays`);
    if (typeof streamName !== 'string') throw new RtmpProtocolError(`${action} without a stream name`);
    const at = streamName.indexOf('?');
    const request: RtmpStreamRequest = {
      app: this.#app,
      name: at < 0 ? streamName : streamName.slice(0, at),
      query: parseQuery(at < 0 ? '' : streamName.slice(at + 1)),
    };
    const send = (bytes: Buffer) => this.#handlers.send(bytes);
    const status = (level: string, code: string, description: string) =>
      send(commandMessage(streamId, ['onStatus', 0, null, { level, code, description }]));
    try {
      this.#handlers.authorize(action, request);
    } catch (error) {
      // Tell the peer why before the server closes: FFmpeg prints it ("Server error: …").
      if (error instanceof RtmpRefusedError)
        status(
          'error',
          action === 'publish' ? 'NetStream.Publish.Denied' : 'NetStream.Play.Failed',
          error.message,
        );
      throw error;
    }
    if (action === 'publish') {
      this.#stage = 'publishing';
      this.#reader.limits = {
        maxMessageBytes: this.#limits.maxMessageBytes,
        maxChunkStreams: this.#limits.maxChunkStreams,
        maxBufferedBytes: this.#limits.maxBufferedBytes,
      };
      status('status', 'NetStream.Publish.Start', `${request.name} is now published.`);
    } else {
      this.#stage = 'playing';
      send(controlMessage.streamBegin(streamId));
      status('status', 'NetStream.Play.Reset', 'Playing and resetting stream.');
      status('status', 'NetStream.Play.Start', 'Started playing stream.');
      send(dataMessage(streamId, ['|RtmpSampleAccess', false, false]));
    }
    this.#handlers.started(action);
  }
}
