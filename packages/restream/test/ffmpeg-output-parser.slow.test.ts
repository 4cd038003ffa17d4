import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  BannerParser,
  isStatsLine,
  LineSplitter,
  type ProgressBlock,
  ProgressParser,
} from '../src/ffmpeg-output-parser.js';

/**
 * Runs the installed FFmpeg on a test pattern and a tone into two null outputs — the first with
 * video and audio, the second with video only — and captures stderr and the `-progress` channel.
 */
function captureFFmpeg(logLevel: string[]): Promise<{ stderr: string[]; blocks: ProgressBlock[] }> {
  const args = [
    '-hide_banner',
    ...logLevel,
    '-progress',
    'pipe:3',
    '-stats_period',
    '0.2',
    ...['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
    ...['-map', '0:v', '-map', '1:a', '-c:v', 'mpeg4', '-c:a', 'pcm_s16le', '-t', '2', '-f', 'null', '-'],
    ...['-map', '0:v', '-c:v', 'mpeg4', '-t', '2', '-f', 'null', '-'],
  ];
  const stderr: string[] = [];
  const blocks: ProgressBlock[] = [];
  const progress = new ProgressParser();
  const stderrLines = new LineSplitter((line) => stderr.push(line));
  const progressLines = new LineSplitter((line) => {
    const block = progress.feed(line);
    if (block) blocks.push(block);
  });
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => stderrLines.push(chunk));
    (child.stdio[3] as Readable).on('data', (chunk: Buffer) => progressLines.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      stderrLines.flush();
      progressLines.flush();
      if (code === 0) resolve({ stderr, blocks });
      else reject(new Error(`ffmpeg exited with ${code}: ${stderr.slice(-3).join(' | ')}`));
    });
  });
}

describe.each([
  ['the default log level', []],
  ['-loglevel level+info', ['-loglevel', 'level+info']],
])('parsing stock FFmpeg output with %s', (_name, logLevel) => {
  it('finds every input and output stream in the banner', async () => {
    const { stderr } = await captureFFmpeg(logLevel);
    const banner = new BannerParser();
    for (const line of stderr) banner.feed(line);

    expect(banner.facts.inputs).toMatchObject([
      { index: 0, stream: 0, type: 'video', format: 'lavfi', width: 160, height: 120, pix_fmt: 'yuv420p' },
      { index: 1, stream: 0, type: 'audio', format: 'lavfi', sampling_hz: 48000, channels: 1 },
    ]);
    const outputs = [...banner.facts.outputs].sort((a, b) => a.index - b.index || a.stream - b.stream);
    expect(outputs).toMatchObject([
      { index: 0, stream: 0, type: 'video', codec: 'mpeg4', coder: 'mpeg4', format: 'null' },
      { index: 0, stream: 1, type: 'audio', codec: 'pcm_s16le' },
      { index: 1, stream: 0, type: 'video', codec: 'mpeg4' },
    ]);
    expect(stderr.some(isStatsLine)).toBe(true);
  });

  it('reads moving counters and the stream they count from -progress', async () => {
    const { blocks } = await captureFFmpeg(logLevel);
    const last = blocks.at(-1);

    expect(last).toMatchObject({ end: true, frame: 50, frameStream: { file: 0, stream: 0 } });
    expect(last?.quantizers.map(({ file, stream }) => [file, stream])).toEqual([
      [0, 0],
      [1, 0],
    ]);
    expect(last?.time).toBeGreaterThan(1.9);
  });
});
