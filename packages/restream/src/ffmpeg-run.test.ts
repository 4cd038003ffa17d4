import { describe, expect, it } from 'vitest';
import { speedOver } from './ffmpeg-run.js';

/** Progress reports one second apart, with the output time each one gave. */
const reports = (...times: number[]) => times.map((time, index) => ({ at: 50_000 + index * 1000, time }));

describe('speedOver', () => {
  it("is FFmpeg's output time per wall-clock second over the reports", () => {
    expect(speedOver(reports(10, 11, 12, 13))).toBe(1);
    expect(speedOver(reports(10, 10.3, 10.6, 10.9))).toBeCloseTo(0.3);
    expect(speedOver(reports(10, 14, 18))).toBe(4);
  });

  it('is undefined until the reports span two seconds of output that has begun', () => {
    expect(speedOver([])).toBeUndefined();
    expect(speedOver(reports(10, 11))).toBeUndefined();
    // Reports before the first output (analysing a live input) say nothing of its speed.
    expect(speedOver(reports(0, 0, 0, 0.5, 1.5))).toBeUndefined();
    expect(speedOver(reports(0, 0, 0.5, 1.5, 2.5))).toBe(1);
  });
});
