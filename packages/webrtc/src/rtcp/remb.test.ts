import { describe, expect, it } from 'vitest';
import { parseRemb, Remb, writeRemb } from './remb.js';

function parse(bytes: Uint8Array, remb = new Remb()): { status: string; remb: Remb } {
  return { status: parseRemb(bytes, 0, bytes.length, remb), remb };
}

describe('REMB', () => {
  it('reads the draft layout: exponent, 18-bit mantissa, SSRC list', () => {
    // 'REMB', 2 SSRCs, exponent 3, mantissa 0x12345: 74565 × 8 = 596520 bit/s.
    const bytes = Uint8Array.from([
      ...[0x8f, 206, 0x00, 0x06],
      ...[0x00, 0x00, 0x00, 0x01],
      ...[0x00, 0x00, 0x00, 0x00],
      ...[0x52, 0x45, 0x4d, 0x42],
      ...[0x02, (3 << 2) | 0x01, 0x23, 0x45],
      ...[0x11, 0x11, 0x11, 0x11],
      ...[0x22, 0x22, 0x22, 0x22],
    ]);
    const { status, remb } = parse(bytes);

    expect(status).toBe('ok');
    expect(remb.senderSsrc).toBe(1);
    expect(remb.bitrateBps).toBe(596_520);
    expect(Array.from(remb.ssrcs.subarray(0, remb.ssrcCount))).toEqual([0x11111111, 0x22222222]);
  });

  it('round-trips bitrates to what 18 bits of mantissa can say', () => {
    for (const bps of [0, 1, 262_143, 262_144, 537_000, 2_500_000, 30_000_000, 8_000_000_000]) {
      const { status, remb } = parse(writeRemb(bps, 7, [0xdeadbeef]));
      expect(status).toBe('ok');
      expect(remb.bitrateBps).toBeLessThanOrEqual(bps);
      expect(remb.bitrateBps).toBeGreaterThan(bps * (1 - 2 ** -17) - 1);
      expect(remb.ssrcs[0]).toBe(0xdeadbeef);
    }
  });

  it('refuses other feedback, a missing identifier and an SSRC count beyond the packet', () => {
    const good = writeRemb(500_000, 1, [2, 3]);
    const pli = Uint8Array.from([0x81, 206, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2]);
    const noIdentifier = good.slice();
    noIdentifier[12] = 0x41;
    const tooMany = good.slice();
    tooMany[16] = 9;

    expect(parse(pli).status).toBe('not-remb');
    expect(parse(noIdentifier).status).toBe('not-remb');
    expect(parse(tooMany).status).toBe('truncated');
    expect(parse(good.subarray(0, 16)).status).toBe('truncated');
  });

  it('keeps as many SSRCs as it has room for', () => {
    const { status, remb } = parse(writeRemb(1_000_000, 1, [1, 2, 3, 4]), new Remb(2));
    expect(status).toBe('ok');
    expect(remb.ssrcCount).toBe(2);
  });
});
