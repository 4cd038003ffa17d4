import { errorResponse } from '@dragon/http-error';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createFsHttpRoutes, type HlsObserver } from './fs-http.js';
import { createFsApiRoutes } from './fs-routes.js';
import { MemFilesystem } from './mem-filesystem.js';

// The filesystems' failures as a client sees them once the app's one renderer has them: datarhei's
// `{code, message, details}`, the code first, headers kept, no host path or I/O text.

const refusingViewers: HlsObserver = {
  playlist: () => ({ refuse: 'Too many sessions' }),
  segment: () => {},
  ingress: () => {},
};

async function app(): Promise<Hono> {
  const mem = new MemFilesystem({ maxBytes: 16 });
  await mem.write('/live.m3u8', Buffer.from('#EXTM3U\n'));
  const mount = {
    filesystem: mem,
    mountpoint: '/memfs',
    allowWrite: true,
    writeAuth: { username: 'admin', password: 'secret' },
    defaultContentType: 'application/data',
  };
  const host = new Hono();
  host.onError(errorResponse);
  host.route('/api/v3', createFsApiRoutes([mount], (_c, next) => next()).app);
  host.route(
    '/',
    createFsHttpRoutes({ mounts: [mount], clientAddress: () => '127.0.0.1', hls: refusingViewers }).app,
  );
  return host;
}

const basic = `Basic ${Buffer.from('admin:secret').toString('base64')}`;

describe('filesystem errors over HTTP', () => {
  it('challenges a write without credentials as FFmpeg needs: 401 with WWW-Authenticate Basic', async () => {
    const res = await (await app()).request('http://localhost/memfs/a.ts', { method: 'PUT', body: 'x' });

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="Restricted"');
    expect(await res.json()).toEqual({ code: 401, message: 'Unauthorized', details: [] });
  });

  it('answers a missing file and an unknown filesystem with 404 and their codes', async () => {
    const host = await app();
    const missing = await host.request('http://localhost/memfs/nothing.ts');
    const unknown = await host.request('http://localhost/api/v3/fs/nofs/a.ts');

    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      code: 404,
      message: 'File not found',
      details: ['FS_FILE_NOT_FOUND'],
    });
    expect(await unknown.json()).toEqual({
      code: 404,
      message: 'File not found',
      details: ['FS_UNKNOWN_FILESYSTEM'],
    });
  });

  it('answers a file larger than the filesystem with 507 and its code', async () => {
    const res = await (await app()).request('http://localhost/memfs/big.ts', {
      method: 'PUT',
      headers: { Authorization: basic },
      body: 'x'.repeat(64),
    });

    expect(res.status).toBe(507);
    expect(await res.json()).toEqual({ code: 507, message: 'File is too big', details: ['FS_FILE_TOO_BIG'] });
  });

  it("answers a playlist the session limits refuse with datarhei's 509 and the reason", async () => {
    const res = await (await app()).request('http://localhost/memfs/live.m3u8');

    expect(res.status).toBe(509);
    expect(await res.json()).toEqual({ code: 509, message: 'Too many sessions', details: [] });
  });

  it('answers a path above the root with 400 and no path in the answer', async () => {
    const res = await (await app()).request('http://localhost/api/v3/fs/mem/%2e%2e%2f%2e%2e%2fetc%2fpasswd');
    const text = await res.text();

    expect(res.status).toBe(400);
    expect(JSON.parse(text)).toEqual({ code: 400, message: 'Invalid path', details: ['FS_PATH_INVALID'] });
    expect(text).not.toContain('passwd');
  });
});
