import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  jsonBody,
  type RunningServer,
  startServer,
  stopAllServers,
  testPatternProcess,
  waitFor,
} from '@dragon/test-helpers/server';
import { WeriftViewer } from '@dragon/test-helpers/werift';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RTCRtpCodecParameters, type RtpPacket } from 'werift';
import { launchChromium } from './browser.js';

// Viewers whose browser has no H.264 (an offline Firefox offers VP8/VP9/AV1 only): the server's
// default `webrtc.vp8: on-demand` answers them with VP8, encoded by a second FFmpeg from the
// process's own picture while they watch, and stopped after the last one leaves.

let server: RunningServer;
let browser: Browser;
const ffmpegBinary = process.env.CORE_FFMPEG_BINARY ?? 'ffmpeg';

beforeAll(async () => {
  server = await startServer();
  await server.json('/api/v3/process', jsonBody(testPatternProcess('vp8')));
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stopAllServers();
});

interface Vp8State {
  running: boolean;
  viewers: number;
  estimated_cpu: number;
}

async function vp8State(): Promise<Vp8State | undefined> {
  const state = await server.json<{ webrtc?: { vp8_on_demand?: Vp8State } }>('/api/v3/process/vp8/state');
  return state.webrtc?.vp8_on_demand;
}

/**
 * VP8 frames from RTP (RFC 7741): packets in sequence order (retransmissions arrive late, and
 * twice), the payload descriptor stripped, joined up to the marker.
 */
function vp8Frames(received: RtpPacket[]): Buffer[] {
  const bySequence = new Map<number, RtpPacket>();
  let last = received[0]?.header.sequenceNumber ?? 0;
  let extended = last;
  for (const packet of received) {
    const delta = ((packet.header.sequenceNumber - last + 0x8000) & 0xffff) - 0x8000;
    extended += delta;
    last = packet.header.sequenceNumber;
    bySequence.set(extended, packet);
  }
  const packets = [...bySequence.entries()].sort(([a], [b]) => a - b).map(([, packet]) => packet);
  const frames: Buffer[] = [];
  let parts: Buffer[] = [];
  for (const packet of packets) {
    const payload = packet.payload;
    let offset = 1;
    if ((payload[0]! & 0x80) !== 0) {
      const extension = payload[offset++]!;
      if ((extension & 0x80) !== 0) offset += (payload[offset]! & 0x80) !== 0 ? 2 : 1;
      if ((extension & 0x40) !== 0) offset++;
      if ((extension & 0x30) !== 0) offset++;
    }
    parts.push(payload.subarray(offset));
    if (packet.header.marker) {
      frames.push(Buffer.concat(parts));
      parts = [];
    }
  }
  return frames;
}

/** The frames as an IVF file, from the first keyframe on. */
function ivf(frames: Buffer[]): Buffer {
  const first = frames.findIndex((frame) => (frame[0]! & 0x01) === 0);
  const kept = first < 0 ? [] : frames.slice(first);
  const header = Buffer.alloc(32);
  header.write('DKIF', 0);
  header.writeUInt16LE(32, 6);
  header.write('VP80', 8);
  header.writeUInt16LE(640, 12);
  header.writeUInt16LE(360, 14);
  header.writeUInt32LE(25, 16);
  header.writeUInt32LE(1, 20);
  header.writeUInt32LE(kept.length, 24);
  const chunks: Buffer[] = [header];
  kept.forEach((frame, index) => {
    const frameHeader = Buffer.alloc(12);
    frameHeader.writeUInt32LE(frame.length, 0);
    frameHeader.writeUInt32LE(index, 4);
    chunks.push(frameHeader, frame);
  });
  return Buffer.concat(chunks);
}

/** How many frames FFmpeg's VP8 decoder decodes from `file`, and what it complained of. */
function decodeFrames(file: string): Promise<{ frames: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegBinary, ['-hide_banner', '-nostdin', '-i', file, '-f', 'null', '-'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', () => {
      const counts = [...stderr.matchAll(/frame=\s*(\d+)/g)].map((match) => Number(match[1]));
      resolve({ frames: counts.at(-1) ?? 0, stderr });
    });
  });
}

