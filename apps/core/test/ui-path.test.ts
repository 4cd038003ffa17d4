import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startInProcessCore } from './in-process-core.js';

const uiDir = mkdtempSync(join(tmpdir(), 'dragon-ui-path-'));
mkdirSync(join(uiDir, 'static'));
writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>Restreamer</title>');
writeFileSync(join(uiDir, 'static', 'app.css'), 'body{}');
afterAll(() => rmSync(uiDir, { recursive: true, force: true }));

describe('router.ui_path', () => {
  it('is served at /ui/ as datarhei serves it, deep links falling back to index.html', async () => {
    const core = await startInProcessCore({ CORE_ROUTER_UI_PATH: uiDir, CORE_WEBRTC_ENABLE: 'false' });
    try {
      const bare = await core.request('/ui');
      const index = await core.request('/ui/');
      const deep = await core.request('/ui/settings/network');
      const css = await core.request('/ui/static/app.css');

      expect(bare.status).toBe(301);
      expect(bare.headers.get('location')).toBe('/ui/');
      expect(await index.text()).toContain('<title>Restreamer</title>');
      expect(await deep.text()).toContain('<title>Restreamer</title>');
      expect(css.headers.get('content-type')).toBe('text/css');
    } finally {
      await core.close();
    }
  });

  it('is not served when unset', async () => {
    const core = await startInProcessCore({ CORE_WEBRTC_ENABLE: 'false' });
    try {
      expect((await core.request('/ui/')).status).toBe(404);
    } finally {
      await core.close();
    }
  });
});
