import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { ChunkReader, type RtmpMessage } from '../src/rtmp-chunk-reader.js';

/**
 * RTMP bytes for tests: what real FFmpeg sent (fixtures/rtmp, see its README) and hand-made chunks,
 * lies included (a header may declare more than it carries), plus a raw client that sends them.
 */

const fixtureDir = new URL('./fixtures/rtmp/', import.meta.url);

/** C0 + C1 + C2 as FFmpeg sends them, then the chunks. */
export const handshakeBytes = 1 + 1536 + 1536;

/** Every byte FFmpeg sent to publish 1.2 s of video and audio, handshake included. */
export function ffmpegPublish(): Buffer {
  return readFileSync(new URL('ffmpeg-publish.bin', fixtureDir));
}

/** Every byte FFmpeg sent to play a stream, handshake included. */
export function ffmpegPlay(): Buffer {
  return readFileSync(new URL('ffmpeg-play.bin', fixtureDir));
}

/**
 * The AMF0 payload of FFmpeg's `connect` in the publish capture: a 140-byte message on chunk stream 3
 * in two chunks, 128 bytes and 12, the second after a one-byte type 3 header.
 */
export function ffmpegConnect(): Buffer {
  const bytes = ffmpegPublish();
  const first = handshakeBytes + 12;
  return Buffer.concat([bytes.subarray(first, first + 128), bytes.subarray(first + 129, first + 141)]);
}

/** The complete messages in what a server sent after its S0+S1+S2 (their chunk size is the server's). */
export function serverMessages(bytes: Buffer): RtmpMessage[] {
  const messages: RtmpMessage[] = [];
  const limits = { maxMessageBytes: 0xffffff, maxChunkStreams: 64, maxBufferedBytes: 1 << 26 };
  const reader = new ChunkReader(limits, (message) =>
    messages.push({ ...message, payload: Buffer.from(message.payload) }),
  );
  reader.push(bytes.subarray(1 + 2 * 1536));
  return messages;
}

/** A plain handshake's client side: C0 (version 3), C1, C2. */
export function handshake(): Buffer {
  const bytes = Buffer.alloc(handshakeBytes);
  bytes[0] = 3;
  return bytes;
}

export interface RawChunk {
  /** Chunk type 0–3. @default 0 */
  format?: number;
  /** 2–65599. @default 3 */
  chunkStreamId?: number;
  timestamp?: number;
  /** What the header declares; the payload's length unless given. */
  length?: number;
  /** Message type. @default 20 (AMF0 command) */
  type?: number;
  streamId?: number;
  payload?: Uint8Array | readonly number[];
}

/** One chunk exactly as described, whether it makes sense or not. */
export function rawChunk(chunk: RawChunk): Buffer {
  const format = chunk.format ?? 0;
  const id = chunk.chunkStreamId ?? 3;
  const payload = Buffer.from((chunk.payload ?? []) as Uint8Array);
  const basic =
    id < 64
      ? Buffer.from([(format << 6) | id])
      : id < 320
        ? Buffer.from([format << 6, id - 64])
        : Buffer.from([(format << 6) | 1, (id - 64) & 0xff, (id - 64) >> 8]);
  const header = Buffer.alloc([11, 7, 3, 0][format]!);
  const timestamp = chunk.timestamp ?? 0;
  if (format < 3) header.writeUIntBE(Math.min(timestamp, 0xffffff), 0, 3);
  if (format < 2) {
    header.writeUIntBE(chunk.length ?? payload.length, 3, 3);
    header[6] = chunk.type ?? 20;
  }
  if (format === 0) header.writeUInt32LE(chunk.streamId ?? 0, 7);
  const extended = format < 3 && timestamp >= 0xffffff ? Buffer.alloc(4) : Buffer.alloc(0);
  if (extended.length > 0) extended.writeUInt32BE(timestamp);
  return Buffer.concat([basic, header, extended, payload]);
}

/** A raw TCP client of an RTMP port: sends bytes, tells when the server closed on it. */
export class RtmpProbe {
  readonly socket: Socket;
  /** Resolves when the connection is closed, by either side. */
  readonly closed: Promise<void>;
  readonly #received: Buffer[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (data: Buffer) => this.#received.push(data));
    socket.on('error', () => undefined);
  }

  /** Everything the server sent so far. */
  received(): Buffer {
    return Buffer.concat(this.#received);
  }

  /** Connects to `127.0.0.1:port`, from `localAddress` when given (any of 127.0.0.0/8). */
  static open(port: number, localAddress?: string): Promise<RtmpProbe> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
      socket.once('connect', () => resolve(new RtmpProbe(socket)));
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  send(...chunks: Buffer[]): void {
    if (!this.socket.destroyed) this.socket.write(Buffer.concat(chunks));
  }

  /**
   * Sends Acknowledgement messages — valid, small, held by nobody, so that only a byte count can stop
   * them — until the server closes the connection or `limit` bytes were offered; returns how many were.
   */
  async flood(limit: number): Promise<number> {
    const acknowledgement = rawChunk({ chunkStreamId: 2, type: 3, payload: [0, 0, 0, 1] });
    const batch = Buffer.concat(Array.from({ length: 4096 }, () => acknowledgement));
    let offered = 0;
    while (!this.isClosed && offered < limit) {
      this.send(batch);
      offered += batch.length;
      if (this.socket.writableNeedDrain)
        await Promise.race([new Promise((resolve) => this.socket.once('drain', resolve)), this.closed]);
    }
    return offered;
  }

  close(): void {
    this.socket.destroy();
  }
}
