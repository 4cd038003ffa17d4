import { RtmpLimitError, RtmpProtocolError } from './errors.js';

/** One RTMP message, reassembled from its chunks (RTMP 1.0 §5.3, §6.1). */
export interface RtmpMessage {
  /** Message type id: 1–6 protocol control, 8 audio, 9 video, 18 data, 20 command, … */
  type: number;
  /** Message stream id (0 for the connection's own messages). */
  streamId: number;
  /** Milliseconds, 32 bits, wrapping. */
  timestamp: number;
  payload: Buffer;
}

/** What the reader may hold at most; the connection tightens them until a publish is allowed. */
export interface ChunkReaderLimits {
  /** The longest message accepted (its declared length; the protocol's own limit is 16 MiB − 1). */
  maxMessageBytes: number;
  /** Chunk streams open at once (FFmpeg and OBS use 5 or 6). */
  maxChunkStreams: number;
  /** Bytes held in messages not yet complete, over every chunk stream. */
  maxBufferedBytes: number;
}

const MessageType = { setChunkSize: 1, abort: 2 } as const;
/** Message header sizes of chunk formats 0–3 (§5.3.1.2). */
const messageHeaderBytes = [11, 7, 3, 0] as const;
const extendedTimestampMarker = 0xffffff;
/** Basic header (3) + type 0 message header (11) + extended timestamp (4). */
const maxHeaderBytes = 18;
/** A message's buffer starts this large (or at its length) and doubles as chunks arrive. */
const initialCapacity = 16 * 1024;

class ChunkStream {
  /** The timestamp of the current (or last) message on this chunk stream. */
  timestamp = 0;
  /** The last header's timestamp field: absolute after type 0, a delta after types 1 and 2. */
  timestampField = 0;
  /** The last type 0–2 header had an extended timestamp, so type 3 chunks carry one too (§5.3.1.3). */
  extended = false;
  length = 0;
  type = 0;
  streamId = 0;
  /** The message being reassembled; undefined between messages. */
  payload: Buffer | undefined;
  received = 0;
}

/**
 * Splits a connection's bytes (after the handshake) into messages. Incomplete headers wait in an
 * 18-byte buffer; payload bytes are copied into the message they belong to, whose buffer grows with
 * what arrived rather than with what a header declared, so a peer's claims cost nothing until it
 * sends the bytes, and {@link ChunkReader.bufferedBytes} counts what is held. Set Chunk Size and
 * Abort are applied here, since they change how the following bytes are framed; every other message
 * goes to `onMessage`, synchronously, before the next chunk is read.
 */
export class ChunkReader {
  readonly #streams = new Map<number, ChunkStream>();
  readonly #header = Buffer.alloc(maxHeaderBytes);
  #headerBytes = 0;
  /** The chunk stream whose payload bytes come next, and how many of them. */
  #current: ChunkStream | undefined;
  #chunkRemaining = 0;
  #chunkSize = 128;
  #buffered = 0;

  constructor(
    public limits: ChunkReaderLimits,
    private readonly onMessage: (message: RtmpMessage) => void,
  ) {}

  /** Bytes held in incomplete messages (their buffers' sizes). */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Chunk streams seen on this connection. */
  get chunkStreams(): number {
    return this.#streams.size;
  }

