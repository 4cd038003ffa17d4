import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ffmpegConnect } from '../test/rtmp-bytes.js';
import { RtmpProtocolError } from './errors.js';
import { type Amf0Value, decodeAmf0, encodeAmf0, maxAmf0Depth } from './rtmp-amf0.js';

const seed = 20261207;

/** Decoding either succeeds or throws the protocol's own error: never a RangeError or a TypeError. */
function decodeOrRefuse(bytes: Buffer): Amf0Value[] | RtmpProtocolError {
  try {
    return decodeAmf0(bytes);
  } catch (error) {
    if (error instanceof RtmpProtocolError) return error;
    throw error;
  }
}

describe('AMF0', () => {
  it("reads FFmpeg's connect command", () => {
    const [name, transaction, command] = decodeAmf0(ffmpegConnect());
    expect(name).toBe('connect');
    expect(transaction).toBe(1);
    expect(command).toMatchObject({ app: 'live', type: 'nonprivate', tcUrl: 'rtmp://127.0.0.1:19350/live' });
  });

  it('writes what it reads', () => {
    const values: Amf0Value[] = [
      '_result',
      2,
      null,
      { level: 'status', nested: { list: [1, 'two', false], nothing: undefined }, long: 'x'.repeat(70_000) },
      true,
    ];
    expect(decodeAmf0(encodeAmf0(values))).toEqual(values);
  });

  it.each([
    ['nothing after a marker', [0x00]],
    ['a string longer than its message', [0x02, 0x00, 0x10, 0x61]],
    ['an object without its end', [0x03, 0x00, 0x01, 0x61, 0x05]],
    ['an object with an empty key', [0x03, 0x00, 0x00, 0x05]],
    ['a strict array counting past its message', [0x0a, 0xff, 0xff, 0xff, 0xff, 0x05]],
    ['an AMF3 value', [0x11, 0x01]],
    ['a reference', [0x07, 0x00, 0x00]],
    ['an unknown marker', [0x42]],
  ])('refuses %s with a protocol error', (_, bytes) => {
    expect(() => decodeAmf0(Buffer.from(bytes))).toThrow(RtmpProtocolError);
  });

  it('refuses values nested deeper than the bound instead of recursing without end', () => {
    const nested: number[] = [];
    for (let level = 0; level <= maxAmf0Depth + 1; level++) nested.push(0x0a, 0, 0, 0, 1);
    nested.push(0x05);
    expect(() => decodeAmf0(Buffer.from(nested))).toThrow(/nest too deep/);
  });

  it('keeps a key named __proto__ as a key, without touching any prototype', () => {
    const [object] = decodeAmf0(encodeAmf0([{ ['__proto__']: { polluted: true } } as never]));
    expect(Object.getPrototypeOf(object)).toBe(null);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers random and mutated commands with values or a protocol error, nothing else', () => {
    const connect = ffmpegConnect();
    const mutated = fc
      .array(fc.tuple(fc.nat({ max: connect.length - 1 }), fc.integer({ min: 0, max: 255 })), {
        maxLength: 8,
      })
      .chain((edits) =>
        fc.nat({ max: connect.length }).map((cut) => {
          const bytes = Buffer.from(connect.subarray(0, cut));
          for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
          return bytes;
        }),
      );
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array)),
      mutated,
    );
    fc.assert(
      fc.property(bytes, (input) => {
        decodeOrRefuse(input);
      }),
      { seed, numRuns: 2000 },
    );
  });
});
