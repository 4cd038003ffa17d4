import { describe, expect, it } from 'vitest';
import { H264ParameterSets } from './h264-parameter-sets.js';

const sps = Buffer.from('6742c01e8c8d40a02d80', 'hex');
const pps = Buffer.from('68ce3c80', 'hex');

function rtp(payload: Buffer, options: { extension?: boolean } = {}): Buffer {
  const header = Buffer.from('800000010000000000000001', 'hex');
  if (!options.extension) return Buffer.concat([header, payload]);
  header[0] = 0x90;
  // One word of extension (profile 0xBEDE, one element).
  return Buffer.concat([header, Buffer.from('bede000110ff0000', 'hex'), payload]);
}

function stapA(...units: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0x18])];
  for (const unit of units) {
    const size = Buffer.alloc(2);
    size.writeUInt16BE(unit.length);
    parts.push(size, unit);
  }
  return Buffer.concat(parts);
}

describe('H264ParameterSets', () => {
  it('reads SPS and PPS sent as single NAL units into profile-level-id and sprop-parameter-sets', () => {
    const sets = new H264ParameterSets();
    sets.readPacket(rtp(sps));
    expect(sets.complete).toBe(false);
    expect(sets.fmtp()).toBeUndefined();
    sets.readPacket(rtp(pps));

    expect(sets.fmtp()).toEqual({
      profileLevelId: '42c01e',
      spropParameterSets: `${sps.toString('base64')},${pps.toString('base64')}`,
    });
  });

  it('reads them from a STAP-A behind a header extension, as browsers send them', () => {
    const sets = new H264ParameterSets();
    sets.readPacket(rtp(stapA(sps, pps, Buffer.from([0x65, 0x88])), { extension: true }));

    expect(sets.fmtp()?.profileLevelId).toBe('42c01e');
    expect(sets.complete).toBe(true);
  });

  it('ignores truncated aggregation packets and slices', () => {
    const sets = new H264ParameterSets();
    const truncated = stapA(sps, pps).subarray(0, 8);
    sets.readPacket(rtp(truncated));
    sets.readPacket(rtp(Buffer.from([0x65, 0x88, 0x84])));
    sets.readPacket(Buffer.alloc(5));

    expect(sets.complete).toBe(false);
  });
});