  /** Reads `data`; throws `RtmpProtocolError` or `RtmpLimitError`, after which the reader is unusable. */
  push(data: Buffer): void {
    let offset = 0;
    while (offset < data.length) {
      if (this.#current) {
        offset = this.#payload(this.#current, data, offset);
        continue;
      }
      // Gather the header byte by byte until it is complete (most headers are 1, 8 or 12 bytes).
      const wanted = this.#wantedHeaderBytes();
      const take = Math.min(wanted - this.#headerBytes, data.length - offset);
      data.copy(this.#header, this.#headerBytes, offset, offset + take);
      this.#headerBytes += take;
      offset += take;
      if (this.#headerBytes === wanted && this.#wantedHeaderBytes() === wanted) this.#startChunk();
    }
  }

  /** Header bytes needed so far: each byte read may tell that more are needed. */
  #wantedHeaderBytes(): number {
    const header = this.#header;
    if (this.#headerBytes < 1) return 1;
    const format = header[0]! >> 6;
    const idBits = header[0]! & 0x3f;
    const basic = idBits === 0 ? 2 : idBits === 1 ? 3 : 1;
    if (this.#headerBytes < basic) return basic;
    const withMessage = basic + messageHeaderBytes[format as 0 | 1 | 2 | 3];
    if (this.#headerBytes < withMessage) return withMessage;
    return withMessage + (this.#hasExtendedTimestamp(format, basic) ? 4 : 0);
  }

  #chunkStreamId(): number {
    const header = this.#header;
    const idBits = header[0]! & 0x3f;
    if (idBits === 0) return 64 + header[1]!;
    if (idBits === 1) return 64 + header[1]! + header[2]! * 256;
    return idBits;
  }

  #hasExtendedTimestamp(format: number, basic: number): boolean {
    if (format === 3) return this.#streams.get(this.#chunkStreamId())?.extended ?? false;
    return this.#header.readUIntBE(basic, 3) === extendedTimestampMarker;
  }

  #startChunk(): void {
    const header = this.#header;
    const format = header[0]! >> 6;
    const idBits = header[0]! & 0x3f;
    const basic = idBits === 0 ? 2 : idBits === 1 ? 3 : 1;
    const id = this.#chunkStreamId();
    this.#headerBytes = 0;

    let stream = this.#streams.get(id);
    if (!stream) {
      // Types 2 and 3 have no length or type of their own: a chunk stream must begin with 0 or 1.
      if (format > 1) throw new RtmpProtocolError(`chunk stream ${id} starts without a message header`);
      if (this.#streams.size >= this.limits.maxChunkStreams)
        throw new RtmpLimitError('chunk streams', this.#streams.size + 1, this.limits.maxChunkStreams);
      stream = new ChunkStream();
      this.#streams.set(id, stream);
    }
    if (stream.payload && format !== 3)
      throw new RtmpProtocolError(`chunk stream ${id} starts a message inside another`);

    if (format < 3) {
      const field = header.readUIntBE(basic, 3);
      stream.extended = field === extendedTimestampMarker;
      stream.timestampField = stream.extended
        ? header.readUInt32BE(basic + messageHeaderBytes[format as 0 | 1 | 2])
        : field;
      if (format < 2) {
        stream.length = header.readUIntBE(basic + 3, 3);
        stream.type = header[basic + 6]!;
      }
      if (format === 0) stream.streamId = header.readUInt32LE(basic + 7);
    }
    // A continuation chunk's extended timestamp (read above with the header) repeats the message's.
    if (!stream.payload) this.#startMessage(stream, format);
    this.#current = stream;
    this.#chunkRemaining = Math.min(this.#chunkSize, stream.length - stream.received);
    if (this.#chunkRemaining === 0) this.#complete(stream);
  }

  #startMessage(stream: ChunkStream, format: number): void {
    // FFmpeg's rule (rtmppkt.c): type 0 carries the timestamp, the others a delta, type 3 the last one.
    stream.timestamp =
      format === 0 ? stream.timestampField : (stream.timestamp + stream.timestampField) >>> 0;
    if (stream.length > this.limits.maxMessageBytes)
      throw new RtmpLimitError('message length', stream.length, this.limits.maxMessageBytes);
    stream.received = 0;
    stream.payload = this.#grow(undefined, Math.min(stream.length, initialCapacity));
  }

  /** A buffer of `capacity` bytes holding `from`'s, counted against the buffered bytes. */
  #grow(from: Buffer | undefined, capacity: number): Buffer {
    const buffered = this.#buffered - (from?.length ?? 0) + capacity;
    if (buffered > this.limits.maxBufferedBytes)
      throw new RtmpLimitError('buffered message bytes', buffered, this.limits.maxBufferedBytes);
    const grown = Buffer.allocUnsafe(capacity);
    from?.copy(grown);
    this.#buffered = buffered;
    return grown;
  }

  #payload(stream: ChunkStream, data: Buffer, offset: number): number {
    const take = Math.min(this.#chunkRemaining, data.length - offset);
    let payload = stream.payload!;
    if (stream.received + take > payload.length) {
      payload = this.#grow(
        payload,
        Math.min(stream.length, Math.max(payload.length * 2, stream.received + take)),
      );
      stream.payload = payload;
    }
    data.copy(payload, stream.received, offset, offset + take);
    stream.received += take;
    this.#chunkRemaining -= take;
    if (this.#chunkRemaining === 0) {
      this.#current = undefined;
      if (stream.received === stream.length) this.#complete(stream);
    }
    return offset + take;
  }

  #complete(stream: ChunkStream): void {
    this.#current = undefined;
    const payload = stream.payload!.subarray(0, stream.length);
    this.#buffered -= stream.payload!.length;
    stream.payload = undefined;
    stream.received = 0;
    const message: RtmpMessage = {
      type: stream.type,
      streamId: stream.streamId,
      timestamp: stream.timestamp,
      payload,
    };
    if (message.type === MessageType.setChunkSize) this.#setChunkSize(message.payload);
    else if (message.type === MessageType.abort) this.#abort(message.payload);
    else this.onMessage(message);
  }

  #setChunkSize(payload: Buffer): void {
    if (payload.length < 4) throw new RtmpProtocolError('a Set Chunk Size message is cut off');
    // §5.4.1: the first bit must be zero; the size is at least 1.
    const size = payload.readUInt32BE(0);
    if (size < 1 || size > 0x7fffffff) throw new RtmpProtocolError(`invalid chunk size ${size}`);
    this.#chunkSize = size;
  }

  #abort(payload: Buffer): void {
    if (payload.length < 4) throw new RtmpProtocolError('an Abort message is cut off');
    const stream = this.#streams.get(payload.readUInt32BE(0));
    if (!stream?.payload) return;
    this.#buffered -= stream.payload.length;
    stream.payload = undefined;
    stream.received = 0;
  }
}
