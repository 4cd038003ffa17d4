import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InputFacts } from '@dragon/ffmpeg-args';
import { PortAllocator } from '@dragon/portalloc';
import { ProcessManager } from '@dragon/restream';
import { pino } from 'pino';
import { afterAll, afterEach } from 'vitest';
import { configSchema } from '../src/config/config-schema.js';
import type { CostCalibration } from '../src/webrtc/encode-calibration.js';
import { WebRtcPolicy } from '../src/webrtc/webrtc-policy.js';
import { WebRtcSubsystem } from '../src/webrtc/webrtc-subsystem.js';

export interface SubsystemHarness {
  manager: ProcessManager;
  subsystem: WebRtcSubsystem;
  close(): Promise<void>;
}

/**
 * A process manager with the WebRTC subsystem's hooks, the probe answering `facts`: the server's
 * media side without HTTP. `policy` decides which processes send WebRTC (the defaults unless
 * given); `ffmpegBinary` may be a script standing in for FFmpeg.
 */
export async function subsystemWithManager(options: {
  facts: InputFacts;
  dataDir: string;
  policy?: WebRtcPolicy;
  ffmpegBinary?: string;
  calibration?: CostCalibration;
}): Promise<SubsystemHarness> {
  const ports = new PortAllocator();
  const subsystem = new WebRtcSubsystem({
    ports,
    logger: pino({ level: 'silent' }),
    policy: options.policy ?? new WebRtcPolicy(configSchema.parse({}).webrtc),
    ffmpegBinary: 'ffmpeg',
    probe: async () => options.facts,
    ...(options.calibration ? { calibration: options.calibration } : {}),
  });
  const manager = await ProcessManager.create({
    dataDir: mkdtempSync(join(options.dataDir, 'db-')),
    ...(options.ffmpegBinary ? { ffmpegBinary: options.ffmpegBinary } : {}),
    hooks: subsystem.hooks,
    skipSkills: true,
  });
  return {
    manager,
    subsystem,
    close: async () => {
      await manager.close();
      await subsystem.close();
      ports.close();
    },
  };
}

/**
 * A test file's working directory with an FFmpeg stand-in that waits (no media is needed to see a
 * plan, its legs and what the process's state and log say), and `closers` run after each test.
 */
export function waitingFfmpegWork(prefix: string): {
  work: string;
  fakeFFmpeg: string;
  closers: (() => Promise<void>)[];
} {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const fakeFFmpeg = join(work, 'ffmpeg');
  writeFileSync(fakeFFmpeg, '#!/bin/sh\nexec sleep 60\n');
  chmodSync(fakeFFmpeg, 0o755);
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  return { work, fakeFFmpeg, closers };
}