describe('a viewer without H.264', () => {
  it('offering VP8 only gets VP8 made on demand, which FFmpeg decodes; it stops after the viewer leaves', async () => {
    const packets: RtpPacket[] = [];
    const viewer = new WeriftViewer({
      record: false,
      videoCodecs: [
        new RTCRtpCodecParameters({
          mimeType: 'video/VP8',
          clockRate: 90_000,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
        }),
      ],
      onRtp: (kind, packet) => {
        if (kind === 'video') packets.push(packet);
      },
    });
    const directory = await mkdtemp(join(tmpdir(), 'dragon-vp8-'));
    try {
      // A WHEP offer before the first media is answered 409: wait for the top's first keyframe.
      await waitFor(
        'the process sends video',
        async () => {
          const state = await server.json<{ webrtc?: { health?: { keyframes?: number } } }>(
            '/api/v3/process/vp8/state',
          );
          return (state.webrtc?.health?.keyframes ?? 0) > 0 ? true : undefined;
        },
        60_000,
      );
      expect((await vp8State())?.running).toBe(false);
      const response = await server.api('/api/v3/process/vp8/whep', {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: await viewer.offer(),
      });
      expect(response.status).toBe(201);
      const answer = await response.text();
      expect(answer).toMatch(/^a=rtpmap:\d+ VP8\/90000/m);
      expect(answer).toMatch(/^m=video [1-9]/m);
      await viewer.accept(answer);
      const running = await waitFor('the VP8 encode runs', async () => {
        const state = await vp8State();
        return state?.running ? state : undefined;
      });
      expect(running.viewers).toBe(1);
      expect(running.estimated_cpu).toBeGreaterThan(0);
      await waitFor(
        'a second of VP8 frames after a keyframe',
        () => {
          const frames = vp8Frames(packets);
          const first = frames.findIndex((frame) => (frame[0]! & 0x01) === 0);
          return first >= 0 && frames.length - first >= 25;
        },
        90_000,
      );
      const file = join(directory, 'received.ivf');
      const frames = vp8Frames(packets);
      await writeFile(file, ivf(frames));
      const decoded = await decodeFrames(file);
      expect(decoded.stderr).toMatch(/Video: vp8/);
      // A packet lost on a busy machine (and retransmitted late) spoils a frame or two until the
      // next keyframe (every 0.5 s); most of a second's frames still decode.
      expect(decoded.frames).toBeGreaterThanOrEqual(10);

      const location = response.headers.get('Location');
      expect(location).toBeTruthy();
      await server.api(location!, { method: 'DELETE' });
      await waitFor(
        'the VP8 encode stops after its last viewer',
        async () => ((await vp8State())?.running === false ? true : undefined),
        60_000,
      );
      expect((await vp8State())?.viewers).toBe(0);
    } finally {
      await viewer.close();
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('Chromium with H.264 removed from its offer plays /player/<id>: video frames decoded', async () => {
    const page = await browser.newPage();
    try {
      // The page's offer without H.264, as a browser without an H.264 decoder makes it.
      await page.addInitScript(() => {
        const addTransceiver = RTCPeerConnection.prototype.addTransceiver;
        RTCPeerConnection.prototype.addTransceiver = function (this: RTCPeerConnection, ...args) {
          const transceiver = addTransceiver.apply(this, args);
          if (transceiver.receiver.track.kind === 'video') {
            const codecs = RTCRtpReceiver.getCapabilities('video')?.codecs ?? [];
            transceiver.setCodecPreferences(codecs.filter((codec) => codec.mimeType !== 'video/H264'));
          }
          return transceiver;
        };
      });
      await page.goto(`${server.baseUrl}/player/vp8`, { waitUntil: 'domcontentloaded' });
      const video = await waitFor(
        'the player decodes video',
        async () => {
          const now = await page.evaluate(() => {
            const element = document.querySelector('video');
            return {
              width: element?.videoWidth ?? 0,
              frames: element?.getVideoPlaybackQuality().totalVideoFrames ?? 0,
              status: document.getElementById('status')?.textContent ?? '',
            };
          });
          return now.width > 0 && now.frames > 0 ? now : undefined;
        },
        90_000,
      );
      expect(video.width).toBe(640);
      expect(video.status).not.toMatch(/no video/);
    } finally {
      await page.close();
    }
  });
});
