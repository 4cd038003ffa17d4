import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { continueOnRead } from '@dragon/filesystems';
import { waitFor } from '@dragon/test-helpers/server';
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCore, startInProcessCore } from './in-process-core.js';

let inProcess: InProcessCore;
let server: ServerType | undefined;
let boundAddress = '';

beforeAll(async () => {
  inProcess = await startInProcessCore({ CORE_WEBRTC_ENABLE: 'false' }, { httpAddress: () => boundAddress });
  await new Promise<void>((resolve) => {
    server = serve({ fetch: inProcess.core.app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
      boundAddress = `127.0.0.1:${info.port}`;
      resolve();
    });
    continueOnRead(server);
  });
});
afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await inProcess?.close();
});

const run = promisify(execFile);
const request = (path: string, init?: RequestInit) => fetch(`http://${boundAddress}${path}`, init);
/** A viewer from a public address: loopback is in `sessions.ip_ignorelist` by default, so the app sees this one. */
const viewer = (path: string) =>
  inProcess.core.app.request(`http://localhost${path}`, undefined, {
    incoming: { socket: { remoteAddress: '203.0.113.50', remotePort: 50000, remoteFamily: 'IPv4' } },
  });
const memfsNames = async () =>
  ((await (await request('/api/v3/fs/mem')).json()) as { name: string }[]).map((file) => file.name);

describe('FFmpeg writing HLS into memfs with -method PUT', () => {
  it('serves the playlist and segments, keeps max_files, counts a viewer and purges on delete', async () => {
    const created = await request('/api/v3/process', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        id: 'hls',
        input: [{ id: 'in', address: 'testsrc2=size=160x120:rate=25', options: ['-re', '-f', 'lavfi'] }],
        output: [
          {
            id: 'out',
            address: '{memfs}/{processid}.m3u8',
            options: [
              '-c:v',
              'libx264',
              '-preset',
              'ultrafast',
              '-g',
              '25',
              '-f',
              'hls',
              '-hls_time',
              '1',
              '-hls_list_size',
              '3',
              '-method',
              'PUT',
              '-hls_segment_filename',
              '{memfs}/{processid}_%04d.ts',
            ],
            cleanup: [
              { pattern: 'memfs:/{processid}_*.ts', max_files: 3, purge_on_delete: true },
              { pattern: 'memfs:/{processid}.m3u8', purge_on_delete: true },
            ],
          },
        ],
        autostart: true,
      }),
    });
    expect(created.status).toBe(200);

    // Playlist and segments arrive over HTTP PUT with the memfs credentials.
    const playlist = await waitFor('the playlist', async () => {
      const response = await request('/memfs/hls.m3u8');
      return response.ok
        ? { type: response.headers.get('content-type'), text: await response.text() }
        : undefined;
    });
    expect(playlist.type).toBe('application/vnd.apple.mpegurl');
    const segmentName = playlist.text.split('\n').find((line) => line.endsWith('.ts'))!;
    const segment = await request(`/memfs/${segmentName}`);
    expect(segment.headers.get('content-type')).toBe('video/MP2T');
    expect((await segment.arrayBuffer()).byteLength).toBeGreaterThan(188);

    // FFmpeg keeps every segment it writes; the cleanup rule keeps the newest three.
    await waitFor(
      'segment 6 to exist',
      async () => ((await memfsNames()).includes('/hls_0006.ts') ? true : undefined),
      60_000,
    );
    await waitFor('at most three segments', async () => {
      const segments = (await memfsNames()).filter((name) => name.endsWith('.ts'));
      return segments.length <= 3 ? segments : undefined;
    });

    // A viewer: the session-less playlist is a master pointing at a session; the first segment activates it.
    const master = await (await viewer('/memfs/hls.m3u8')).text();
    const sessionUri = master.split('\n').find((line) => line.startsWith('hls.m3u8?session='))!;
    expect(sessionUri).toBeDefined();
    const media = await (await viewer(`/memfs/${sessionUri}`)).text();
    const segmentUri = media.split('\n').find((line) => line.includes('.ts?session='))!;
    expect((await viewer(`/memfs/${segmentUri}`)).status).toBe(200);
    const active = (await (await request('/api/v3/session/active?collectors=hls')).json()) as {
      hls: { reference: string; local: string; bytes_tx: number }[];
    };
    expect(active.hls).toMatchObject([{ reference: 'hls', local: '/memfs/hls.m3u8' }]);
    expect(active.hls[0]!.bytes_tx).toBeGreaterThan(188);
    const widget = await (await request('/api/v3/widget/process/hls')).json();
    expect(widget).toMatchObject({ current_sessions: 1 });

    // Stop and delete: purge_on_delete removes what the rules match.
    await request('/api/v3/process/hls/command', {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ command: 'stop' }),
    });
    expect((await request('/api/v3/process/hls', { method: 'DELETE' })).status).toBe(200);
    await waitFor('the purge', async () => ((await memfsNames()).length === 0 ? true : undefined));
  });

  it('serves a master playlist listing its variant when FFmpeg wrote none (copy without bit rate)', async () => {
    // H.264 in MPEG-TS carries no bit rate: FFmpeg's hls muxer leaves the master without variants.
    const source = join(inProcess.dataDir, 'camera.ts');
    await run('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25'],
      ...[
        '-t',
        '30',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-bf',
        '0',
        '-g',
        '25',
        '-f',
        'mpegts',
        source,
      ],
    ]);
    const created = await request('/api/v3/process', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        id: 'master',
        input: [{ id: 'in', address: source, options: ['-re'] }],
        output: [
          {
            id: 'out',
            address: '{memfs}/{processid}_{outputid}.m3u8',
            options: [
              ...['-c', 'copy', '-f', 'hls', '-hls_time', '1', '-hls_list_size', '4', '-method', 'PUT'],
              ...[
                '-master_pl_name',
                '{processid}.m3u8',
                '-hls_segment_filename',
                '{memfs}/{processid}_{outputid}_%04d.ts',
              ],
            ],
            cleanup: [{ pattern: 'memfs:/{processid}**', purge_on_delete: true }],
          },
        ],
        autostart: true,
      }),
    });
    expect(created.status).toBe(200);

    const master = await waitFor('the master playlist', async () => {
      const response = await request('/memfs/master.m3u8');
      return response.ok ? await response.text() : undefined;
    });
    const written = await inProcess.core.services.mem.read('/master.m3u8');

    expect(Buffer.from(written!.body as Uint8Array).toString()).not.toContain('#EXT-X-STREAM-INF');
    expect(master).toMatch(
      /#EXT-X-STREAM-INF:BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,RESOLUTION=320x240,CODECS="avc1\.[0-9a-f]{6}"\nmaster_out\.m3u8\n/,
    );
    expect((await request('/api/v3/process/master', { method: 'DELETE' })).status).toBe(200);
  });
});
