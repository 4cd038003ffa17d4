import { describe, expect, it } from 'vitest';
import { rebase, SwitchLog } from './switch-log.js';

describe('rebase', () => {
  it('continues the sequence numbers without a gap and the timestamps by the time between the packets', () => {
    const end = { outExt: 70_000, outTs: 4_294_960_000, arrivalMs: 1000 };
    const { seqOffset, tsOffset } = rebase(end, 500, 12_345, 1040, 90_000);
    expect(500 + seqOffset).toBe(70_001);
    // 40 ms at 90 kHz after the last timestamp, across the 32-bit wrap.
    expect((12_345 + tsOffset) >>> 0).toBe((4_294_960_000 + 3600) >>> 0);
  });

  it('moves the timestamp on by at least one tick when both packets arrived at once', () => {
    const { tsOffset } = rebase({ outExt: 9, outTs: 100, arrivalMs: 50 }, 9, 100, 40, 90_000);
    expect((100 + tsOffset) >>> 0).toBe(101);
  });
});

describe('SwitchLog', () => {
  it('finds the run a sequence number was sent in, newest first, and forgets beyond its bound', () => {
    const log = new SwitchLog<string>();
    log.push({ outStart: 0, track: 'top', seqOffset: 0, tsOffset: 0 });
    log.push({ outStart: 100, track: '360p', seqOffset: 40, tsOffset: 7 });
    expect(log.find(99)?.track).toBe('top');
    expect(log.find(100)).toEqual({ outStart: 100, track: '360p', seqOffset: 40, tsOffset: 7 });
    expect(log.find(5000)?.track).toBe('360p');
    for (let index = 1; index <= 16; index++) {
      log.push({ outStart: 100 + index * 10, track: `r${index}`, seqOffset: 0, tsOffset: 0 });
    }
    expect(log.size).toBe(16);
    expect(log.find(99)).toBeUndefined();
    expect(log.find(125)?.track).toBe('r2');
  });
});
