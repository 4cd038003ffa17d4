import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildWebRtcLegs,
  isListeningInput,
  legToArgs,
  type MediaPlan,
  planMedia,
  probeInput,
  type WebRtcConfigInput,
  webRtcConfigSchema,
} from '../src/index.js';
import { analyseH264, analyseOpus, captureRtp, type RtpCapture } from './rtp-analysis.js';

const ffmpeg = process.env.CORE_FFMPEG_BINARY ?? 'ffmpeg';
const seconds = '3';
const testVideo = ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25'];
const testTone = (rate: number) => ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${rate}`];
/** x264 with a keyframe every second (25 frames), as the copy cases need several to check. */
const x264 = (profile: string, bFrames: number) => [
  ...['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', profile, '-bf', String(bFrames), '-g', '25'],
];

/** Inputs made at test time in a temporary directory, each `seconds` long: name → FFmpeg arguments. */
const fixtures = {
  mp4BFrames: [
    ...testVideo,
    ...testTone(44_100),
    '-t',
    seconds,
    ...x264('high', 2),
    '-c:a',
    'aac',
    'bframes.mp4',
  ],
  tsBFrames: [
    ...testVideo,
    ...testTone(44_100),
    '-t',
    seconds,
    ...x264('high', 2),
    '-c:a',
    'aac',
    'bframes.ts',
  ],
  hevc: [
    ...[...testVideo, ...testTone(48_000), '-t', seconds, '-c:v', 'libx265', '-preset', 'ultrafast'],
    ...['-x265-params', 'log-level=error', '-c:a', 'aac', 'hevc.mkv'],
  ],
  baselineOpus: [
    ...[...testVideo, ...testTone(48_000), '-t', seconds, ...x264('baseline', 0)],
    ...['-c:a', 'libopus', 'baseline-opus.mkv'],
  ],
  videoOnly: [...testVideo, '-t', seconds, ...x264('high', 0), 'video-only.mp4'],
  audioOnly: [
    ...[...testTone(44_100), '-f', 'lavfi', '-i', 'color=c=red:size=64x64', '-t', seconds],
    ...['-map', '0:a', '-map', '1:v', '-frames:v', '1', '-c:a', 'libmp3lame', '-c:v', 'png'],
    ...['-disposition:v:0', 'attached_pic', 'audio-only.mp3'],
  ],
  hls: [
    ...[...testVideo, ...testTone(44_100), '-t', seconds, ...x264('high', 0), '-c:a', 'aac', '-f', 'hls'],
    ...[
      '-hls_time',
      '1',
      '-hls_playlist_type',
      'vod',
      '-hls_segment_filename',
      'hls/segment%d.ts',
      'hls/index.m3u8',
    ],
  ],
  camera: [...testVideo, ...testTone(44_100), '-t', seconds, ...x264('high', 0), '-c:a', 'aac', 'camera.mp4'],
} satisfies Record<string, string[]>;
type Fixture = keyof typeof fixtures;

let dir = '';
const path = (fixture: Fixture) => join(dir, fixtures[fixture].at(-1)!);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dragon-media-plan-'));
  mkdirSync(join(dir, 'hls'));
  // One at a time: the machine's two cores are shared.
  for (const [name, args] of Object.entries(fixtures)) {
    const run = await runFfmpeg(args, dir);
    if (run.code !== 0) throw new Error(`fixture ${name} failed: ${run.stderr}`);
  }
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

interface Run {
  code: number | null;
  stderr: string;
}

function startFfmpeg(args: string[], cwd?: string): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(cwd ? { cwd } : {}),
  });
  cleanups.push(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const done = new Promise<Run>((resolve) => child.once('close', (code) => resolve({ code, stderr })));
  return { child, done };
}

function runFfmpeg(args: string[], cwd?: string): Promise<Run> {
  return startFfmpeg(args, cwd).done;
}

async function captures(webrtc: { video_pt: number; audio_pt: number }) {
  const video = await captureRtp(webrtc.video_pt);
  const audio = await captureRtp(webrtc.audio_pt);
  cleanups.push(video.close, audio.close);
  return { video, audio };
}

/** The plan's legs, to the capture sockets. */
function legArgs(
  settings: ReturnType<typeof webRtcConfigSchema.parse>,
  plan: MediaPlan,
  video: RtpCapture,
  audio: RtpCapture,
) {
  return buildWebRtcLegs({ webrtc: settings, plan, videoPort: video.port, audioPort: audio.port }).flatMap(
    legToArgs,
  );
}

/** What every H.264 leg must deliver: SPS and PPS in-band before every IDR, frames in order. */
function expectPlayableH264(video: RtpCapture, profile: number) {
  const report = analyseH264(video.packets);
  expect(report.malformed).toBe(0);
  expect(report.idrFrames).toBeGreaterThanOrEqual(2);
  expect(report.idrFramesWithParameterSets).toBe(report.idrFrames);
  expect(report.timestampsBack).toBe(0);
  expect([...report.spsProfiles]).toEqual([profile]);
  expect(report.nalTypes.has(9)).toBe(false);
  return report;
}

function expectOpus(audio: RtpCapture) {
  const report = analyseOpus(audio.packets);
  expect(report.checked).toBeGreaterThan(50);
  expect(report.mismatched).toBe(0);
}

const baselineProfile = 66;
const highProfile = 100;

describe('probe → plan → legs → real FFmpeg → RTP', { timeout: 60_000 }, () => {
  const cases: {
    name: string;
    fixture: Fixture;
    video: MediaPlan['video']['action'];
    audio: MediaPlan['audio']['action'];
    profile?: number;
  }[] = [
    {
      name: 'MP4, H.264 High with B-frames + AAC',
      fixture: 'mp4BFrames',
      video: 'transcode',
      audio: 'transcode',
    },
    { name: 'MPEG-TS with B-frames + AAC', fixture: 'tsBFrames', video: 'transcode', audio: 'transcode' },
    { name: 'HEVC + AAC in Matroska', fixture: 'hevc', video: 'transcode', audio: 'transcode' },
    {
      name: 'H.264 baseline + Opus in Matroska',
      fixture: 'baselineOpus',
      video: 'copy',
      audio: 'copy',
      profile: baselineProfile,
    },
    {
      name: 'video only: MP4, H.264 High without B-frames',
      fixture: 'videoOnly',
      video: 'copy',
      audio: 'off',
      profile: highProfile,
    },
    { name: 'audio only: MP3 with cover art', fixture: 'audioOnly', video: 'off', audio: 'transcode' },
    {
      name: 'an HLS playlist FFmpeg made (MPEG-TS segments, an AUD per frame)',
      fixture: 'hls',
      video: 'copy',
      audio: 'transcode',
      profile: highProfile,
    },
  ];

  it.each(cases)('$name: video $video, audio $audio', async ({ fixture, video, audio, profile }) => {
    const webrtc = webRtcConfigSchema.parse({ enabled: true });
    const facts = await probeInput({ address: path(fixture) }, { ffmpegBinary: ffmpeg });
    const plan = planMedia(facts, webrtc);
    expect([plan.basis, plan.video.action, plan.audio.action]).toEqual(['probe', video, audio]);

    const sockets = await captures(webrtc);
    const run = await runFfmpeg([
      '-re',
      '-i',
      path(fixture),
      ...legArgs(webrtc, plan, sockets.video, sockets.audio),
    ]);

    expect(run).toEqual({ code: 0, stderr: '' });
    if (video === 'off') expect(sockets.video.packets).toHaveLength(0);
    else {
      const report = expectPlayableH264(sockets.video, video === 'copy' ? profile! : baselineProfile);
      // The copy path drops what browsers do not need; x264's own SEI survives a transcode.
      if (video === 'copy')
        expect([...report.nalTypes].filter((type) => type === 6 || type === 12)).toEqual([]);
    }
    if (audio === 'off') expect(sockets.audio.packets).toHaveLength(0);
    else expectOpus(sockets.audio);
  });

  it('an explicit copy of B-frames and AAC is sent and warned about, and the checks above see why it fails', async () => {
    const webrtc = webRtcConfigSchema.parse({ enabled: true, video: 'copy', audio: 'copy' });
    const plan = planMedia(await probeInput({ address: path('mp4BFrames') }), webrtc);
    expect(plan.video.warning).toMatch(/B-frames/);
    expect(plan.audio.warning).toMatch(/AAC .* is not Opus/);

    const sockets = await captures(webrtc);
    const run = await runFfmpeg([
      '-re',
      '-i',
      path('mp4BFrames'),
      ...legArgs(webrtc, plan, sockets.video, sockets.audio),
    ]);

    expect(run.code).toBe(0);
    const video = analyseH264(sockets.video.packets);
    expect(video.idrFramesWithParameterSets).toBe(video.idrFrames);
    expect(video.timestampsBack).toBeGreaterThan(0);
    const audio = analyseOpus(sockets.audio.packets);
    expect(audio.mismatched).toBeGreaterThan(audio.checked / 2);
  });
});

describe('a listening input (RTSP, FFmpeg as the server)', { timeout: 60_000 }, () => {
  /** A port free a moment ago, for the RTSP listener (FFmpeg cannot listen on port 0 and tell). */
  async function freeTcpPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  /** Publishes the camera fixture, retrying until the listener accepts or the deadline passes. */
  async function publish(url: string, listener: ChildProcess): Promise<Run> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const run = await runFfmpeg([
        '-re',
        '-i',
        path('camera'),
        '-c',
        'copy',
        '-f',
        'rtsp',
        '-rtsp_transport',
        'tcp',
        url,
      ]);
      if (run.code === 0 || Date.now() > deadline || listener.exitCode !== null) return run;
      await delay(200);
    }
  }

  async function serve(settings: WebRtcConfigInput) {
    const url = `rtsp://127.0.0.1:${await freeTcpPort()}/live`;
    const input = { address: url, options: ['-rtsp_flags', 'listen'] };
    expect(isListeningInput(input)).toBe(true);
    const webrtc = webRtcConfigSchema.parse({ enabled: true, ...settings });
    // Not probed: the plan rests on what is known before the publisher comes — here, nothing.
    const plan = planMedia(undefined, webrtc);
    const sockets = await captures(webrtc);
    const listener = startFfmpeg([
      ...input.options,
      '-i',
      url,
      ...legArgs(webrtc, plan, sockets.video, sockets.audio),
    ]);
    const published = await publish(url, listener.child);
    return { plan, sockets, published, run: await listener.done };
  }

  it('copies H.264 whose parameter sets are only in the SDP, putting them in-band', async () => {
    const { plan, sockets, published, run } = await serve({ video: 'copy' });
    expect([plan.video.action, plan.audio.action]).toEqual(['copy', 'transcode']);
    expect(published.code).toBe(0);
    expect(run).toEqual({ code: 0, stderr: '' });
    expectPlayableH264(sockets.video, highProfile);
    expectOpus(sockets.audio);
  });

  it('plays with the conservative plan: both tracks transcoded', async () => {
    const { plan, sockets, published, run } = await serve({});
    expect([plan.basis, plan.video.action, plan.audio.action]).toEqual(['none', 'transcode', 'transcode']);
    expect(published.code).toBe(0);
    expect(run).toEqual({ code: 0, stderr: '' });
    expectPlayableH264(sockets.video, baselineProfile);
    expectOpus(sockets.audio);
  });
});
