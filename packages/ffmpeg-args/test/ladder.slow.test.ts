import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildWebRtcLegs,
  legToArgs,
  planMedia,
  probeInput,
  producedRenditions,
  vp8PayloadType,
  webRtcConfigSchema,
} from '../src/index.js';
import {
  analyseH264,
  captureRtp,
  type RtpCapture,
  spsSize,
  spsUnits,
  vp8KeyframeSizes,
} from './rtp-analysis.js';

const ffmpeg = process.env.CORE_FFMPEG_BINARY ?? 'ffmpeg';

let dir = '';
let camera = '';
const cleanups: (() => void)[] = [];

function runFfmpeg(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  cleanups.push(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stderr })));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dragon-ladder-'));
  camera = join(dir, 'camera-720p.mp4');
  // A 720p25 camera-like input: H.264 High without B-frames (copied as the top) and AAC.
  const made = await runFfmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '3'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-g', '25'],
    ...['-c:a', 'aac', camera],
  ]);
  if (made.code !== 0) throw new Error(`fixture failed: ${made.stderr}`);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function capture(payloadType: number): Promise<RtpCapture> {
  const socket = await captureRtp(payloadType);
  cleanups.push(socket.close);
  return socket;
}

describe('a ladder from one FFmpeg', { timeout: 90_000 }, () => {
  it('sends the copied top and every rung of renditions auto, each on its own port at its height', async () => {
    const webrtc = webRtcConfigSchema.parse({ enabled: true, renditions: 'auto', vp8: 'always' });
    const plan = planMedia(await probeInput({ address: camera }, { ffmpegBinary: ffmpeg }), webrtc);
    const made = producedRenditions(plan);
    expect(plan.video.action).toBe('copy');
    expect(made.map((rendition) => rendition.id)).toEqual(['480p', '360p', '240p', 'vp8-360p']);

    const top = await capture(webrtc.video_pt);
    const audio = await capture(webrtc.audio_pt);
    const rungs = await Promise.all(
      made.map((rendition) => capture(rendition.kind === 'vp8' ? vp8PayloadType(webrtc) : webrtc.video_pt)),
    );
    const legs = buildWebRtcLegs({
      webrtc,
      plan,
      videoPort: top.port,
      audioPort: audio.port,
      renditionPorts: rungs.map((socket) => socket.port),
    });
    const run = await runFfmpeg(['-re', '-i', camera, ...legs.flatMap(legToArgs)]);
    expect(run).toEqual({ code: 0, stderr: '' });

    const heights = (socket: RtpCapture) =>
      [...new Set(spsUnits(socket.packets).map((sps) => JSON.stringify(spsSize(sps))))].map(
        (text) => JSON.parse(text) as ReturnType<typeof spsSize>,
      );
    // The top is the input's own H.264, as it is.
    expect(heights(top)).toMatchObject([{ width: 1280, height: 720 }]);
    const [p480, p360, p240, vp8] = rungs;
    expect(heights(p480!)).toEqual([{ profile: 66, width: 852, height: 480 }]);
    expect(heights(p360!)).toEqual([{ profile: 66, width: 640, height: 360 }]);
    expect(heights(p240!)).toEqual([{ profile: 66, width: 426, height: 240 }]);
    // A keyframe every half second on each rung, parameter sets before each.
    for (const rung of [p480!, p360!, p240!]) {
      const report = analyseH264(rung.packets);
      expect(report.idrFrames).toBeGreaterThanOrEqual(2);
      expect(report.idrFramesWithParameterSets).toBe(report.idrFrames);
    }
    const vp8Sizes = vp8KeyframeSizes(vp8!.packets);
    expect(vp8Sizes.length).toBeGreaterThanOrEqual(2);
    expect(new Set(vp8Sizes.map(({ width, height }) => `${width}x${height}`))).toEqual(new Set(['640x360']));
    expect(audio.packets.length).toBeGreaterThan(50);
  });
});
