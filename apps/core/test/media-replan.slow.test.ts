import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InputFacts } from '@dragon/ffmpeg-args';
import type { ProcessManager } from '@dragon/restream';
import { waitFor } from '@dragon/test-helpers';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { runFFmpeg, stopFFmpegs } from './ffmpeg-child.js';
import { subsystemWithManager } from './webrtc-harness.js';

// The server's side of replanning, with real FFmpeg: a probe that is wrong about the input (as a
// probe of a moment ago, or one that read too few packets, can be) must not leave a process that
// cannot play. The probe is the injected part; FFmpeg, the banner check and the health inspector
// are real.

let dir = '';
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dragon-media-replan-'));
  const pattern = ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '60'];
  const x264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-g', '25'];
  for (const args of [
    [...pattern, ...x264, '-profile:v', 'main', '-bf', '2', '-an', join(dir, 'bframes.ts')],
    [...pattern, ...x264, '-bf', '0', '-an', join(dir, 'video-only.ts')],
  ]) {
    const run = runFFmpeg(['-y', ...args]);
    if ((await run.exited) !== 0) throw new Error(run.stderr());
  }
}, 120_000);
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(async () => {
  await stopFFmpegs();
  rmSync(dir, { recursive: true, force: true });
});

/** H.264 Main without B-frames, the way a probe that missed them would report the input. */
function misreported(audio: boolean): InputFacts {
  return {
    source: 'probe',
    format: 'mpegts',
    listening: false,
    streams: [
      { index: 0, kind: 'video', codec: 'h264', profile: 'Main', pix_fmt: 'yuv420p', reorders: false },
      ...(audio
        ? [{ index: 1, kind: 'audio' as const, codec: 'aac', sample_rate: 48_000, channels: 2 }]
        : []),
    ],
  };
}

async function setup(facts: InputFacts) {
  const harness = await subsystemWithManager({ facts, dataDir: dir });
  closers.push(() => harness.close());
  return harness;
}

const processConfig = (input: string) => ({
  id: 'replan',
  input: [{ id: 'in', address: join(dir, input), options: ['-re'] }],
  output: [],
  autostart: true,
  reconnect: true,
  reconnect_delay_seconds: 1,
  webrtc: { enabled: true },
});

const logLines = (manager: ProcessManager) => {
  const report = manager.getReport('replan');
  return [...report.history.flatMap((run) => run.log), ...report.log].map(([, line]) => line);
};

it('restarts once with the video transcoded when a copied leg turns out to carry B-frames', async () => {
  const { manager, subsystem } = await setup(misreported(false));
  await manager.add(processConfig('bframes.ts'));
  await waitFor('the copy plan', () => subsystem.status('replan')?.plan.video.action === 'copy', 60_000);

  const replanned = await waitFor(
    'a transcoding plan whose video decodes',
    () => {
      const status = subsystem.status('replan');
      return status?.plan.video.action === 'transcode' && status.health.status === 'ok' ? status : undefined;
    },
    120_000,
  );
  expect(replanned.plan.video.reason).toContain('B-frames');
  expect(replanned.health.reordered_frames).toBe(0);
  const lines = logLines(manager);
  expect(lines.filter((line) => line.startsWith('restarting: webrtc: B-frames'))).toHaveLength(1);
  expect(lines.some((line) => line.includes('the copied H.264 has B-frames'))).toBe(true);
}, 240_000);

it('restarts without the audio leg when FFmpeg finds no audio the probe promised', async () => {
  const { manager, subsystem } = await setup(misreported(true));
  await manager.add(processConfig('video-only.ts'));

  const replanned = await waitFor(
    'a plan from the banner with audio off, and video flowing',
    () => {
      const status = subsystem.status('replan');
      return status?.plan.basis === 'banner' && status.health.status === 'ok' ? status : undefined;
    },
    120_000,
  );
  expect(replanned.plan.audio).toMatchObject({ action: 'off', reason: 'the input has no audio stream' });
  expect(manager.getState('replan').exec).toBe('running');
  expect(
    logLines(manager).some((line) => line.startsWith('restarting: webrtc: the media plan does not fit')),
  ).toBe(true);
}, 240_000);
