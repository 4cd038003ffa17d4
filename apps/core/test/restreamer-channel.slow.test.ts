import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  freePort,
  type RunningServer,
  startServer,
  stopAllServers,
  waitFor,
} from '@dragon/test-helpers/server';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startOtherOrigin } from './browser.js';
import { type FFmpegChild, runFFmpeg, stopFFmpegs } from './ffmpeg-child.js';
import {
  defaultControl,
  egressProcess,
  ingestProcess,
  networkSourceInput,
  snapshotProcess,
} from './restreamer-channel.js';

/**
 * A Restreamer UI channel on Dragon, end to end with real parts: a camera sends MPEG-TS over UDP
 * (H.264, no bit rate in the stream, so stock FFmpeg writes the HLS master playlist without a
 * variant); the processes are created exactly as the UI creates them (update-or-create, its HLS
 * options with `-master_pl_name`, its snapshot process, an RTMP publication reading the channel's
 * HLS); Chromium on another origin plays the HLS with hls.js and the channel over WHEP, which the
 * channel never asked for. With DRAGON_DOC_SCREENSHOTS=1 the test writes the screenshots of
 * docs/datarhei-compat.md's walk-through.
 */

const run = promisify(execFile);
const hlsScript = readFileSync(fileURLToPath(import.meta.resolve('hls.js/dist/hls.min.js')));
const screenshotDir = fileURLToPath(new URL('../../../docs/images/', import.meta.url));
const screenshots = process.env.DRAGON_DOC_SCREENSHOTS === '1';
const work = mkdtempSync(join(tmpdir(), 'dragon-restreamer-channel-'));

let browser: Browser;
let server: RunningServer;
afterAll(async () => {
  await browser?.close();
  await stopFFmpegs();
  await stopAllServers();
  rmSync(work, { recursive: true, force: true });
});
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);

type Answer = { status: number; body: unknown };

/** The UI's API calls: `fetch` with a JSON body, the answer's status and JSON. */
async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await server.api(path, {
    method,
    headers: { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json() };
}

/** `_upsertProcess`: update, and create when the update answers 404. */
async function upsert(config: { id: string }): Promise<Answer[]> {
  const update = await call('PUT', `/api/v3/process/${encodeURIComponent(config.id)}`, config);
  if (update.status !== 404) return [update];
  return [update, await call('POST', '/api/v3/process', config)];
}

/** A page on another origin that plays the channel's HLS with hls.js, as the UI's preview does. */
const previewPage = (playlist: string) => `<!doctype html>
<title>Channel preview (hls.js)</title>
<style>body{margin:0;background:#111;color:#ddd;font:13px sans-serif}video{width:480px;height:270px;background:#000;display:block}</style>
<video id="v" muted autoplay playsinline></video><div id="s">HLS preview from another origin</div>
<script src="/hls.min.js"></script>
<script>
  const video = document.getElementById('v');
  const hls = new Hls({ liveSyncDurationCount: 2 });
  window.hlsErrors = [];
  hls.on(Hls.Events.ERROR, (_event, data) => window.hlsErrors.push(data.details));
  hls.loadSource(${JSON.stringify(playlist)});
  hls.attachMedia(video);
</script>`;

const embedPage = (player: string) => `<!doctype html>
<title>Channel player embedded</title>
<style>body{margin:0;background:#fff}iframe{border:0;display:block}</style>
<iframe id="player" src="${player}" width="480" height="330" allow="autoplay; fullscreen" allowfullscreen></iframe>`;

async function shoot(page: Page, name: string): Promise<void> {
  if (!screenshots) return;
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, name) });
}

/** Frames the listener FFmpeg has taken in, from its progress line (`frame=  123`). */
function framesReceived(listener: FFmpegChild): number {
  const counts = [...listener.stderr().matchAll(/frame=\s*(\d+)/g)].map((match) => Number(match[1]));
  return counts.at(-1) ?? 0;
}

/**
 * Checks the master's BANDWIDTH against what datarhei's patched FFmpeg would write for the same
 * variant (contrib/ffmpeg-hlsbitrate.patch: the packets' payload bytes over their duration, plus a
 * tenth): Dragon's peak segment rate, container included, must be within a quarter of it. Returns
 * datarhei's figure.
 */
