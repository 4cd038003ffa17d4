import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  freePort,
  jsonBody,
  type RunningServer,
  startServer,
  stopAllServers,
  waitFor,
} from '@dragon/test-helpers/server';
import { WeriftPublisher } from '@dragon/test-helpers/werift';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFFmpeg, stopFFmpegs } from './ffmpeg-child.js';

// A WHIP publication as a process input (`{whip,name=…}`): FFmpeg reads it from the server's
// loopback RTSP feed, writes HLS to memfs and restreams it over RTMP, as from any camera.

const token = 'publisher-secret';
let server: RunningServer;
let directory: string;
const sockets: Socket[] = [];
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  server = await startServer({ env: { CORE_WHIP_ENABLE: 'true', CORE_WHIP_TOKEN: token } });
  directory = await mkdtemp(join(tmpdir(), 'dragon-whip-input-'));
}, 60_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const socket of sockets) socket.close();
  stopFFmpegs();
  await stopAllServers();
  await rm(directory, { recursive: true, force: true });
});

function bound(onMessage: (packet: Buffer) => void): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    sockets.push(socket);
    socket.on('message', onMessage);
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

/** A werift publisher of `name` sending FFmpeg's real H.264 and Opus, as a browser would publish. */
async function publish(name: string): Promise<void> {
  // werift's DTLS handshake sometimes fails on a starved machine (a known werift weakness, see the
  // cluster viewers): a publisher that does not connect publishes again, as a WHIP client would.
  let publisher: WeriftPublisher | undefined;
  for (let attempt = 0; attempt < 3 && !publisher; attempt++) {
    const candidate = new WeriftPublisher();
    cleanups.push(() => candidate.close());
    const response = await server.api(`/api/v3/whip/${name}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
      body: await candidate.offer(),
    });
    expect(response.status).toBe(201);
    await candidate.accept(await response.text());
    if (await candidate.connected()) {
      publisher = candidate;
    } else {
      await candidate.close();
      const session = new URL(response.headers.get('location') ?? '', server.baseUrl).pathname;
      await server.api(session, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
    }
  }
  if (!publisher) throw new Error('the WHIP publisher did not connect in three attempts');
  const live = publisher;
  const video = await bound((packet) => live.writeRtp('video', packet));
  const audio = await bound((packet) => live.writeRtp('audio', packet));
  runFFmpeg([
    ...[
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=640x360:rate=25',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440',
    ],
    ...['-map', '0:v', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency'],
    ...['-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '25', '-payload_type', '96'],
    ...['-f', 'rtp', `udp://127.0.0.1:${video.address().port}?pkt_size=1200`],
    ...['-map', '1:a', '-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-payload_type', '111'],
    ...['-f', 'rtp', `udp://127.0.0.1:${audio.address().port}?pkt_size=1200`],
  ]);
}

describe('{whip,name=…} as a process input', () => {
  it('writes HLS to memfs that ffprobe reads as H.264, and restreams over RTMP to a listener', async () => {
    await publish('cam');
    const rtmpPort = await freePort('tcp');
    const listener = runFFmpeg([
      ...['-listen', '1', '-i', `rtmp://127.0.0.1:${rtmpPort}/live/cam`, '-c', 'copy', '-f', 'null', '-'],
    ]);
    await server.json(
      '/api/v3/process',
      jsonBody({
        id: 'from-whip',
        input: [{ id: 'in', address: '{whip,name=cam}', options: [] }],
        output: [
          {
            id: 'hls',
            address: '{memfs}/from-whip.m3u8',
            options: ['-map', '0:v', '-map', '0:a', '-c:v', 'copy', '-c:a', 'aac', '-f', 'hls'],
          },
          {
            id: 'rtmp',
            address: `rtmp://127.0.0.1:${rtmpPort}/live/cam`,
            options: ['-map', '0:v', '-map', '0:a', '-c:v', 'copy', '-c:a', 'aac', '-f', 'flv'],
          },
        ],
        autostart: true,
        reconnect: true,
        reconnect_delay_seconds: 1,
      }),
    );
    // The first segment, once listed (complete): the feed's DESCRIBE carries the publication's
    // SPS and PPS and its first video packet is a keyframe, so it is decodable from its start.
    const first = await waitFor(
      'the first HLS segment is listed',
      async () => {
        const response = await server.api('/memfs/from-whip.m3u8');
        if (response.status !== 200) return undefined;
        return (await response.text()).split('\n').find((line) => line.endsWith('.ts'));
      },
      90_000,
    );
    expect(first).toBe('from-whip0.ts');
    const bytes = Buffer.from(await (await server.api(`/memfs/${first}`)).arrayBuffer());
    const file = join(directory, 'segment.ts');
    await writeFile(file, bytes);
    const { stdout } = await promisify(execFile)('ffprobe', [
      ...['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', file],
    ]);
    expect(stdout).toMatch(/^h264,640,360$/m);
    expect(stdout).toMatch(/^aac/m);
    await waitFor(
      'the RTMP listener receives H.264 frames',
      () => /Video: h264/.test(listener.stderr()) && /frame=\s*[1-9]\d/.test(listener.stderr()),
      60_000,
    );
  });

  it('reads an unknown publication as a process error that names it, the server unharmed', async () => {
    await server.json(
      '/api/v3/process',
      jsonBody({
        id: 'no-whip',
        input: [{ id: 'in', address: '{whip,name=nobody}', options: [] }],
        output: [{ id: 'out', address: '{memfs}/no-whip.m3u8', options: ['-f', 'hls'] }],
        autostart: true,
        reconnect: true,
        reconnect_delay_seconds: 1,
      }),
    );
    const line = await waitFor('the process log says why', async () => {
      type Run = { prelude: string[]; log: [string, string][] };
      const report = await server.json<Run & { history: Run[] }>('/api/v3/process/no-whip/report');
      // FFmpeg ends before any progress: what it said is in each run's prelude.
      const lines = [...report.history, report].flatMap((run) => [
        ...run.prelude,
        ...run.log.map(([, text]) => text),
      ]);
      return lines.find((text) => /404 Not Found/.test(text));
    });
    expect(line).toMatch(/DESCRIBE/);
    expect((await server.api('/api/v3/process')).status).toBe(200);
  });
});
