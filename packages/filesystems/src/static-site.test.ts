import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStaticSiteRoutes } from './static-site.js';

const base = mkdtempSync(join(tmpdir(), 'dragon-ui-'));
const root = join(base, 'ui');
mkdirSync(join(root, 'static', 'js'), { recursive: true });
mkdirSync(join(root, 'docs'), { recursive: true });
writeFileSync(join(root, 'index.html'), '<!doctype html><title>app</title>');
writeFileSync(join(root, 'static', 'js', 'main.js'), 'console.log(1)');
writeFileSync(join(root, 'manifest.json'), '{}');
writeFileSync(join(root, 'docs', 'index.html'), '<title>docs</title>');
writeFileSync(join(base, 'secret.txt'), 'outside');
symlinkSync(join(base, 'secret.txt'), join(root, 'leak.txt'));
symlinkSync(base, join(root, 'up'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const routes = createStaticSiteRoutes({ root }).app;
const get = (path: string, init?: RequestInit) => routes.request(`http://localhost${path}`, init);

describe('a UI directory served at /ui', () => {
  it('redirects /ui to /ui/ with 301, keeping the query', async () => {
    const response = await get('/ui?lang=de');

    expect(response.status).toBe(301);
    expect(response.headers.get('location')).toBe('/ui/?lang=de');
  });

  it('answers /ui/ with index.html and files with their types', async () => {
    const index = await get('/ui/');
    const script = await get('/ui/static/js/main.js');
    const manifest = await get('/ui/manifest.json');
    const directory = await get('/ui/docs');

    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html');
    expect(await index.text()).toContain('<title>app</title>');
    expect(script.headers.get('content-type')).toBe('text/javascript');
    expect(manifest.headers.get('content-type')).toBe('application/json');
    expect(await directory.text()).toContain('<title>docs</title>');
  });

  it('answers a deep link with index.html, but a missing asset with 404', async () => {
    const deep = await get('/ui/channel/7d1f/edit');
    const asset = await get('/ui/static/js/missing.js');

    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<title>app</title>');
    expect(asset.status).toBe(404);
  });

  it('serves nothing from outside the directory', async () => {
    const encoded = await get('/ui/%2e%2e/secret.txt');
    const link = await get('/ui/leak.txt');
    const linkedDir = await get('/ui/up/secret.txt');

    for (const response of [encoded, link, linkedDir]) {
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(await response.text()).not.toContain('outside');
    }
  });

  it('answers CORS as the filesystems do (storage.cors.origins)', async () => {
    const response = await get('/ui/', { headers: { Origin: 'http://other.test' } });

    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });
});