async function datarheiEstimate(master: string): Promise<number> {
  const variantUri = master.split('\n').find((line) => line.includes('_output_0.m3u8'))!;
  const bandwidth = Number(/BANDWIDTH=(\d+)/.exec(master)![1]);
  const media = await (await server.api(`/memfs/${variantUri}`)).text();
  let payloadBytes = 0;
  let seconds = 0;
  const lines = media.split('\n');
  for (const [index, line] of lines.entries()) {
    if (!line.startsWith('#EXTINF:')) continue;
    const uri = lines.slice(index + 1).find((next) => next !== '' && !next.startsWith('#'))!;
    const segment = await server.api(`/memfs/${uri}`);
    if (!segment.ok) continue;
    const file = join(work, 'segment.ts');
    writeFileSync(file, Buffer.from(await segment.arrayBuffer()));
    const packets = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'packet=size',
      '-of',
      'csv=p=0',
      file,
    ]);
    payloadBytes += packets.stdout.split(/[\s,]+/).reduce((sum, size) => sum + (Number(size) || 0), 0);
    seconds += Number.parseFloat(line.slice(8));
  }
  const datarhei = ((payloadBytes * 8) / seconds) * 1.1;
  expect(bandwidth).toBeGreaterThan(datarhei * 0.75);
  expect(bandwidth).toBeLessThan(datarhei * 1.25);
  return datarhei;
}

