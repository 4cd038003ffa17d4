import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ffmpegPlay,
  ffmpegPublish,
  handshake,
  handshakeBytes,
  rawChunk,
  serverMessages,
} from '../test/rtmp-bytes.js';
import { RtmpLimitError, RtmpProtocolError, RtmpRefusedError } from './errors.js';
import { decodeAmf0, encodeAmf0 } from './rtmp-amf0.js';
import {
  type RtmpAction,
  RtmpConnection,
  type RtmpConnectionLimits,
  type RtmpStreamRequest,
} from './rtmp-connection.js';
import type { MediaKind } from './rtmp-media.js';
import { rtmpServerDefaults } from './rtmp-options.js';

const seed = 20261207;
const limits: RtmpConnectionLimits = rtmpServerDefaults;

/** A connection whose server allows everything (or refuses with `refuse`) and records what happens. */
function connection(options: { refuse?: string } = {}) {
  const sent: Buffer[] = [];
  const requests: [RtmpAction, RtmpStreamRequest][] = [];
  const started: RtmpAction[] = [];
  const media: MediaKind[] = [];
  const rtmp = new RtmpConnection(limits, {
    send: (bytes) => sent.push(bytes),
    authorize: (action, request) => {
      requests.push([action, request]);
      if (options.refuse)
        throw new RtmpRefusedError(action, `/${request.app}/${request.name}`, options.refuse);
    },
    started: (action) => started.push(action),
    media: (_, kind) => media.push(kind),
  });
  return { rtmp, sent, requests, started, media };
}

/** The commands the server answered with, decoded. */
function answers(sent: Buffer[]): unknown[][] {
  return serverMessages(Buffer.concat(sent))
    .filter((message) => message.type === 20)
    .map((message) => decodeAmf0(message.payload));
}

const afterHandshake = (...chunks: Buffer[]) => Buffer.concat([handshake(), ...chunks]);
const command = (...values: Parameters<typeof encodeAmf0>[0]) => rawChunk({ payload: encodeAmf0(values) });
const connect = command('connect', 1, { app: 'live' });

