import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, expect, it } from 'vitest';
import { buildWebRtcLegs, legToArgs, webRtcConfigSchema } from '../src/index.js';

const ffmpeg = process.env.CORE_FFMPEG_BINARY ?? 'ffmpeg';
/** Two seconds of test pattern and tone as ONE input, so the default `0:v:0`/`0:a:0` maps apply. */
const testPattern = ['-f', 'lavfi', '-t', '2', '-i', 'testsrc2=size=320x240:rate=25[out0];sine=f=440[out1]'];

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function bindLoopback(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

/** Counts datagrams that are RTP version 2 with the expected payload type. */
function countRtp(socket: Socket, payloadType: number): { packets: number } {
  const counter = { packets: 0 };
  socket.on('message', (datagram: Buffer) => {
    if (datagram.length >= 12 && datagram[0]! >> 6 === 2 && (datagram[1]! & 0x7f) === payloadType) {
      counter.packets++;
    }
  });
  return counter;
}

function start(args: string[], stdio: 'ignore' | 'pipe-in' | 'pipe-out'): ChildProcess {
  const child = spawn(ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args], {
    stdio: [stdio === 'pipe-in' ? 'pipe' : 'ignore', stdio === 'pipe-out' ? 'pipe' : 'ignore', 'inherit'],
  });
  cleanups.push(() => child.kill('SIGKILL'));
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', resolve));
}

it.each([
  { mode: 'transcoding the test pattern', force_transcode: true },
  { mode: 'copying an H.264 + Opus input', force_transcode: false },
])('real FFmpeg sends RTP video and audio to both ports when $mode', async ({ force_transcode }) => {
  const video = await bindLoopback();
  const audio = await bindLoopback();
  cleanups.push(
    () => video.close(),
    () => audio.close(),
  );
  const webrtc = webRtcConfigSchema.parse({ enabled: true, force_transcode });
  const videoPackets = countRtp(video, webrtc.video_pt);
  const audioPackets = countRtp(audio, webrtc.audio_pt);
  const legArgs = buildWebRtcLegs({
    webrtc,
    videoPort: video.address().port,
    audioPort: audio.address().port,
  }).flatMap(legToArgs);

  let sender: ChildProcess;
  if (force_transcode) {
    sender = start(['-re', ...testPattern, ...legArgs], 'ignore');
  } else {
    // A camera hands us H.264 and (here) Opus already: make such a stream, then copy it.
    const encoder = start(
      [
        ...testPattern,
        '-c:v',
        'libx264',
        '-bf',
        '0',
        '-c:a',
        'libopus',
        '-ar',
        '48000',
        '-f',
        'nut',
        'pipe:1',
      ],
      'pipe-out',
    );
    sender = start(['-re', '-f', 'nut', '-i', 'pipe:0', ...legArgs], 'pipe-in');
    encoder.stdout!.pipe(sender.stdin!);
  }
  expect(await exited(sender)).toBe(0);
  expect(videoPackets.packets).toBeGreaterThan(20);
  expect(audioPackets.packets).toBeGreaterThan(20);
});
