import { describe, expect, it } from 'vitest';
import { H264Inspector, readVideoHealth } from './h264-inspector.js';

const sps = [0x67, 0x42, 0xe0, 0x1f];
const pps = [0x68, 0xce, 0x3c, 0x80];
const idr = [0x65, 0x88, 0x84];
const slice = [0x41, 0x9a, 0x02];

/** An H.264 RTP payload behind a 12-byte header, as the inspector gets it. */
function packet(payload: number[]): { bytes: Buffer; offset: number; length: number } {
  return { bytes: Buffer.from([...Buffer.alloc(12), ...payload]), offset: 12, length: payload.length };
}

/** STAP-A (RFC 6184 §5.7.1): type 24, then 16-bit size + NAL unit, repeated. */
const stapA = (...units: number[][]) => [
  0x78,
  ...units.flatMap((unit) => [unit.length >> 8, unit.length & 0xff, ...unit]),
];
/** FU-A (RFC 6184 §5.8): indicator type 28 with the NAL's NRI, header with S/E bits and the NAL type. */
const fuA = (nal: number[], position: 'start' | 'middle' | 'end') => [
  (nal[0]! & 0xe0) | 28,
  (position === 'start' ? 0x80 : position === 'end' ? 0x40 : 0) | (nal[0]! & 0x1f),
  ...nal.slice(1),
];

function feed(inspector: H264Inspector, timestamp: number, payload: number[], now = 1000) {
  const { bytes, offset, length } = packet(payload);
  inspector.inspect(bytes, offset, length, timestamp, now);
}

describe('H264Inspector', () => {
  it('counts a keyframe as decodable when SPS and PPS come before its IDR slice in the access unit', () => {
    const inspector = new H264Inspector();
    feed(inspector, 3000, sps);
    feed(inspector, 3000, pps);
    feed(inspector, 3000, fuA(idr, 'start'), 1234);
    feed(inspector, 3000, fuA(idr, 'middle'));
    feed(inspector, 3000, fuA(idr, 'end'));
    feed(inspector, 6000, slice, 1300);

    expect(readVideoHealth(inspector.fields)).toEqual({
      accessUnits: 2,
      keyframes: 1,
      decodableKeyframes: 1,
      reorderedAccessUnits: 0,
      lastKeyframeAt: 1234,
      lastDecodableKeyframeAt: 1234,
    });
  });

  it('reads parameter sets and the IDR slice out of one STAP-A', () => {
    const inspector = new H264Inspector();
    feed(inspector, 0, stapA(sps, pps, idr));

    const health = readVideoHealth(inspector.fields);
    expect(health.keyframes).toBe(1);
    expect(health.decodableKeyframes).toBe(1);
  });

  it('does not count an IDR without parameter sets in its access unit as decodable (an RTSP camera copied as is)', () => {
    const inspector = new H264Inspector();
    feed(inspector, 0, sps);
    feed(inspector, 0, pps);
    feed(inspector, 0, idr);
    // Later keyframes arrive bare: parameter sets only in the camera's SDP.
    feed(inspector, 90_000, fuA(idr, 'start'));
    feed(inspector, 180_000, idr);

    const health = readVideoHealth(inspector.fields);
    expect(health.keyframes).toBe(3);
    expect(health.decodableKeyframes).toBe(1);
  });

  it('counts a multi-slice IDR picture once', () => {
    const inspector = new H264Inspector();
    feed(inspector, 0, stapA(sps, pps));
    feed(inspector, 0, fuA(idr, 'start'));
    feed(inspector, 0, fuA(idr, 'end'));
    feed(inspector, 0, fuA(idr, 'start'));

    expect(readVideoHealth(inspector.fields).keyframes).toBe(1);
  });

  it('counts access units whose timestamp goes back (B-frames in decoding order)', () => {
    const inspector = new H264Inspector();
    // I0 P3 B1 B2 P6 B4 B5: presentation times in units of 3000, sent in decoding order.
    for (const frame of [0, 3, 1, 2, 6, 4, 5])
      feed(inspector, frame * 3000, frame === 0 ? stapA(sps, pps, idr) : slice);

    const health = readVideoHealth(inspector.fields);
    expect(health.accessUnits).toBe(7);
    expect(health.reorderedAccessUnits).toBe(2);
  });

  it('takes a timestamp past the 32-bit wrap as going forward', () => {
    const inspector = new H264Inspector();
    feed(inspector, 0xffff_f000, slice);
    feed(inspector, 0x0000_0200, slice);

    expect(readVideoHealth(inspector.fields).reorderedAccessUnits).toBe(0);
  });

  it('never throws on random payloads, truncated STAP-A and empty packets', () => {
    const inspector = new H264Inspector();
    let seed = 11;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed & 0xff;
    };
    for (let i = 0; i < 2000; i++) {
      const payload = Array.from({ length: random() % 40 }, random);
      feed(inspector, i * 10, payload);
    }
    feed(inspector, 1, [0x78, 0x00, 0x40, 0x67]);
    feed(inspector, 2, []);
    expect(readVideoHealth(inspector.fields).accessUnits).toBeGreaterThan(0);
  });
});