describe('an RTMP connection', () => {
  it("takes FFmpeg's publish: handshake, connect, createStream, publish, then metadata, audio and video", () => {
    const { rtmp, sent, requests, started, media } = connection();
    rtmp.push(ffmpegPublish());

    expect(sent[0]!.length).toBe(1 + 2 * 1536);
    expect(requests).toEqual([['publish', { app: 'live', name: 'cam', query: { token: 'secret' } }]]);
    expect(started).toEqual(['publish']);
    const codes = answers(sent).map((command) => [
      command[0],
      (command[3] as { code?: string } | null)?.code,
    ]);
    expect(codes).toEqual([
      ['_result', 'NetConnection.Connect.Success'],
      ['_result', undefined],
      ['onStatus', 'NetStream.Publish.Start'],
    ]);
    expect(media.slice(0, 3).sort()).toEqual(['audio-header', 'metadata', 'video-header']);
    expect(media.filter((kind) => kind === 'keyframe').length).toBeGreaterThanOrEqual(2);
    expect(rtmp.bufferedBytes).toBe(0);
  });

  it("takes FFmpeg's play and answers it as players expect", () => {
    const { rtmp, sent, requests, started } = connection();
    rtmp.push(ffmpegPlay());
    expect(requests).toEqual([['play', { app: 'live', name: 'cam', query: { token: 'secret' } }]]);
    expect(started).toEqual(['play']);
    expect(answers(sent).map((command) => (command[3] as { code?: string } | null)?.code)).toEqual([
      'NetConnection.Connect.Success',
      undefined,
      'NetStream.Play.Reset',
      'NetStream.Play.Start',
    ]);
  });

  it('tells a refused publisher why, then ends', () => {
    const { rtmp, sent, started } = connection({ refuse: 'invalid token' });
    expect(() => rtmp.push(ffmpegPublish())).toThrow(RtmpRefusedError);
    expect(started).toEqual([]);
    expect(answers(sent).at(-1)).toMatchObject([
      'onStatus',
      0,
      null,
      { level: 'error', code: 'NetStream.Publish.Denied', description: 'publish refused: invalid token' },
    ]);
  });

  // Each of these took the whole server down with node-media-server's engine (ERR_BUFFER_OUT_OF_BOUNDS).
  it.each([
    ['a one-byte AMF0 command', rawChunk({ type: 20, payload: [0x00] })],
    ['an empty AMF0 command', rawChunk({ type: 20, payload: [] })],
    ['an AMF0 command with a cut-off string', rawChunk({ type: 20, payload: [0x02, 0x00] })],
    ['an empty AMF3 command', rawChunk({ type: 17, payload: [] })],
    ['a one-byte AMF3 command', rawChunk({ type: 17, payload: [0x00] })],
    ['an AMF3 command with a cut-off number', rawChunk({ type: 17, payload: [0x00, 0x00, 0x40] })],
    ['a cut-off Set Chunk Size', rawChunk({ chunkStreamId: 2, type: 1, payload: [0x00] })],
    ['a cut-off Window Acknowledgement Size', rawChunk({ chunkStreamId: 2, type: 5, payload: [0x01] })],
    ['video before publish', rawChunk({ chunkStreamId: 6, type: 9, payload: [0x17, 0x00] })],
    ['publish before connect', command('publish', 2, null, 'cam')],
    ['a connect without an app', command('connect', 1, null)],
    ['a second connect', Buffer.concat([connect, connect])],
    ['a publish without a name', Buffer.concat([connect, command('publish', 2, null, 5)])],
    ['RTMPE (version 6)', Buffer.from([6, ...Buffer.alloc(1536)])],
  ])('closes on %s with a protocol error, before publish or play', (_, bytes) => {
    const { rtmp } = connection();
    const input = bytes[0] === 6 ? bytes : afterHandshake(bytes);
    expect(() => rtmp.push(input)).toThrow(RtmpProtocolError);
  });

  it('lets a peer send at most maxBytesBeforeStart before it publishes or plays', () => {
    const { rtmp } = connection();
    rtmp.push(handshake());
    // Acknowledgements are valid and change nothing: a peer could send them forever.
    const acknowledgement = rawChunk({ chunkStreamId: 2, type: 3, payload: Buffer.alloc(4) });
    const flood = Buffer.concat(Array.from({ length: 1000 }, () => acknowledgement));
    expect(() => {
      for (let sent = 0; sent < 10 * limits.maxBytesBeforeStart; sent += flood.length) rtmp.push(flood);
    }).toThrow(RtmpLimitError);
  });

  it('refuses a command longer than 16 KiB before publish or play', () => {
    const { rtmp } = connection();
    expect(() => rtmp.push(afterHandshake(connect, rawChunk({ length: 16 * 1024 + 1 })))).toThrow(
      /message length/,
    );
  });

  it('answers random and mutated sessions with its own errors only, holding no more than its bounds', () => {
    const publish = ffmpegPublish().subarray(handshakeBytes);
    const mutated = fc
      .array(fc.tuple(fc.nat({ max: 1200 }), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 6,
      })
      .map((edits) => {
        const copy = Buffer.from(publish.subarray(0, 4000));
        for (const [at, value] of edits) copy[at] = value;
        return copy;
      });
    const chunks = fc
      .array(
        fc.record({
          format: fc.integer({ min: 0, max: 3 }),
          chunkStreamId: fc.constantFrom(2, 3, 4, 5, 6, 8, 70, 400),
          type: fc.constantFrom(1, 2, 3, 4, 5, 6, 8, 9, 15, 17, 18, 20, 22),
          length: fc.oneof(fc.nat({ max: 300 }), fc.constant(0xffffff)),
          timestamp: fc.oneof(fc.nat({ max: 1000 }), fc.constant(0xffffff)),
          payload: fc.uint8Array({ maxLength: 140 }),
        }),
        { maxLength: 12 },
      )
      .map((list) => Buffer.concat([publish.subarray(0, 400), ...list.map(rawChunk)]));
    const session = fc.oneof(
      mutated,
      chunks,
      fc.uint8Array({ maxLength: 2000 }).map((array) => Buffer.from(array)),
    );
    fc.assert(
      fc.property(session, (bytes) => {
        const { rtmp } = connection();
        try {
          rtmp.push(afterHandshake(bytes));
        } catch (error) {
          const expected =
            error instanceof RtmpProtocolError ||
            error instanceof RtmpLimitError ||
            error instanceof RtmpRefusedError;
          if (!expected) throw error;
        }
        if (rtmp.bufferedBytes > (rtmp.started ? limits.maxBufferedBytes : limits.maxBytesBeforeStart))
          throw new Error(`holds ${rtmp.bufferedBytes} bytes`);
      }),
      { seed, numRuns: 1500 },
    );
  });
});
