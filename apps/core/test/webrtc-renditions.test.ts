import type { InputFacts } from '@dragon/ffmpeg-args';
import type { ProcessManager } from '@dragon/restream';
import { waitFor } from '@dragon/test-helpers';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/config-schema.js';
import { type PolicyConfig, WebRtcPolicy } from '../src/webrtc/webrtc-policy.js';
import { viewerStatus } from '../src/webrtc/webrtc-status.js';
import { subsystemWithManager, waitingFfmpegWork } from './webrtc-harness.js';

// What a process's renditions settings make of its plan, its FFmpeg command, its state and its
// log. The probe and the machine are injected (the decisions rest on them); FFmpeg is a script that
// waits, since no media is needed to see the plan and the legs.

const { work, fakeFFmpeg, closers } = waitingFfmpegWork('dragon-renditions-');

const server = configSchema.parse({}).webrtc;
const camera720: InputFacts = {
  source: 'probe',
  format: 'rtsp',
  listening: false,
  streams: [
    {
      index: 0,
      kind: 'video',
      codec: 'h264',
      profile: 'High',
      pix_fmt: 'yuv420p',
      reorders: false,
      width: 1280,
      height: 720,
      fps: 25,
    },
    { index: 1, kind: 'audio', codec: 'aac', sample_rate: 48_000, channels: 2 },
  ],
};

async function setup(policy: Partial<PolicyConfig> = {}, cores = 2) {
  const harness = await subsystemWithManager({
    facts: camera720,
    dataDir: work,
    policy: new WebRtcPolicy({ ...server, ...policy }, () => ({ cores, load: 0 })),
    ffmpegBinary: fakeFFmpeg,
    // The model's own margin, as on a machine measured 1.5 times slower than the reference.
    calibration: { get: async () => ({ factor: 1.5, note: 'calibrated for the test: 1.5×' }) },
  });
  closers.push(() => harness.close());
  return harness;
}

const camera = (id: string, webrtc: Record<string, unknown>) => ({
  id,
  input: [{ id: 'input_0', address: 'rtsp://127.0.0.1:8554/cam', options: [] }],
  output: [{ id: 'output_0', address: '-', options: ['-codec', 'copy', '-f', 'null'] }],
  autostart: true,
  webrtc: { enabled: true, ...webrtc },
});
const running = (manager: ProcessManager, id: string) =>
  waitFor(`${id} running`, () => manager.getState(id).exec === 'running', 30_000);
const logOf = (manager: ProcessManager, id: string) => manager.getReport(id).log.map(([, line]) => line);

describe('renditions of a process', () => {
  it('are made by the same FFmpeg, received by the source as tracks of their own, and shown with what they cost', async () => {
    const { manager, subsystem } = await setup();
    await manager.add(camera('cam', { renditions: 'auto', vp8: 'always' }));
    await running(manager, 'cam');

    const plan = subsystem.status('cam')!.plan;
    expect(plan.renditions.map(({ id, kind, action }) => [id, kind, action])).toEqual([
      ['720p', 'top', 'copy'],
      ['480p', 'rung', 'transcode'],
      ['360p', 'rung', 'transcode'],
      ['240p', 'rung', 'transcode'],
      ['vp8-360p', 'vp8', 'transcode'],
      ['audio', 'audio-only', 'transcode'],
    ]);
    for (const rung of plan.renditions.slice(1, 5)) expect(rung.estimated_cpu).toBeGreaterThan(0);
    expect(plan.ladder_notes).toEqual([]);
    expect(plan.ladder_cpu_cores).toBeGreaterThan(0);
    // One FFmpeg: the top copied, one encode per rendition, each on a loopback port of its own.
    const command = manager.getState('cam').command.join(' ');
    expect(command.match(/libx264/g)).toHaveLength(3);
    expect(command.match(/libvpx/g)).toHaveLength(1);
    const ports = [...command.matchAll(/udp:\/\/127\.0\.0\.1:(\d+)/g)].map((match) => match[1]);
    expect(new Set(ports).size).toBe(ports.length);
    expect(ports).toHaveLength(6); // video, audio and four renditions
    const log = logOf(manager, 'cam');
    expect(log).toContain(
      `webrtc renditions: 720p copy, 480p transcode, 360p transcode, 240p transcode, vp8-360p transcode, audio transcode; about ${plan.ladder_cpu_cores} cores`,
    );
    expect(log).toContain('webrtc: calibrated for the test: 1.5×');
    // The player learns which renditions it may get.
    expect(viewerStatus('running', subsystem.status('cam')).renditions).toEqual([
      { id: '720p', height: 720 },
      { id: '480p', height: 480 },
      { id: '360p', height: 360 },
      { id: '240p', height: 240 },
      { id: 'vp8-360p', height: 360 },
      { id: 'audio' },
    ]);
  });

  it('refuses the rungs the machine cannot afford, in order of use, and says so in the plan', async () => {
    // 0.1 of one core: room for neither the decode of the copied top nor a rung.
    const { manager, subsystem } = await setup({ renditions_cpu_budget: 0.1 }, 1);
    await manager.add(camera('cam', { renditions: 'auto' }));
    await running(manager, 'cam');

    const plan = subsystem.status('cam')!.plan;
    // VP8 made on demand is kept room for right after 360p (its picture), so it is refused there too.
    expect(plan.ladder_notes.slice(0, 4).map((note) => note.split(':')[0])).toEqual([
      '360p not added',
      'vp8-360p not made on demand',
      '240p not added',
      '480p not added',
    ]);
    expect(plan.ladder_notes[0]).toContain(
      '0.1 are left (webrtc.renditions_cpu_budget is 0.1 of 1 cores, 0 taken by the renditions of 0 other processes)',
    );
    expect(plan.renditions.find((rendition) => rendition.id === '360p')?.reason).toBe(plan.ladder_notes[0]);
  });

  it("follow the server's default unless the process says otherwise", async () => {
    const { manager, subsystem } = await setup({ renditions: 'auto', vp8: 'off' });
    await manager.add(camera('plain', {}));
    await manager.add(camera('single', { renditions: 'off' }));
    await running(manager, 'plain');
    await running(manager, 'single');

    expect(subsystem.status('plain')!.plan.renditions.map((r) => r.id)).toEqual([
      '720p',
      '480p',
      '360p',
      '240p',
      'audio',
    ]);
    expect(subsystem.status('single')!.plan.renditions).toEqual([]);
  });
});
