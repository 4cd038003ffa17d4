import { describe, expect, it } from 'vitest';
import { startsH264Keyframe as startsKeyframe, startsVp8Keyframe } from './keyframes.js';
import { RtpContinuity } from './rtp-continuity.js';
import { readRtpHeader } from './rtp-header.js';

function rtp(
  fields: {
    pt?: number;
    seq?: number;
    ts?: number;
    ssrc?: number;
    csrc?: number;
    extension?: boolean;
    padding?: number;
  },
  payload = Buffer.from([0x65, 1, 2]),
): Buffer {
  const csrc = fields.csrc ?? 0;
  const header = Buffer.alloc(12 + csrc * 4);
  header[0] = 0x80 | csrc | (fields.extension ? 0x10 : 0) | (fields.padding ? 0x20 : 0);
  header[1] = fields.pt ?? 96;
  header.writeUInt16BE(fields.seq ?? 1, 2);
  header.writeUInt32BE(fields.ts ?? 1, 4);
  header.writeUInt32BE(fields.ssrc ?? 1, 8);
  const extension = fields.extension ? Buffer.from([0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0]) : Buffer.alloc(0);
  const padding = fields.padding
    ? Buffer.from([...Array(fields.padding - 1).fill(0), fields.padding])
    : Buffer.alloc(0);
  return Buffer.concat([header, extension, payload, padding]);
}

describe('readRtpHeader', () => {
  it('reads fields and finds the payload after CSRCs and extensions, without padding', () => {
    const header = readRtpHeader(
      rtp({ pt: 111, seq: 65535, ts: 4294967295, ssrc: 0xdeadbeef, csrc: 2, extension: true, padding: 4 }),
    );
    expect(header).toEqual({
      payloadType: 111,
      marker: false,
      sequenceNumber: 65535,
      timestamp: 4294967295,
      ssrc: 0xdeadbeef,
      payloadOffset: 28,
      payloadLength: 3,
    });
  });

  it.each([
    ['too short', Buffer.alloc(11)],
    ['version 1', Buffer.from([0x40, ...Buffer.alloc(15)])],
    ['an RTCP sender report', Buffer.from([0x80, 200, 0, 6, ...Buffer.alloc(24)])],
    ['an extension past the end', Buffer.from([0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 9])],
    ['padding past the payload', Buffer.from([0xa0, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 200])],
    ['zero padding', Buffer.from([0xa0, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0])],
  ])('rejects %s without throwing', (_name, packet) => {
    expect(readRtpHeader(packet)).toBeUndefined();
  });

  it('never throws on random bytes', () => {
    let seed = 7;
    for (let round = 0; round < 2000; round++) {
      const packet = Buffer.alloc(round % 64);
      for (let index = 0; index < packet.length; index++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        packet[index] = seed & 0xff;
      }
      expect(() => readRtpHeader(packet)).not.toThrow();
    }
  });
});

describe('RtpContinuity', () => {
  const apply = (continuity: RtpContinuity, ssrc: number, seq: number, ts: number, now: number) => {
    const packet = rtp({ ssrc, seq, ts });
    continuity.rewrite(packet, ssrc, seq, ts, now);
    return { seq: packet.readUInt16BE(2), ts: packet.readUInt32BE(4) };
  };

  it('passes the first stream through unchanged', () => {
    const continuity = new RtpContinuity(90_000);
    expect(apply(continuity, 1, 500, 9000, 0)).toEqual({ seq: 500, ts: 9000 });
    expect(apply(continuity, 1, 501, 12000, 33)).toEqual({ seq: 501, ts: 12000 });
  });

  it('continues sequence and timestamp across a restart, with wraparound on both sides', () => {
    const continuity = new RtpContinuity(90_000);
    apply(continuity, 1, 65534, 4294967000, 1000);
    expect(apply(continuity, 1, 65535, 4294967200, 1010)).toEqual({ seq: 65535, ts: 4294967200 });
    // FFmpeg restarted 2 s later with a new SSRC and new bases.
    const first = apply(continuity, 2, 12345, 777, 3010);
    expect(first.seq).toBe(0);
    expect(first.ts).toBe((4294967200 + 180_000) >>> 0);
    expect(apply(continuity, 2, 12346, 777 + 3000, 3043)).toEqual({ seq: 1, ts: (first.ts + 3000) >>> 0 });
    // The new stream's own wraparound still maps one to one.
    const wrapping = new RtpContinuity(48_000);
    apply(wrapping, 5, 65535, 4294967295, 0);
    expect(apply(wrapping, 5, 0, 959, 20)).toEqual({ seq: 0, ts: 959 });
  });
});

describe('startsKeyframe', () => {
  const at = (bytes: number[]) => startsKeyframe(Buffer.from(bytes), 0, bytes.length);
  it('finds SPS, IDR, FU-A starts of an IDR and STAP-A with an SPS', () => {
    expect(at([0x67, 0x42])).toBe(true);
    expect(at([0x65, 0x88])).toBe(true);
    expect(at([0x7c, 0x85])).toBe(true);
    expect(at([0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce])).toBe(true);
  });
  it('ignores non-IDR slices, FU-A continuations and empty payloads', () => {
    expect(at([0x41, 0x9a])).toBe(false);
    expect(at([0x7c, 0x05])).toBe(false);
    expect(at([0x7c, 0x81])).toBe(false);
    expect(at([])).toBe(false);
    expect(at([0x78, 0x00])).toBe(false);
  });
});

describe('startsVp8Keyframe', () => {
  const at = (bytes: number[]) => startsVp8Keyframe(Buffer.from(bytes), 0, bytes.length);
  it('finds the first packet of a key frame, past every optional descriptor byte', () => {
    // S=1, PID=0, then the payload header with P=0.
    expect(at([0x10, 0x9c])).toBe(true);
    // X with I (15-bit picture id), L and T/K: four more descriptor bytes.
    expect(at([0x90, 0xe0, 0x80 | 0x12, 0x34, 0x05, 0x20, 0x9c])).toBe(true);
    // X with I (7-bit picture id) only.
    expect(at([0x90, 0x80, 0x12, 0x9c])).toBe(true);
  });
  it('ignores inter frames, continuations, later partitions and truncated descriptors', () => {
    expect(at([0x10, 0x9d])).toBe(false);
    expect(at([0x00, 0x9c])).toBe(false);
    expect(at([0x11, 0x9c])).toBe(false);
    expect(at([0x90, 0x80, 0x92])).toBe(false);
    expect(at([0x90])).toBe(false);
    expect(at([])).toBe(false);
  });
});
