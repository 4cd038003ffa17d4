import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCore, startInProcessCore } from './in-process-core.js';

// The disk filesystem is served to anyone over HTTP: what its directory may be, and what it serves.

let server: InProcessCore;
beforeAll(async () => {
  server = await startInProcessCore({ CORE_WEBRTC_ENABLE: 'false' });
  // As at boot: the file exists, so "nothing saved" can be seen.
  await server.configStore.persistGenerated();
});
afterAll(async () => {
  await server?.close();
});

const putConfig = (patch: unknown) =>
  server.request('/api/v3/config', {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(patch),
  });

describe('storage.disk.dir through PUT /api/v3/config', () => {
  it.each([
    ['/etc', 'is in the system directory /etc'],
    ['/', 'contains the system directory /proc'],
    ['/proc/self', 'is in the system directory /proc'],
    ['/var', 'contains the system directory /var/run'],
  ])('refuses %s with a 400 and saves nothing', async (dir, message) => {
    const before = readFileSync(server.configStore.file, 'utf8');
    const response = await putConfig({ storage: { disk: { dir } } });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { message: string; details: string[] };
    expect(body.details.join('\n')).toContain(`storage.disk.dir: ${dir}`);
    expect(body.details.join('\n')).toContain(message);
    expect(readFileSync(server.configStore.file, 'utf8')).toBe(before);
  });

  it('refuses a directory that reaches the data directory through a symbolic link', async () => {
    const link = join(server.dataDir, 'disk', 'up');
    mkdirSync(join(server.dataDir, 'disk'), { recursive: true });
    symlinkSync(server.dataDir, link);
    const response = await putConfig({ storage: { disk: { dir: link } } });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toMatch(/contains (db\.dir|the config file)/);
  });

  it('refuses an FFmpeg output directory in a system directory', async () => {
    const response = await putConfig({ ffmpeg: { access: { output: { directories: ['/etc/cron.d'] } } } });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain('ffmpeg.access.output.directories[0]');
  });

  it('accepts a directory beside the data directory', async () => {
    const response = await putConfig({ storage: { disk: { dir: join(server.dataDir, 'disk') } } });
    expect(response.status).toBe(200);
  });
});

describe('serving the disk filesystem', () => {
  it('does not follow a symbolic link out of the disk directory', async () => {
    const disk = join(server.dataDir, 'disk');
    mkdirSync(disk, { recursive: true });
    writeFileSync(join(disk, 'public.txt'), 'public');
    symlinkSync(join(server.dataDir, 'config.json'), join(disk, 'config-link.json'));
    symlinkSync(server.dataDir, join(disk, 'data-link'));
    symlinkSync(join(disk, 'public.txt'), join(disk, 'inside-link.txt'));
    expect(await (await server.request('/public.txt')).text()).toBe('public');
    expect(await (await server.request('/inside-link.txt')).text()).toBe('public');
    for (const path of ['/config-link.json', '/data-link/config.json', '/api/v3/fs/disk/config-link.json']) {
      const response = await server.request(path);
      expect(response.status, path).toBe(404);
      expect(await response.text(), path).not.toContain('jwt');
    }
    const listed = (await (await server.request('/api/v3/fs/disk')).json()) as { name: string }[];
    expect(listed.map((file) => file.name)).not.toContain('/data-link/config.json');
  });
});
