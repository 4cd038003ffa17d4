import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rejectedSectionProblems } from '@dragon/test-helpers';
import { type InboundMedia, inboundMedia } from '@dragon/test-helpers/chromium';
import {
  freePort,
  jsonBody,
  type RunningServer,
  startServer,
  stopAllServers,
  waitFor,
} from '@dragon/test-helpers/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, playInPage, startOtherOrigin } from './browser.js';
import { publishInLoop, runFFmpeg, stopFFmpegs, testPatternInput } from './ffmpeg-child.js';
import { RtspCamera } from './rtsp-camera.js';

// Every input kind the README promises, each created through the API of the built server with the
// default WebRTC settings (`{ enabled: true }`, no force_transcode) and watched in headless
// Chromium through the player page. One server, one browser, one row at a time: the CI machine has
// two busy cores. Deadlines are generous and nothing is timed.

let server: RunningServer;
let browser: Browser;
let otherOrigin: Awaited<ReturnType<typeof startOtherOrigin>>;
let dir = '';

const clip = ['-t', '4'];
const pattern = ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25'];
const tone = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'];
/** Files made at test time: name → FFmpeg arguments (output last). */
const fixtures: Record<string, string[]> = {
  'bframes.mp4': [
    ...pattern,
    ...tone,
    ...clip,
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high'],
    ...['-bf', '2', '-g', '25', '-c:a', 'aac'],
  ],
  'hevc.mkv': [
    ...pattern,
    ...tone,
    ...clip,
    ...['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error'],
    ...['-c:a', 'aac'],
  ],
  'video-only.mp4': [...pattern, ...clip, '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '0', '-g', '25'],
  'audio-only.mp3': [
    ...[...tone, '-f', 'lavfi', '-i', 'color=c=blue:size=64x64', ...clip, '-map', '0:a', '-map', '1:v'],
    ...['-frames:v', '1', '-c:a', 'libmp3lame', '-c:v', 'png', '-disposition:v:0', 'attached_pic'],
  ],
};
const path = (name: string) => join(dir, name);
const looped = (file: string) => ({ address: path(file), options: ['-re', '-stream_loop', '-1'] });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dragon-media-matrix-'));
  mkdirSync(join(dir, 'hls'));
  for (const [name, args] of Object.entries(fixtures)) {
    const run = runFFmpeg(['-y', ...args, path(name)]);
    if ((await run.exited) !== 0) throw new Error(`fixture ${name}: ${run.stderr()}`);
  }
  server = await startServer();
  browser = await launchChromium();
  otherOrigin = await startOtherOrigin();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await otherOrigin?.close();
  await stopAllServers();
  await stopFFmpegs();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface WebRtcState {
  plan: { basis: string; video: { action: string; from: string }; audio: { action: string; from: string } };
  health: { status: string; video: string; message?: string; video_packets: number; audio_packets: number };
}

/** What the player page shows, and what Chromium's own getStats says about its connection. */
interface Watched extends InboundMedia {
  state: string;
  text: string;
  plan: string;
}

async function watch(page: Page): Promise<Watched> {
  const shown = await page.evaluate(() => ({
    state: (window as unknown as { dragonPlayer?: { state: string } }).dragonPlayer?.state ?? '',
    text: document.getElementById('status')?.textContent ?? '',
    plan: document.getElementById('plan')?.textContent ?? '',
  }));
  return { ...shown, ...(await inboundMedia(page, 'dragonPlayer.peerConnection')) };
}

interface Row {
  input: { address: string; options: string[] };
  /** FFmpeg arguments of a publisher that sends to the input (connecting again until stopped). */
  publisher?: string[];
  video: 'copy' | 'transcode' | 'off';
  audio: 'copy' | 'transcode' | 'off';
  /** The plan line the player shows, in part. */
  planLine: RegExp;
}

/** Creates the row's process with the default WebRTC settings and waits until its plan says what is expected. */
async function createProcess(id: string, row: Row): Promise<WebRtcState> {
  await server.json(
    '/api/v3/process',
    jsonBody({
      id,
      input: [{ id: 'in', ...row.input }],
      output: [],
      options: [],
      autostart: true,
      reconnect: true,
      reconnect_delay_seconds: 1,
      webrtc: { enabled: true },
    }),
  );
  return waitFor(
    `${id}: media flowing with the expected plan`,
    async () => {
      const state = await server.json<{ exec: string; webrtc?: WebRtcState }>(`/api/v3/process/${id}/state`);
      const webrtc = state.webrtc;
      if (state.exec !== 'running' || !webrtc) return undefined;
      if (webrtc.plan.video.action !== row.video || webrtc.plan.audio.action !== row.audio) return undefined;
      const flowing = row.video === 'off' ? webrtc.health.audio_packets > 0 : webrtc.health.status === 'ok';
      return flowing ? webrtc : undefined;
    },
    120_000,
  );
}

/** Opens the player page and waits until Chromium decodes video (and audio) that keeps coming. */
async function playsInChromium(id: string, row: Row): Promise<Watched> {
  const page = await browser.newPage();
  try {
    await page.goto(`${server.baseUrl}/player/${id}`, { waitUntil: 'domcontentloaded' });
    const video = row.video !== 'off';
    const audio = row.audio !== 'off';
    const first = await waitFor(
      `${id}: the player plays`,
      async () => {
        const now = await watch(page);
        const playing = video ? now.state === 'playing' && now.framesDecoded > 0 : now.state === 'audio-only';
        return playing && (!audio || now.audioSamples > 0) ? now : undefined;
      },
      90_000,
    );
    const later = await waitFor(
      `${id}: frames and samples keep coming`,
      async () => {
        const now = await watch(page);
        const framesRising = !video || now.framesDecoded >= first.framesDecoded + 50;
        // Two seconds of decoded audio, not of silence made up for packets that did not decode (AAC
        // copied into an Opus track) or arrived late: concealed samples do not count. How many are
        // concealed on the way depends on how busy the machine is, so that is not asserted.
        const decodedSamples = (watched: Watched) => watched.audioSamples - watched.concealedSamples;
        const samplesRising = !audio || decodedSamples(now) >= decodedSamples(first) + 96_000;
        return framesRising && samplesRising ? now : undefined;
      },
      90_000,
    );
    return later;
  } finally {
    await page.close();
  }
}

const encodedPattern = () => testPatternInput();

describe('every input kind plays in Chromium with the default settings', () => {
  const rows: [string, () => Promise<Row>][] = [
    [
      'RTSP, the process listening, a camera-like publisher sending H.264 + AAC',
      async () => {
        const port = await freePort('tcp');
        return {
          input: { address: `rtsp://127.0.0.1:${port}/live`, options: ['-rtsp_flags', 'listen'] },
          publisher: [
            ...encodedPattern(),
            '-f',
            'rtsp',
            '-rtsp_transport',
            'tcp',
            `rtsp://127.0.0.1:${port}/live`,
          ],
          // Never probed (the probe would take the publisher's connection): planned conservatively.
          video: 'transcode',
          audio: 'transcode',
          planLine: /video not known yet → H\.264 · audio not known yet → Opus/,
        };
      },
    ],
    [
      'RTMP, the process listening, a publisher sending FLV',
      async () => {
        const port = await freePort('tcp');
        return {
          input: { address: `rtmp://127.0.0.1:${port}/live/cam`, options: ['-listen', '1'] },
          publisher: [...encodedPattern(), '-f', 'flv', `rtmp://127.0.0.1:${port}/live/cam`],
          video: 'transcode',
          audio: 'transcode',
          planLine: /video not known yet → H\.264/,
        };
      },
    ],
    [
      'an MP4 file, H.264 High with B-frames + AAC, looped',
      async () => ({
        input: looped('bframes.mp4'),
        video: 'transcode',
        audio: 'transcode',
        planLine: /video H\.264 → H\.264 · audio AAC → Opus/,
      }),
    ],
    [
      'MPEG-TS over UDP, H.264 without B-frames + AAC: the video copied',
      async () => {
        const port = await freePort('udp');
        return {
          input: { address: `udp://127.0.0.1:${port}`, options: [] },
          publisher: [...encodedPattern(), '-f', 'mpegts', `udp://127.0.0.1:${port}?pkt_size=1316`],
          video: 'copy',
          audio: 'transcode',
          planLine: /video H\.264 \(copied\) · audio AAC → Opus/,
        };
      },
    ],
    [
      'HEVC + AAC in Matroska, looped',
      async () => ({
        input: looped('hevc.mkv'),
        video: 'transcode',
        audio: 'transcode',
        planLine: /video HEVC → H\.264 · audio AAC → Opus/,
      }),
    ],
    [
      'an HLS playlist FFmpeg writes live: the video copied',
      async () => ({
        input: { address: path('hls/index.m3u8'), options: [] },
        publisher: [
          ...encodedPattern(),
          ...['-f', 'hls', '-hls_time', '1', '-hls_list_size', '5', '-hls_flags', 'delete_segments'],
          path('hls/index.m3u8'),
        ],
        video: 'copy',
        audio: 'transcode',
        planLine: /video H\.264 \(copied\) · audio AAC → Opus/,
      }),
    ],
    [
      'video only: no audio leg, so no failing map',
      async () => ({
        input: looped('video-only.mp4'),
        video: 'transcode',
        audio: 'off',
        planLine: /audio off/,
      }),
    ],
    [
      'audio only (MP3 with cover art): no video leg, the answer rejects video',
      async () => ({
        input: looped('audio-only.mp3'),
        video: 'off',
        audio: 'transcode',
        planLine: /video off · audio MP3 → Opus/,
      }),
    ],
  ];

  for (const [index, [name, makeRow]] of rows.entries()) {
    it(name, async () => {
      const row = await makeRow();
      const id = `matrix${index + 1}`;
      // A listening input's publisher starts first and connects again until the process listens.
      const publisher = row.publisher ? publishInLoop(row.publisher) : undefined;
      try {
        if (row.input.address.endsWith('.m3u8')) {
          await waitFor('the live playlist', () => existsSync(row.input.address), 60_000);
        }
        const webrtc = await createProcess(id, row);
        expect(webrtc.health.message).toBeUndefined();

        const watched = await playsInChromium(id, row);
        if (row.video === 'off') {
          expect(watched.text).toBe('playing audio (no video)');
        } else {
          expect(watched.text).toMatch(/^(playing|frozen) · \d+×\d+/);
          expect(watched.frameWidth).toBeGreaterThan(0);
        }
        expect(watched.text).not.toMatch(/undefined|NaN/);
        expect(watched.plan).toMatch(row.planLine);

        const report = await server.json<{ log: [string, string][] }>(`/api/v3/process/${id}/report`);
        expect(report.log.some(([, line]) => line.startsWith('webrtc plan ('))).toBe(true);

        if (row.audio === 'off') {
          // A plain WHEP client offering audio and video gets a well-formed rejected audio section.
          const page = await browser.newPage();
          await page.goto(otherOrigin.url);
          const played = await playInPage(page, `${server.baseUrl}/api/v3/process/${id}/whep`);
          await page.close();
          expect(played.status).toBe(201);
          expect(rejectedSectionProblems(played.answerSdp ?? '', 'audio')).toEqual([]);
          expect(played.framesDecoded).toBeGreaterThan(0);
        }
      } finally {
        await server.api(`/api/v3/process/${id}`, { method: 'DELETE' });
        await publisher?.stop();
      }
    }, 400_000);
  }

  it("plays the README's camera example: an RTSP camera with SPS/PPS only in its SDP, video copied", async () => {
    const camera = await RtspCamera.start(dir);
    expect(camera.sdp).toMatch(/sprop-parameter-sets=/);
    const id = 'cam1';
    try {
      // apps/core/README.md, word for word but for the camera's address.
      await server.json(
        '/api/v3/process',
        jsonBody({
          id,
          input: [{ id: 'in', address: camera.url, options: ['-rtsp_transport', 'tcp'] }],
          output: [],
          autostart: true,
          reconnect: true,
          reconnect_delay_seconds: 5,
          webrtc: { enabled: true },
        }),
      );
      const row: Row = {
        input: { address: camera.url, options: [] },
        video: 'copy',
        audio: 'transcode',
        planLine: /video H\.264 \(copied\) · audio AAC → Opus/,
      };
      const webrtc = await waitFor(
        'the camera copied, decodable',
        async () => {
          const state = await server.json<{ webrtc?: WebRtcState }>(`/api/v3/process/${id}/state`);
          return state.webrtc?.health.status === 'ok' ? state.webrtc : undefined;
        },
        120_000,
      );
      expect(webrtc.plan).toMatchObject({
        basis: 'probe',
        video: { action: 'copy' },
        audio: { action: 'transcode' },
      });
      const watched = await playsInChromium(id, row);
      expect(watched.text).toMatch(/^(playing|frozen) · 320×240/);
      expect(watched.plan).toMatch(row.planLine);
    } finally {
      await server.api(`/api/v3/process/${id}`, { method: 'DELETE' });
      await camera.close();
    }
  }, 300_000);

  // A VP8-only browser gets VP8 made on demand (vp8-viewers.slow.test.ts); a codec Dragon never
  // makes still leaves the viewer with audio.
  it('answers a browser offering only VP9 with audio flowing and video rejected', async () => {
    const id = 'matrix-vp9';
    const row: Row = { input: looped('hevc.mkv'), video: 'transcode', audio: 'transcode', planLine: /./ };
    try {
      await createProcess(id, row);
      const page = await browser.newPage();
      await page.goto(otherOrigin.url);
      const played = await playInPage(page, `${server.baseUrl}/api/v3/process/${id}/whep`, undefined, {
        videoCodec: 'video/VP9',
      });
      await page.close();
      expect(played.status).toBe(201);
      expect(rejectedSectionProblems(played.answerSdp ?? '', 'video')).toEqual([]);
      expect(played.audioSamples).toBeGreaterThan(0);
    } finally {
      await server.api(`/api/v3/process/${id}`, { method: 'DELETE' });
    }
  }, 300_000);

  it('says so when the video cannot be decoded: an explicit copy of HEVC', async () => {
    const id = 'matrix-undecodable';
    try {
      await server.json(
        '/api/v3/process',
        jsonBody({
          id,
          input: [{ id: 'in', ...looped('hevc.mkv') }],
          output: [],
          options: [],
          autostart: true,
          reconnect: true,
          reconnect_delay_seconds: 1,
          webrtc: { enabled: true, video: 'copy' },
        }),
      );
      const warned = await waitFor(
        'a health warning in the state',
        async () => {
          const state = await server.json<{ webrtc?: WebRtcState }>(`/api/v3/process/${id}/state`);
          return state.webrtc?.health.status === 'warning' ? state.webrtc : undefined;
        },
        120_000,
      );
      expect(warned.plan.video).toMatchObject({ action: 'copy', from: 'hevc' });
      expect(warned.health.message).toBeTruthy();

      const page = await browser.newPage();
      try {
        await page.goto(`${server.baseUrl}/player/${id}`, { waitUntil: 'domcontentloaded' });
        const watched = await waitFor(
          'the player says the video is not decodable',
          async () => {
            const now = await watch(page);
            return now.state === 'not-decodable' && now.text.includes(':') ? now : undefined;
          },
          90_000,
        );
        expect(watched.framesDecoded).toBe(0);
        // The server's own words follow: which condition, and its likely cause.
        expect(watched.text).toMatch(/^connected, but no video frame could be decoded: .{20,}/);
        expect(watched.plan).toContain('video HEVC (copied)');
      } finally {
        await page.close();
      }
      // What a viewer may read carries no input address.
      const status = await (await server.api(`/player/${id}/status`)).text();
      expect(status).not.toContain(dir);
    } finally {
      await server.api(`/api/v3/process/${id}`, { method: 'DELETE' });
    }
  }, 300_000);
});