describe('a Restreamer UI channel on Dragon', () => {
  it('completes the master playlist, previews over HLS, snapshots, publishes over RTMP and plays over WHEP', async () => {
    const udpPort = await freePort('udp');
    const rtmpPort = await freePort('tcp');
    // The camera: H.264 without B-frames in MPEG-TS over UDP, as network encoders send it.
    runFFmpeg([
      ...['-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-c:v', 'libx264'],
      ...['-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-g', '25', '-an'],
      ...['-f', 'mpegts', `udp://127.0.0.1:${udpPort}?pkt_size=1316`],
    ]);
    // Where the publication goes: an RTMP server (FFmpeg listening) that counts what it receives.
    const listener = runFFmpeg([
      ...['-listen', '1', '-i', `rtmp://127.0.0.1:${rtmpPort}/live/channel`, '-c', 'copy', '-f', 'null', '-'],
    ]);
    // Every viewer here is on loopback, which datarhei's default list leaves uncounted (and so
    // untouched by the HLS session rewriting real viewers get).
    server = await startServer({ env: { CORE_SESSIONS_IP_IGNORELIST: '192.0.2.0/24' } });
    const channelid = randomUUID();
    const ingestId = `restreamer-ui:ingest:${channelid}`;
    const control = { ...defaultControl, snapshot: { interval: 5 } };

    // The UI reads the channel's metadata, then writes the ingest and snapshot processes.
    expect((await call('GET', `/api/v3/process/${ingestId}/metadata/restreamer-ui`)).status).toBe(404);
    const ingest = ingestProcess({
      channelid,
      input: networkSourceInput(`udp://127.0.0.1:${udpPort}`),
      outputOptions: ['-map', '0:0', '-codec:v', 'copy', '-an'],
      publicAddress: server.baseUrl,
      control,
    });
    expect((await upsert(ingest)).map((answer) => answer.status)).toEqual([404, 200]);
    expect((await server.api(`/memfs/${channelid}.jpg`)).status).toBe(404);
    expect((await upsert(snapshotProcess(channelid, control))).map((answer) => answer.status)).toEqual([
      404, 200,
    ]);
    const saved = await call('PUT', `/api/v3/process/${ingestId}/metadata/restreamer-ui`, {
      meta: { name: 'Door' },
    });
    expect(saved.status).toBe(200);
    expect((await call('GET', `/api/v3/process/${ingestId}/metadata/restreamer-ui`)).body).toEqual({
      meta: { name: 'Door' },
    });
    expect(await (await server.api(`/api/v3/process/${ingestId}/config`)).json()).not.toHaveProperty(
      'webrtc',
    );

    // The master playlist as FFmpeg wrote it has no variant; as Dragon serves it, it has one.
    const master = await waitFor(
      'the master playlist',
      async () => {
        const response = await server.api(`/memfs/${channelid}.m3u8`);
        return response.ok ? await response.text() : undefined;
      },
      90_000,
    );
    const stored = (await call('GET', `/api/v3/fs/mem?glob=/${channelid}.m3u8`)).body as {
      size_bytes: number;
    }[];
    expect(stored[0]!.size_bytes).toBeLessThan(40);
    expect(master).toMatch(
      new RegExp(
        `#EXT-X-STREAM-INF:BANDWIDTH=\\d+,AVERAGE-BANDWIDTH=\\d+,RESOLUTION=640x360,CODECS="avc1\\.42c0[0-9a-f]{2}"\\n${channelid}_output_0\\.m3u8\\?session=`,
      ),
    );

    expect(await datarheiEstimate(master)).toBeGreaterThan(0);

    // The UI's preview: hls.js on another origin plays the channel; a plain cross-origin fetch works too.
    const origin = await startOtherOrigin({
      '/hls.min.js': { type: 'text/javascript', body: hlsScript },
      '/preview': { type: 'text/html', body: previewPage(`${server.baseUrl}/memfs/${channelid}.m3u8`) },
      '/embed': {
        type: 'text/html',
        body: embedPage(`${server.baseUrl}/player/${encodeURIComponent(ingestId)}`),
      },
    });
    try {
      const page = await browser.newPage({ viewport: { width: 480, height: 300 } });
      await page.goto(`${origin.url}preview`);
      const fetched = await page.evaluate(async (url) => {
        const response = await fetch(url);
        return { status: response.status, text: await response.text() };
      }, `${server.baseUrl}/memfs/${channelid}.m3u8`);
      expect(fetched.status).toBe(200);
      expect(fetched.text).toContain('#EXT-X-STREAM-INF:BANDWIDTH=');
      const decoded = await waitFor(
        'hls.js decoding frames',
        () =>
          page.evaluate(() => {
            const video = document.getElementById('v') as HTMLVideoElement;
            const frames = video.getVideoPlaybackQuality().totalVideoFrames;
            return frames > 10 && video.currentTime > 0 ? { frames, width: video.videoWidth } : undefined;
          }),
        90_000,
      );
      expect(decoded.width).toBe(640);
      await shoot(page, 'restreamer-hls-preview.png');

      // The channel over WebRTC, though its config has no webrtc field: the player, embedded elsewhere.
      await page.goto(`${origin.url}embed`);
      const player = (): Frame => page.frames().find((frame) => frame.url().includes('/player/'))!;
      const playing = await waitFor(
        'the embedded player playing over WHEP',
        async () => {
          const now = await player().evaluate(() => {
            const dragon = (
              window as unknown as { dragonPlayer?: { state: string; stats: { framesDecoded: number } } }
            ).dragonPlayer;
            return { state: dragon?.state, frames: dragon?.stats.framesDecoded ?? 0 };
          });
          return now.state === 'playing' && now.frames > 10 ? now : undefined;
        },
        90_000,
      );
      expect(playing.frames).toBeGreaterThan(10);
      expect(
        (await server.api(`/player/${encodeURIComponent(ingestId)}`)).headers.get('content-security-policy'),
      ).toBe('frame-ancestors *');
      if (screenshots) {
        // The frame rate the player shows settles once the first burst of frames is behind it.
        await waitFor('a steady frame rate', () =>
          player().evaluate(() => /· 2\d fps/.test(document.getElementById('status')?.textContent ?? '')),
        );
      }
      await shoot(page, 'restreamer-player-embedded.png');
      const state = await call('GET', `/api/v3/process/${ingestId}/state`);
      expect(state.body).toMatchObject({
        webrtc: {
          enabled_by: 'auto_enable',
          player: `/player/${encodeURIComponent(ingestId)}`,
          plan: { video: { action: 'copy' }, audio: { action: 'off' }, cpu_cores: 0 },
        },
      });
      await page.close();
    } finally {
      await origin.close();
    }

    // The snapshot process made a picture of the channel.
    const jpeg = await waitFor(
      'the snapshot',
      async () => {
        const response = await server.api(`/memfs/${channelid}.jpg`);
        return response.ok ? Buffer.from(await response.arrayBuffer()) : undefined;
      },
      90_000,
    );
    writeFileSync(join(work, 'snapshot.jpg'), jpeg);
    const probe = await run('ffprobe', [
      ...['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json'],
      join(work, 'snapshot.jpg'),
    ]);
    expect(JSON.parse(probe.stdout).streams).toEqual([{ codec_name: 'mjpeg', width: 640, height: 360 }]);
    await run('ffmpeg', ['-v', 'error', '-i', join(work, 'snapshot.jpg'), '-f', 'null', '-']);

    // A publication: the channel's HLS to an RTMP server, as the UI's RTMP service writes it.
    const egress = egressProcess({
      channelid,
      service: 'rtmp',
      index: randomUUID(),
      profileOptions: ['-map', '0:0', '-codec:v', 'copy', '-an'],
      outputs: [{ address: `rtmp://127.0.0.1:${rtmpPort}/live/channel`, options: ['-f', 'flv'] }],
      autostart: true,
    });
    expect((await upsert(egress)).map((answer) => answer.status)).toEqual([404, 200]);
    await waitFor('frames at the RTMP server', () => framesReceived(listener) > 25 || undefined, 90_000);
  }, 420_000);
});
