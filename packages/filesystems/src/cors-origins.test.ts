import { describe, expect, it } from 'vitest';
import { corsOriginRule, isValidCorsOrigin } from './cors-origins.js';
import { createFsHttpRoutes } from './fs-http.js';
import { MemFilesystem } from './mem-filesystem.js';

async function filesWith(origins: string[] | undefined) {
  const mem = new MemFilesystem();
  await mem.write('/cam.m3u8', Buffer.from('#EXTM3U\n'));
  return createFsHttpRoutes({
    mounts: [
      { filesystem: mem, mountpoint: '/memfs', allowWrite: true, defaultContentType: 'application/data' },
    ],
    ...(origins ? { corsOrigins: origins } : {}),
    clientAddress: () => '127.0.0.1',
  }).app;
}

const fromOrigin = (origin: string) => ({ headers: { Origin: origin } });

describe('CORS of the filesystems (storage.cors.origins)', () => {
  it('answers * to any origin with the default ["*"], as datarhei does', async () => {
    const routes = await filesWith(['*']);

    const response = await routes.request(
      'http://localhost/memfs/cam.m3u8',
      fromOrigin('http://ui.test:3000'),
    );

    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('answers a preflight for a listed origin and none for another', async () => {
    const routes = await filesWith(['http://ui.test']);
    const preflight = (origin: string) =>
      routes.request('http://localhost/memfs/cam.m3u8', {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' },
      });

    const listed = await preflight('http://ui.test');
    const other = await preflight('http://evil.test');

    expect(listed.headers.get('access-control-allow-origin')).toBe('http://ui.test');
    expect(listed.headers.get('access-control-allow-methods')).toContain('GET');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('matches patterns as datarhei (Echo) does and echoes the origin', () => {
    const rule = corsOriginRule(['https://*.example.com', 'http://exact.test']) as (
      o: string,
    ) => string | null;

    expect(rule('https://cdn.example.com')).toBe('https://cdn.example.com');
    expect(rule('http://exact.test')).toBe('http://exact.test');
    expect(rule('http://cdn.example.com')).toBeNull();
    expect(rule('https://example.com.evil.test')).toBeNull();
    expect(rule('')).toBeNull();
  });

  it('refuses an origin datarhei refuses (no scheme, no wildcard)', () => {
    expect(isValidCorsOrigin('ui.test')).toBe(false);
  });
});
