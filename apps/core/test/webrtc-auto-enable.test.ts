import type { InputFacts, StreamFacts } from '@dragon/ffmpeg-args';
import type { ProcessManager } from '@dragon/restream';
import { waitFor } from '@dragon/test-helpers';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/config-schema.js';
import { type AutoEnableConfig, type MachineLoad, WebRtcPolicy } from '../src/webrtc/webrtc-policy.js';
import { subsystemWithManager, waitingFfmpegWork } from './webrtc-harness.js';

// What the server decides for processes whose config does not mention WebRTC. The probe and the
// machine's load are injected (they are what the decisions rest on); FFmpeg is a script that
// waits, since no media is needed to see the plan, its legs and what the process's state and log say.

const { work, fakeFFmpeg, closers } = waitingFfmpegWork('dragon-auto-enable-');

const server = configSchema.parse({}).webrtc;
const defaults = server.auto_enable;
const ingest = (n: number) => `restreamer-ui:ingest:7d1f3c2a-0b4e-4d6f-9a1b-2c3d4e5f6a7${n}`;
const camera = (video: Partial<StreamFacts>): InputFacts => ({
  source: 'probe',
  format: 'mpegts',
  listening: false,
  streams: [
    { index: 0, kind: 'video', codec: 'h264', pix_fmt: 'yuv420p', reorders: false, ...video },
    { index: 1, kind: 'audio', codec: 'aac', sample_rate: 48_000, channels: 2 },
  ],
});
const baseline = camera({ profile: 'Constrained Baseline', width: 1280, height: 720, fps: 25 });
const hevc1080 = camera({ codec: 'hevc', profile: 'Main', width: 1920, height: 1080, fps: 25 });

async function setup(facts: InputFacts, autoEnable: Partial<AutoEnableConfig> = {}, machine?: MachineLoad) {
  const harness = await subsystemWithManager({
    facts,
    dataDir: work,
    policy: new WebRtcPolicy(
      { ...server, auto_enable: { ...defaults, ...autoEnable } },
      machine ?? (() => ({ cores: 8, load: 0 })),
    ),
    ffmpegBinary: fakeFFmpeg,
  });
  closers.push(() => harness.close());
  return harness;
}

/** A channel ingest as the Restreamer UI creates it: HLS into memfs, no `webrtc` field. */
const channel = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  reference: id.slice(-4),
  input: [{ id: 'input_0', address: 'udp://127.0.0.1:1234', options: [] }],
  output: [{ id: 'output_0', address: '-', options: ['-codec', 'copy', '-f', 'null'] }],
  autostart: true,
  ...extra,
});

const running = (manager: ProcessManager, id: string) =>
  waitFor(`${id} running`, () => manager.getState(id).exec === 'running', 30_000);
const logOf = (manager: ProcessManager, id: string) => manager.getReport(id).log.map(([, line]) => line);

describe('webrtc.auto_enable', () => {
  it('gives a UI channel WebRTC without a webrtc field, and its state and log say so and where to watch', async () => {
    const { manager, subsystem } = await setup(baseline);
    await manager.add(channel(ingest(1)));
    await running(manager, ingest(1));

    const status = subsystem.status(ingest(1));
    expect(status).toMatchObject({
      enabled_by: 'auto_enable',
      player: `/player/${encodeURIComponent(ingest(1))}`,
      plan: { video: { action: 'copy', cpu_cores: 0 }, cpu_cores: status?.plan.audio.cpu_cores },
    });
    expect(manager.getConfig(ingest(1))).not.toHaveProperty('webrtc');
    expect(manager.getState(ingest(1)).command).toContain('rtp');
    const log = logOf(manager, ingest(1));
    expect(log).toContain('webrtc: on by webrtc.auto_enable (the process config has no webrtc block)');
    expect(log.some((line) => line.startsWith('webrtc: sub-second player at /player/'))).toBe(true);
    expect(log.some((line) => /^webrtc plan \(probe\): .*; about [\d.]+ cores$/.test(line))).toBe(true);
  });

  it('leaves a transcode off that transcode_cores cannot take, saying what it would cost', async () => {
    const { manager, subsystem } = await setup(hevc1080, { transcode_cores: 0.3 });
    await manager.add(channel(ingest(1)));
    await running(manager, ingest(1));

    const plan = subsystem.status(ingest(1))!.plan;
    expect(plan.video).toMatchObject({ action: 'off', cpu_cores: 0 });
    expect(plan.video.reason).toMatch(/would take about 0\.6 cores; 0\.3 are left \(webrtc\.auto_enable/);
    // Opus from AAC costs little and fits: the channel plays audio, and the player says why no video.
    expect(plan.audio.action).toBe('transcode');
  });

  it('leaves it off when the machine has no idle cores, whatever transcode_cores allows', async () => {
    const { manager, subsystem } = await setup(hevc1080, { transcode_cores: 8 }, () => ({
      cores: 2,
      load: 2.4,
    }));
    await manager.add(channel(ingest(1)));
    await running(manager, ingest(1));

    const plan = subsystem.status(ingest(1))!.plan;
    expect(plan.video.action).toBe('off');
    expect(plan.video.reason).toContain('the machine has about 0 of 2 cores idle (load 2.4)');
  });

  it("gives a second channel only what the first one's transcode left", async () => {
    const { manager, subsystem } = await setup(hevc1080, { transcode_cores: 1 });
    await manager.add(channel(ingest(1)));
    await running(manager, ingest(1));
    await manager.add(channel(ingest(2)));
    await running(manager, ingest(2));

    expect(subsystem.status(ingest(1))!.plan.video.action).toBe('transcode');
    expect(subsystem.status(ingest(2))!.plan.video.action).toBe('off');
    expect(subsystem.status(ingest(2))!.plan.video.reason).toContain('taken by other processes');
  });

  it('transcodes for a process whose own webrtc block asks, whatever it costs, and shows the cost', async () => {
    const { manager, subsystem } = await setup(hevc1080, { transcode_cores: 0 });
    await manager.add(channel('cam', { webrtc: { enabled: true } }));
    await running(manager, 'cam');

    const status = subsystem.status('cam')!;
    expect(status.enabled_by).toBe('config');
    expect(status.plan.video.action).toBe('transcode');
    expect(status.plan.cpu_cores).toBeGreaterThan(0.5);
  });

  it('sends nothing for an explicit enabled: false, nor for the UI snapshot process', async () => {
    const { manager, subsystem } = await setup(baseline);
    await manager.add(channel(ingest(1), { webrtc: { enabled: false } }));
    await manager.add(channel(`${ingest(2)}_snapshot`));
    await running(manager, ingest(1));
    await running(manager, `${ingest(2)}_snapshot`);

    expect(subsystem.status(ingest(1))).toBeUndefined();
    expect(subsystem.source(`${ingest(2)}_snapshot`)).toBeUndefined();
    expect(manager.getState(ingest(1)).command).not.toContain('rtp');
  });
});
