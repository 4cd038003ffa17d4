import { afterEach, expect, it } from 'vitest';
import { processConfigSchema } from '../src/config-schema.js';
import { buildCommand } from '../src/ffmpeg-command.js';
import { FFmpegRun, RunLog } from '../src/ffmpeg-run.js';
import { describeState } from '../src/process-views.js';
import { waitFor } from './helpers.js';

const runs: FFmpegRun[] = [];
afterEach(async () => {
  await Promise.all(runs.splice(0).map((run) => run.stop()));
});

const config = processConfigSchema.parse({
  id: 'views',
  options: ['-loglevel', 'level+info'],
  input: [
    { id: 'pattern', address: 'testsrc2=size=160x120:rate=25', options: ['-re', '-f', 'lavfi'] },
    { id: 'tone', address: 'sine=sample_rate=48000', options: ['-re', '-f', 'lavfi'] },
  ],
  output: [
    {
      id: 'both',
      address: '-',
      options: ['-map', '0:v', '-map', '1:a', '-c:v', 'mpeg4', '-c:a', 'pcm_s16le', '-f', 'null'],
    },
    { id: 'video', address: '-', options: ['-map', '0:v', '-c:v', 'mpeg4', '-f', 'null'] },
  ],
});

it('describes live progress per stream from stock FFmpeg, with ids and datarhei field rules', async () => {
  const command = buildCommand(config);
  const log = new RunLog(50);
  const run = await FFmpegRun.start({
    binary: 'ffmpeg',
    args: command,
    log,
    env: { PATH: process.env.PATH ?? '' },
    cwd: process.cwd(),
  });
  runs.push(run);
  const entry = {
    config,
    order: 'start' as const,
    exec: 'running' as const,
    run,
    lastLogline: '',
    command,
    reconnectAt: undefined,
  };
  // Two progress blocks at least, so the moving averages have a window, and frames counted between
  // them: a busy machine may give FFmpeg no time between two blocks, and a rate of 0 is then right.
  const progress = await waitFor('two progress blocks with frames moving', () => {
    const state = describeState(entry, undefined);
    const moving =
      (state.progress.outputs.find((io) => io.id === 'both' && io.type === 'video')?.fps ?? 0) > 0;
    return run.window.length >= 2 && state.progress.frame > 0 && moving ? state.progress : undefined;
  });

  expect(progress.inputs.map((io) => [io.id, io.type])).toEqual([
    ['pattern', 'video'],
    ['tone', 'audio'],
  ]);
  // In output order, whatever order FFmpeg printed them in.
  expect(progress.outputs.map((io) => `${io.id}:${io.type}`)).toEqual([
    'both:video',
    'both:audio',
    'video:video',
  ]);
  const outputs = Object.fromEntries(progress.outputs.map((io) => [`${io.id}:${io.type}`, io]));
  // FFmpeg counts the frames of the first video output stream; the others report no count.
  expect(outputs['both:video']).toMatchObject({ frame: progress.frame, coder: 'mpeg4', width: 160 });
  expect(outputs['both:video']?.fps).toBeGreaterThan(0);
  expect(outputs['both:audio']).toMatchObject({ frame: 0, sampling_hz: 48000, channels: 1 });
  expect(outputs['video:video']?.frame).toBe(0);
  for (const io of [...progress.inputs, ...progress.outputs]) {
    expect(io).toMatchObject({ keyframe: 0, packet: 0, extradata_size_bytes: 0, avstream: null });
    expect(io.framerate).toEqual({ min: 0, max: 0, avg: 0 });
    // datarhei leaves out the fields a stream's kind does not have.
    if (io.type === 'audio') expect(io).not.toHaveProperty('width');
    if (io.type === 'video') expect(io).not.toHaveProperty('sampling_hz');
  }
  expect(progress.packet).toBe(0);
});
