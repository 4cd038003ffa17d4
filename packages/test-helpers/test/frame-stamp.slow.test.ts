import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { decodeStamp, stampFilter, stampLayout } from '../src/frame-stamp.js';

// The FFmpeg side of the stamp, checked against the reader: a frame stamped at a fixed time by
// `geq`, read back raw, and again after x264 at the bitrate the glass-to-glass benchmark uses.

/** FFmpeg's stdout for `args`; rejects with its stderr when it fails. */
function ffmpeg(args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args]);
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`ffmpeg exited ${code}: ${stderr}`)),
    );
  });
}

const seconds = 1_765_000_000.123456;
const expected = Math.floor(seconds * 1000) % 2 ** stampLayout.bits;
const band = `crop=640:${2 * stampLayout.row}:0:0`;

describe("FFmpeg's stamp", () => {
  it('draws the time the reader reads back, to the millisecond', async () => {
    const rgba = await ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-frames:v', '1'],
      ...['-vf', `${stampFilter({ fps: 30, clock: seconds * 1e6 })},${band}`],
      ...['-f', 'rawvideo', '-pix_fmt', 'rgba', '-'],
    ]);
    expect(decodeStamp(rgba, 640, stampLayout)).toBe(expected);
  });

  it('survives x264 at 1 Mbit/s over a moving picture', async () => {
    const encoded = await ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-frames:v', '30'],
      ...['-vf', stampFilter({ fps: 30, clock: seconds * 1e6 })],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-b:v', '1M'],
      ...['-maxrate', '1M', '-bufsize', '1M', '-f', 'mpegts', '-'],
    ]);
    const child = spawn('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'mpegts',
      '-i',
      '-',
      '-vf',
      band,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgba',
      '-',
    ]);
    const frames: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => frames.push(chunk));
    child.stdin.end(encoded);
    await new Promise((resolve) => child.once('close', resolve));
    const all = Buffer.concat(frames);
    const size = 640 * 2 * stampLayout.row * 4;
    expect(all.length).toBe(30 * size);
    for (let frame = 0; frame < 30; frame++)
      expect(decodeStamp(all.subarray(frame * size, (frame + 1) * size), 640, stampLayout)).toBe(expected);
  });
});
