import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpError } from '@dragon/http-error';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { createFilesystems } from './filesystems.js';

const dir = mkdtempSync(join(tmpdir(), 'dragon-filesystems-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('createFilesystems', () => {
  it('serves disk at / and memfs at /memfs, writes behind the memfs credentials', async () => {
    writeFileSync(join(dir, 'index.html'), '<h1>hi</h1>');
    const fs = createFilesystems(
      { disk: { dir }, memory: { writeAuth: { username: 'admin', password: 'pw' } } },
      { guard: (_c, next) => next(), clientAddress: () => '127.0.0.1' },
    );
    const app = new Hono().route('/', fs.fileRoutes.app);

    const page = await app.request('http://localhost/');
    const refused = await app.request('http://localhost/memfs/a.ts', { method: 'PUT', body: 'x' });
    const stored = await app.request('http://localhost/memfs/a.ts', {
      method: 'PUT',
      headers: { Authorization: basic('admin', 'pw') },
      body: 'segment',
    });

    expect(await page.text()).toBe('<h1>hi</h1>');
    expect(refused.status).toBe(401);
    expect(stored.status).toBe(201);
    expect((await fs.mem.stat('/a.ts'))?.size).toBe(7);
    expect(fs.mounts.map((mount) => mount.mountpoint)).toEqual(['', '/memfs']);
  });

  it('runs the guard it is handed before every /fs API route', async () => {
    const fs = createFilesystems(
      { disk: { dir } },
      {
        guard: () => {
          throw new HttpError(401, 'Unauthorized');
        },
        clientAddress: () => undefined,
      },
    );
    const app = new Hono().route('/api/v3', fs.apiRoutes.app);

    expect((await app.request('http://localhost/api/v3/fs')).status).toBe(401);
    expect((await app.request('http://localhost/api/v3/fs/mem/a.ts')).status).toBe(401);
  });

  it('refuses a configuration without a disk directory', () => {
    const seams = { guard: () => Promise.resolve(), clientAddress: () => undefined };
    expect(() => createFilesystems({ disk: { dir: '' } }, seams)).toThrow(/disk/);
  });
});
