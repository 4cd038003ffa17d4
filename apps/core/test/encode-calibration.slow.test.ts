import { describe, expect, it } from 'vitest';
import { EncodeCalibration } from '../src/webrtc/encode-calibration.js';

describe('the machine factor with the real FFmpeg', () => {
  it('is measured from two -benchmark runs, not the fallback', { timeout: 60_000 }, async () => {
    const calibration = new EncodeCalibration({
      ffmpegBinary: process.env.CORE_FFMPEG_BINARY ?? 'ffmpeg',
      // A busy CI machine: the bound is on a failure, not on the figure.
      timeoutMs: 30_000,
    });
    const result = await calibration.get();
    expect(result.note).toMatch(
      /^renditions' CPU estimates from this machine: a 360p rung of a 720p25 input takes [\d.]+ % of a core/,
    );
    expect(result.factor).toBeGreaterThan(0);
    expect(Number.isFinite(result.factor)).toBe(true);
  });
});
