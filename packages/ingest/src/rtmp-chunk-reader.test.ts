import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ffmpegConnect, ffmpegPublish, handshakeBytes, rawChunk } from '../test/rtmp-bytes.js';
import { RtmpLimitError, RtmpProtocolError } from './errors.js';
import { ChunkReader, type ChunkReaderLimits, type RtmpMessage } from './rtmp-chunk-reader.js';

const seed = 20261207;
const generous: ChunkReaderLimits = {
  maxMessageBytes: 0xffffff,
  maxChunkStreams: 64,
  maxBufferedBytes: 64 * 1024 * 1024,
};

function read(bytes: Buffer[], limits = generous): { messages: RtmpMessage[]; reader: ChunkReader } {
  const messages: RtmpMessage[] = [];
  const reader = new ChunkReader({ ...limits }, (message) =>
    messages.push({ ...message, payload: Buffer.from(message.payload) }),
  );
  for (const part of bytes) reader.push(part);
  return { messages, reader };
}

const publishChunks = () => ffmpegPublish().subarray(handshakeBytes);

describe('the RTMP chunk reader', () => {
  it("reassembles FFmpeg's publish into its commands, metadata, audio and video", () => {
    const { messages } = read([publishChunks()]);
    expect(messages[0]).toMatchObject({ type: 20, streamId: 0, timestamp: 0 });
    expect(messages[0]!.payload).toEqual(ffmpegConnect());
    const types = messages.map((message) => message.type);
    expect(types.slice(0, 5)).toEqual([20, 20, 20, 20, 20]);
    expect(types).toContain(18);
    expect(types.filter((type) => type === 9).length).toBeGreaterThanOrEqual(10);
    expect(types.filter((type) => type === 8).length).toBeGreaterThanOrEqual(10);
    const video = messages.filter((message) => message.type === 9).map((message) => message.timestamp);
    expect(video).toEqual([...video].sort((a, b) => a - b));
    expect(video.at(-1)).toBeGreaterThanOrEqual(1000);
  });

  it('reads the same messages however the bytes are split', () => {
    const bytes = publishChunks();
    const whole = read([bytes]).messages;
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat({ max: bytes.length }), { maxLength: 40 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        const parts = points.slice(1).map((end, index) => bytes.subarray(points[index], end));
        expect(read(parts).messages).toEqual(whole);
      }),
      { seed, numRuns: 60 },
    );
  });

  it('carries the extended timestamp on every chunk of a message and applies deltas after it', () => {
    const payload = Buffer.alloc(200, 7);
    const timestamp = 0x1234_5678;
    const first = rawChunk({
      timestamp,
      type: 9,
      chunkStreamId: 6,
      payload: payload.subarray(0, 128),
      length: 200,
    });
    const extended = Buffer.alloc(4);
    extended.writeUInt32BE(timestamp);
    const continuation = Buffer.concat([Buffer.from([0xc6]), extended, payload.subarray(128)]);
    // A second message with a type 2 header: a 40 ms delta.
    const next = rawChunk({
      format: 2,
      chunkStreamId: 6,
      timestamp: 40,
      payload: Buffer.alloc(200, 8).subarray(0, 128),
    });
    const { messages } = read([first, continuation, next, Buffer.from([0xc6]), Buffer.alloc(72, 8)]);
    expect(messages.map((message) => message.timestamp)).toEqual([timestamp, timestamp + 40]);
    expect(messages[0]!.payload).toEqual(payload);
  });

  it('refuses a message longer than allowed from its header, before any payload arrives', () => {
    const reader = new ChunkReader({ ...generous, maxMessageBytes: 1000 }, () => undefined);
    expect(() => reader.push(rawChunk({ length: 1001 }))).toThrow(RtmpLimitError);
  });

  it('holds what arrived, not what a header declared', () => {
    const { reader } = read([rawChunk({ length: 0xffffff, type: 9, payload: Buffer.alloc(100) })]);
    expect(reader.bufferedBytes).toBeLessThanOrEqual(16 * 1024);
  });

  it('refuses more chunk streams, and more buffered bytes, than allowed', () => {
    const limits = { maxMessageBytes: 0xffffff, maxChunkStreams: 4, maxBufferedBytes: 40_000 };
    // Each a whole first chunk (128 bytes, the initial chunk size) of a longer message.
    const streams = [2, 3, 4, 5, 6].map((id) =>
      rawChunk({ chunkStreamId: id, length: 200, payload: Buffer.alloc(128) }),
    );
    expect(() => read(streams, limits)).toThrow(RtmpLimitError);
    const big = [3, 4, 5].map((id) =>
      rawChunk({ chunkStreamId: id, length: 100_000, type: 9, payload: Buffer.alloc(128) }),
    );
    expect(() => read(big, limits)).toThrow(/buffered message bytes/);
  });

  it('frees a message the peer aborts', () => {
    const abort = rawChunk({ chunkStreamId: 2, type: 2, payload: Buffer.from([0, 0, 0, 5]) });
    const { reader } = read([
      rawChunk({ chunkStreamId: 5, length: 5000, type: 9, payload: Buffer.alloc(128) }),
      abort,
    ]);
    expect(reader.bufferedBytes).toBe(0);
  });

  it.each([
    ['a chunk stream that starts with a type 2 header', rawChunk({ format: 2, chunkStreamId: 9 })],
    ['a chunk stream that starts with a type 3 header', Buffer.from([0xc9, 0x00])],
    ['a chunk size of 0', rawChunk({ chunkStreamId: 2, type: 1, payload: Buffer.alloc(4) })],
    ['a cut-off chunk size', rawChunk({ chunkStreamId: 2, type: 1, payload: Buffer.alloc(2) })],
    ['a cut-off abort', rawChunk({ chunkStreamId: 2, type: 2, payload: Buffer.alloc(1) })],
    [
      'a new message inside another',
      Buffer.concat([
        rawChunk({ length: 300, payload: Buffer.alloc(128) }),
        rawChunk({ length: 10, payload: Buffer.alloc(10) }),
      ]),
    ],
  ])('refuses %s with a protocol error', (_, bytes) => {
    expect(() => read([bytes])).toThrow(RtmpProtocolError);
  });

  it('answers random and mutated chunk streams with messages or its own errors, within its bounds', () => {
    const bytes = publishChunks();
    const limits = { maxMessageBytes: 70_000, maxChunkStreams: 8, maxBufferedBytes: 100_000 };
    const mutated = fc
      .tuple(
        fc.nat({ max: bytes.length - 1 }),
        fc.array(fc.tuple(fc.nat({ max: 2000 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
      )
      .map(([start, edits]) => {
        const copy = Buffer.from(bytes.subarray(0, Math.min(bytes.length, start + 2000)));
        for (const [at, value] of edits) if (start + at < copy.length) copy[start + at] = value;
        return copy;
      });
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 2000 }).map((array) => Buffer.from(array)),
      mutated,
    );
    fc.assert(
      fc.property(input, fc.nat({ max: 64 }), (data, step) => {
        const reader = new ChunkReader({ ...limits }, () => undefined);
        try {
          for (let at = 0; at < data.length; at += step + 1) {
            reader.push(data.subarray(at, at + step + 1));
            if (
              reader.bufferedBytes > limits.maxBufferedBytes ||
              reader.chunkStreams > limits.maxChunkStreams
            )
              throw new Error(
                `over its bounds: ${reader.bufferedBytes} bytes, ${reader.chunkStreams} streams`,
              );
          }
        } catch (error) {
          if (!(error instanceof RtmpProtocolError || error instanceof RtmpLimitError)) throw error;
        }
      }),
      { seed, numRuns: 1500 },
    );
  });
});
