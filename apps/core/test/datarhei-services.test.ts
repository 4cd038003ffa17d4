import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCore, startInProcessCore } from './in-process-core.js';

let server: InProcessCore;
let memfsAuth: string;

beforeAll(async () => {
  server = await startInProcessCore({ CORE_WEBRTC_ENABLE: 'false' }, { httpAddress: () => '127.0.0.1:8080' });
  const url = new URL(server.core.services.memfsUrl());
  memfsAuth = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
});
afterAll(async () => {
  await server?.close();
});

const request = (path: string, init?: RequestInit) => server.request(path, init);

describe('the memfs over HTTP', () => {
  it('lets anyone read and only the memfs credentials write, with datarhei answers and content types', async () => {
    const anonymous = await request('/memfs/live.m3u8', { method: 'PUT', body: '#EXTM3U\n' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);

    const created = await request('/memfs/live.m3u8', {
      method: 'PUT',
      body: '#EXTM3U\n',
      headers: { Authorization: memfsAuth },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('content-location')).toBe('/memfs/live.m3u8');
    const replaced = await request('/memfs/live.m3u8', {
      method: 'PUT',
      body: '#EXTM3U\n#EXT-X-VERSION:3\n',
      headers: { Authorization: memfsAuth },
    });
    expect(replaced.status).toBe(204);
    await request('/memfs/live_0001.ts', {
      method: 'POST',
      body: new Uint8Array(188),
      headers: { Authorization: memfsAuth },
    });

    const playlist = await request('/memfs/live.m3u8');
    expect(playlist.status).toBe(200);
    expect(playlist.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(await playlist.text()).toBe('#EXTM3U\n#EXT-X-VERSION:3\n');
    const segment = await request('/memfs/live_0001.ts', { method: 'HEAD' });
    expect(segment.headers.get('content-type')).toBe('video/MP2T');
    expect(segment.headers.get('content-length')).toBe('188');

    expect((await request('/memfs/live_0001.ts', { method: 'DELETE' })).status).toBe(401);
    const deleted = await request('/memfs/live_0001.ts', {
      method: 'DELETE',
      headers: { Authorization: memfsAuth },
    });
    expect(await deleted.text()).toBe('Deleted: /live_0001.ts');
    expect((await request('/memfs/live_0001.ts')).status).toBe(404);
  });

  it('never reaches outside a filesystem, whatever the path', async () => {
    writeFileSync(join(server.dataDir, 'secret.txt'), 'do not serve');
    for (const path of [
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/memfs/%2e%2e/%2e%2e/secret.txt',
      '/diskfs/../secret.txt',
    ]) {
      const response = await request(path);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(await response.text()).not.toContain('do not serve');
    }
    const viaApi = await request('/api/v3/fs/disk/..%2f..%2fsecret.txt');
    expect(viaApi.status).toBeGreaterThanOrEqual(400);
  });
});

describe('the disk filesystem and /api/v3/fs', () => {
  it('serves / from index.html once there is one, and the API lists, sorts and deletes files', async () => {
    expect((await request('/')).status).toBe(302);
    expect((await request('/api/v3/fs/disk/index.html', { method: 'PUT', body: '<h1>hi</h1>' })).status).toBe(
      201,
    );
    expect(
      (await request('/api/v3/fs/disk/b/clip.mp4', { method: 'PUT', body: new Uint8Array(10) })).status,
    ).toBe(201);
    const root = await request('/');
    expect(root.headers.get('content-type')).toBe('text/html');
    expect(await root.text()).toBe('<h1>hi</h1>');
    expect((await request('/b/clip.mp4')).headers.get('content-type')).toBe('video/mp4');
    expect((await request('/b/nothing.mp4')).status).toBe(404);

    expect(await (await request('/api/v3/fs')).json()).toEqual([
      { name: 'disk', type: 'disk', mount: '/' },
      { name: 'mem', type: 'mem', mount: '/memfs' },
    ]);
    const bySize = (await (await request('/api/v3/fs/disk?sort=size&order=desc')).json()) as {
      name: string;
    }[];
    expect(bySize.map((file) => file.name)).toEqual(['/index.html', '/b/clip.mp4']);
    const globbed = (await (await request('/api/v3/fs/disk?glob=/**.mp4')).json()) as object[];
    expect(globbed).toEqual([{ name: '/b/clip.mp4', size_bytes: 10, last_modified: expect.any(Number) }]);
    expect((await request('/api/v3/fs/disk?glob=/x[')).status).toBe(400);
    expect((await request('/api/v3/fs/nope')).status).toBe(404);
    expect(await (await request('/api/v3/fs/disk/b/clip.mp4', { method: 'DELETE' })).text()).toBe(
      'Deleted: /b/clip.mp4',
    );
  });
});

describe('sessions, log, metrics and the widget', () => {
  it('answer in datarhei shapes', async () => {
    const summary = (await (await request('/api/v3/session?collectors=hls,webrtc')).json()) as Record<
      string,
      unknown
    >;
    expect(Object.keys(summary)).toEqual(['hls', 'webrtc']);
    expect(summary.hls).toMatchObject({ active: { list: [], sessions: 0 }, summary: { sessions: 0 } });
    expect(await (await request('/api/v3/session/active?collectors=rtmp')).json()).toEqual({ rtmp: [] });
    expect(Array.isArray(await (await request('/api/v3/log')).json())).toBe(true);

    const described = (await (await request('/api/v3/metrics')).json()) as { name: string }[];
    expect(described.map((metric) => metric.name)).toEqual(
      expect.arrayContaining(['filesystem_usage', 'session_active', 'restream_process', 'cpu_idle']),
    );
    const queried = await request('/api/v3/metrics', {
      method: 'POST',
      body: JSON.stringify({ metrics: [{ name: 'filesystem_files', labels: { name: 'mem' } }] }),
    });
    expect(await queried.json()).toMatchObject({
      metrics: [{ name: 'filesystem_files', labels: { name: 'mem' }, values: [[expect.any(Number), 1]] }],
    });

    expect((await request('/api/v3/widget/process/nope')).status).toBe(404);
    await request('/api/v3/process', {
      method: 'POST',
      body: JSON.stringify({
        id: 'widget',
        input: [{ id: 'in', address: 'testsrc2', options: ['-f', 'lavfi'] }],
        output: [{ id: 'out', address: '-', options: ['-f', 'null'] }],
      }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(await (await request('/api/v3/widget/process/widget')).json()).toEqual({
      current_sessions: 0,
      total_sessions: 0,
      uptime: 0,
    });
  });
});
