import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { waitFor } from '@dragon/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtpSource, RtspFeed } from '../src/index.js';

const ffmpegBinary = process.env.CORE_FFMPEG_BINARY ?? 'ffmpeg';
let source: RtpSource;
let encoder: ChildProcess;
let feed: RtspFeed;

beforeAll(async () => {
  source = await RtpSource.open({ id: 'feed', video: { payloadType: 96 }, audio: { payloadType: 111 } });
  encoder = spawn(
    ffmpegBinary,
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi'],
      ...['-i', 'testsrc2=size=320x240:rate=25[out0];sine[out1]'],
      ...['-map', '0:v:0', '-c:v', 'libx264', '-profile:v', 'baseline', '-tune', 'zerolatency'],
      ...['-pix_fmt', 'yuv420p', '-g', '25'],
      ...['-payload_type', '96', '-f', 'rtp', `udp://127.0.0.1:${source.videoPort}?pkt_size=1200`],
      ...['-map', '0:a:0', '-c:a', 'libopus', '-ar', '48000', '-ac', '2'],
      ...['-payload_type', '111', '-f', 'rtp', `udp://127.0.0.1:${source.audioPort}?pkt_size=1200`],
    ],
    { stdio: 'ignore' },
  );
  feed = await RtspFeed.listen({ resolve: (path) => (path === '/pattern' ? { source } : undefined) });
  await waitFor('the source receives a keyframe', () => source.health().video.keyframes > 0, 30_000);
});

afterAll(async () => {
  encoder?.kill('SIGKILL');
  await feed?.close();
  source?.close();
});

/** Runs FFmpeg on `args`; resolves with its exit code and what it wrote to stderr. */
function runFfmpeg(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegBinary, ['-hide_banner', '-nostdin', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

/** One request on a raw connection, and the whole answer (headers and body). */
function rawExchange(text: string, port = feed.port): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const complete = () => {
      const end = answer.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const length = Number(/^Content-Length: (\d+)/im.exec(answer.slice(0, end))?.[1] ?? '0');
      return answer.length >= end + 4 + length;
    };
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (complete()) {
        socket.destroy();
        resolve(answer);
      }
    });
    socket.once('error', reject);
    socket.once('close', () => resolve(answer));
    socket.write(text);
  });
}

/** One request on a raw connection, and the status line of the answer. */
async function rawRequest(text: string): Promise<string> {
  return (await rawExchange(text)).split('\r\n')[0] ?? '';
}

const describeRequest = (port: number, path: string, token: string) =>
  `DESCRIBE rtsp://127.0.0.1:${port}${path}?token=${token} RTSP/1.0\r\nCSeq: 2\r\n\r\n`;

describe('RtspFeed', () => {
  it('feeds FFmpeg a source of the data plane: H.264 and Opus decoded from the first keyframe', async () => {
    const result = await runFfmpeg([
      ...['-i', feed.url('/pattern')],
      ...['-map', '0:v', '-map', '0:a', '-frames:v', '50', '-f', 'null', '-'],
    ]);
    expect(result.stderr).toMatch(/Stream #0:0: Video: h264/);
    expect(result.stderr).toMatch(/Stream #0:1: Audio: opus/);
    expect(result.stderr).toMatch(/frame=\s*50/);
    expect(result.code).toBe(0);
    await waitFor('the reader is gone', () => feed.readers === 0);
  });

  it("describes H.264 with the source's own SPS and PPS, so a reader has them before its first packet", async () => {
    const answer = await rawExchange(describeRequest(feed.port, '/pattern', feed.token));

    expect(answer.split('\r\n')[0]).toBe('RTSP/1.0 200 OK');
    const fmtp = /^a=fmtp:96 (.*)$/m.exec(answer)?.[1] ?? '';
    // libx264's baseline profile: profile_idc 66, whatever the level.
    expect(fmtp).toMatch(/^packetization-mode=1;profile-level-id=42[0-9a-f]{4};sprop-parameter-sets=/);
    const [sps, pps] = /sprop-parameter-sets=([^;\s]+)/
      .exec(fmtp)![1]!
      .split(',')
      .map((set) => Buffer.from(set, 'base64'));
    expect(sps![0]! & 0x1f).toBe(7);
    expect(pps![0]! & 0x1f).toBe(8);
    await waitFor('the describing reader is gone', () => feed.readers === 0);
  });

  it('answers 503 when the source has no keyframe to start from within the describe timeout', async () => {
    const silent = await RtpSource.open({ id: 'silent', video: { payloadType: 96 } });
    const waiting = await RtspFeed.listen({ resolve: () => ({ source: silent }), describeTimeoutMs: 300 });
    try {
      const answer = await rawExchange(describeRequest(waiting.port, '/x', waiting.token), waiting.port);
      expect(answer.split('\r\n')[0]).toBe('RTSP/1.0 503 Service Unavailable');
      await waitFor(
        'the reader and its tap are gone',
        () => waiting.readers === 0 && silent.subscriberCount === 0,
      );
    } finally {
      silent.close();
      await waiting.close();
    }
  });

  it('refuses a reader without the token, names no unknown path, and closes on garbage', async () => {
    const describeUrl = (path: string, token: string) => describeRequest(feed.port, path, token);
    expect(await rawRequest(describeUrl('/pattern', 'wrong'))).toBe('RTSP/1.0 401 Unauthorized');
    expect(await rawRequest(describeUrl('/nothing', feed.token))).toBe('RTSP/1.0 404 Not Found');
    expect(await rawRequest('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).toBe('RTSP/1.0 400 Bad Request');
    expect(await rawRequest(`${'A'.repeat(9000)}`)).toBe('RTSP/1.0 400 Bad Request');
    await waitFor('no reader left', () => feed.readers === 0);
  });

  it('ends the reader when the source closes', async () => {
    const other = await RtpSource.open({ id: 'ending', video: { payloadType: 96 } });
    const ending = await RtspFeed.listen({ resolve: () => ({ source: other }) });
    try {
      const reading = runFfmpeg(['-rtsp_transport', 'tcp', '-i', ending.url('/x'), '-f', 'null', '-']);
      await waitFor('FFmpeg reads', () => ending.readers === 1 && other.subscriberCount === 1);
      other.close();
      const result = await reading;
      expect(ending.readers).toBe(0);
      expect(result.stderr).not.toMatch(/Connection refused/);
    } finally {
      other.close();
      await ending.close();
    }
  });
});
