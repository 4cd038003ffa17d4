import { type ChildProcess, spawn } from 'node:child_process';
import type { RenditionPlan } from '@dragon/ffmpeg-args';
import { waitFor } from '@dragon/test-helpers';
import { RtpSource } from '@dragon/webrtc';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Vp8OnDemand } from './vp8-on-demand.js';

const rendition: RenditionPlan = {
  id: 'vp8-360p',
  kind: 'vp8',
  action: 'on-demand',
  height: 360,
  bitrate_kbit: 450,
  estimated_cpu: 0.2,
  reason: 'test',
};

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A stand-in for FFmpeg at the process boundary: a Node child that exits with `code` or runs until killed. */
function fakeFfmpeg(behaviour: { exitCode?: number }) {
  const spawned: { args: string[]; child: ChildProcess }[] = [];
  const script =
    behaviour.exitCode === undefined ? 'setInterval(() => {}, 1000)' : `process.exit(${behaviour.exitCode})`;
  return {
    spawned,
    spawnFfmpeg: (_binary: string, args: string[]) => {
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
      spawned.push({ args, child });
      cleanups.push(() => child.kill('SIGKILL'));
      return child;
    },
  };
}

async function setup(behaviour: { exitCode?: number }, lingerMs = 200, viewerFirst = false) {
  const source = await RtpSource.open({ id: 'demand', video: { payloadType: 96 } });
  cleanups.push(() => source.close());
  if (viewerFirst) source.addDemand('vp8');
  const fake = fakeFfmpeg(behaviour);
  const notes: string[] = [];
  const owner = new Vp8OnDemand({
    processId: 'demand',
    source,
    rendition,
    port: 40_000,
    webrtc: { video_pt: 96, audio_pt: 111 },
    inputUrl: 'rtsp://127.0.0.1:1/process/demand?token=t',
    ffmpegBinary: 'ffmpeg',
    logger: pino({ level: 'silent' }),
    note: (line) => notes.push(line),
    lingerMs,
    spawnFfmpeg: fake.spawnFfmpeg,
  });
  cleanups.push(() => owner.close());
  return { source, owner, notes, ...fake };
}

describe('Vp8OnDemand', () => {
  it('runs while a VP8 viewer watches, reading the picture feed, and stops after the linger', async () => {
    const { source, owner, spawned, notes } = await setup({});
    expect(owner.running).toBe(false);
    const release = source.addDemand('vp8');
    expect(owner.running).toBe(true);
    expect(spawned[0]!.args).toEqual(
      expect.arrayContaining(['-rtsp_transport', 'tcp', 'rtsp://127.0.0.1:1/process/demand?token=t']),
    );
    expect(spawned[0]!.args.at(-1)).toBe('udp://127.0.0.1:40000?pkt_size=1200');
    // An H.264 viewer changes nothing.
    source.addDemand('h264')();
    expect(spawned).toHaveLength(1);
    release();
    expect(owner.running).toBe(true);
    await waitFor('stopped after the linger', () => !owner.running);
    await waitFor(
      'the child ended',
      () => spawned[0]!.child.exitCode !== null || spawned[0]!.child.signalCode !== null,
    );
    expect(notes.some((line) => /started .*\(about 0\.2 cores\)/.test(line))).toBe(true);
    expect(notes.some((line) => /stopped \(no VP8 viewer left\)/.test(line))).toBe(true);
  });

  it('starts FFmpeg again after it exits while viewers wait, and not once they are gone', async () => {
    const { source, owner, spawned } = await setup({ exitCode: 1 });
    const exits: (number | null)[] = [];
    owner.on('exited', (code) => exits.push(code));
    const release = source.addDemand('vp8');
    await waitFor('started again after exiting', () => spawned.length >= 2, 10_000);
    expect(exits[0]).toBe(1);
    release();
    owner.close();
    owner.close();
    const count = spawned.length;
    await waitFor('every child ended', () =>
      spawned.every(({ child }) => child.exitCode !== null || child.signalCode !== null),
    );
    // close() cleared the pending restart: nothing new is spawned.
    expect(owner.running).toBe(false);
    expect(spawned.length).toBe(count);
  });

  it('starts at once for viewers already there, and close() ends it for good', async () => {
    const { source, owner, spawned } = await setup({}, 200, true);
    expect(owner.running).toBe(true);
    owner.close();
    expect(owner.running).toBe(false);
    source.addDemand('vp8');
    expect(spawned).toHaveLength(1);
    await waitFor('the child was stopped', () => spawned[0]!.child.signalCode !== null);
  });
});
