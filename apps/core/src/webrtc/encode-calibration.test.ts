import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EncodeCalibration } from './encode-calibration.js';

const work = mkdtempSync(join(tmpdir(), 'dragon-calibration-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** An FFmpeg stand-in that prints a bench line: less CPU for the generator alone, more with the rung. */
function fakeFfmpeg(name: string, script: string): string {
  const path = join(work, name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('the machine factor of the renditions estimates', () => {
  it("is a rung's CPU on this machine against the model's, measured once", async () => {
    const counter = join(work, 'runs');
    // The generator alone: 0.2 s; with the 360p rung (its args name libx264): 0.2 + 4 × 0.13 s.
    const ffmpeg = fakeFfmpeg(
      'bench',
      `echo run >> ${counter}
case "$*" in *libx264*) echo "bench: utime=0.700s stime=0.020s rtime=0.9s" >&2;; *) echo "bench: utime=0.180s stime=0.020s rtime=0.3s" >&2;; esac`,
    );
    const calibration = new EncodeCalibration({ ffmpegBinary: ffmpeg });

    const [first, second] = await Promise.all([calibration.get(), calibration.get()]);
    expect(first.factor).toBe(2);
    expect(first.note).toMatch(/a 360p rung of a 720p25 input takes 13 % of a core, 2× the model/);
    expect(second).toBe(first);
    expect(readFileSync(counter, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('is the conservative 2 when FFmpeg fails, and says why', async () => {
    const ffmpeg = fakeFfmpeg('broken', 'echo "Unknown encoder libx264" >&2; exit 1');
    const result = await new EncodeCalibration({ ffmpegBinary: ffmpeg }).get();
    expect(result.factor).toBe(2);
    expect(result.note).toMatch(
      /^renditions' CPU estimates at 2× the model: timing a rung on this machine failed \(ffmpeg -benchmark: Command failed/,
    );
  });

  it('is the conservative 2 when FFmpeg prints no bench line', async () => {
    const ffmpeg = fakeFfmpeg('silent', 'exit 0');
    const result = await new EncodeCalibration({ ffmpegBinary: ffmpeg }).get();
    expect(result).toMatchObject({ factor: 2 });
    expect(result.note).toContain('printed no bench line');
  });
});
