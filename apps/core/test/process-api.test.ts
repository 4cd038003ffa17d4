import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore } from '../src/config/config-store.js';
import { type Core, createCore } from '../src/core.js';

let core: Core;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'dragon-api-'));
  const configStore = new ConfigStore(join(dataDir, 'config.json'), {
    CORE_DB_DIR: dataDir,
    CORE_STORAGE_DISK_DIR: join(dataDir, 'disk'),
    CORE_METRICS_ENABLE_PROMETHEUS: 'true',
    PATH: process.env.PATH,
    CORE_WEBRTC_INTERFACES: '127.0.0.1',
  });
  core = await createCore({ configStore, logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await core?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const request = (path: string, init?: RequestInit) => core.app.request(`http://localhost${path}`, init);
const send = (path: string, body: unknown, method = 'POST') =>
  request(path, {
    method,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });
const stored = () => readFileSync(join(dataDir, 'db.json'), 'utf8');

/** A process that never runs FFmpeg unless started. */
const idleProcess = (id: string, reference = 'ref') => ({
  id,
  reference,
  input: [{ id: 'in', address: 'testsrc2', options: ['-f', 'lavfi'] }],
  output: [{ id: 'out', address: '-', options: ['-f', 'null'] }],
  autostart: false,
});

describe('the process API', () => {
  it('adds, lists with filters, reads, updates and deletes processes in datarhei shapes', async () => {
    const added = await send('/api/v3/process', idleProcess('alpha', 'cams'));
    expect(added.status).toBe(200);
    expect(await added.json()).toMatchObject({
      id: 'alpha',
      type: 'ffmpeg',
      reference: 'cams',
      reconnect: expect.any(Boolean),
    });
    expect((await send('/api/v3/process', idleProcess('beta', 'other'))).status).toBe(200);

    const all = (await (await request('/api/v3/process')).json()) as {
      id: string;
      config: unknown;
      state: unknown;
    }[];
    expect(all.map((process) => process.id).sort()).toEqual(['alpha', 'beta']);
    expect(all[0]).toHaveProperty('state.order', 'stop');

    const byReference = (await (
      await request('/api/v3/process?reference=cams&filter=config')
    ).json()) as Record<string, unknown>[];
    expect(byReference.map((process) => process.id)).toEqual(['alpha']);
    expect(byReference[0]).toHaveProperty('config');
    expect(byReference[0]).not.toHaveProperty('state');
    const byPattern = (await (await request('/api/v3/process?idpattern=b*')).json()) as { id: string }[];
    expect(byPattern.map((process) => process.id)).toEqual(['beta']);

    const one = (await (await request('/api/v3/process/alpha')).json()) as Record<string, unknown>;
    expect(one).toMatchObject({ id: 'alpha', type: 'ffmpeg', reference: 'cams' });
    expect(one).toHaveProperty('report');

    const updated = await send('/api/v3/process/alpha', { ...idleProcess('alpha', 'renamed') }, 'PUT');
    expect(updated.status).toBe(200);
    expect(
      ((await (await request('/api/v3/process/alpha/config')).json()) as { reference: string }).reference,
    ).toBe('renamed');

    const removed = await request('/api/v3/process/beta', { method: 'DELETE' });
    expect(await removed.json()).toBe('OK');
    expect((await request('/api/v3/process/beta')).status).toBe(404);
  });

  it('keeps per-process and global metadata, where null deletes a key', async () => {
    await send('/api/v3/process', idleProcess('meta'));
    expect(await (await send('/api/v3/process/meta/metadata/ui', { color: 'red' }, 'PUT')).json()).toEqual({
      color: 'red',
    });
    expect(await (await request('/api/v3/process/meta/metadata/ui')).json()).toEqual({ color: 'red' });
    expect(await (await request('/api/v3/process/meta/metadata')).json()).toEqual({ ui: { color: 'red' } });
    await send('/api/v3/process/meta/metadata/ui', null, 'PUT');
    expect((await request('/api/v3/process/meta/metadata/ui')).status).toBe(404);

    await send('/api/v3/metadata/site', { name: 'home' }, 'PUT');
    expect(await (await request('/api/v3/metadata/site')).json()).toEqual({ name: 'home' });
    expect(stored()).toContain('"home"');
  });

  it('answers bad input with the documented 4xx and leaves the store untouched', async () => {
    await send('/api/v3/process', idleProcess('keep'));
    const before = stored();
    const cases: [string, Response | Promise<Response>, number][] = [
      ['bad JSON', send('/api/v3/process', '{"id": '), 400],
      ['invalid config', send('/api/v3/process', { id: 'x', input: 'nope' }), 400],
      ['unsupported type', send('/api/v3/process', { ...idleProcess('y'), type: 'gstreamer' }), 400],
      ['duplicate id', send('/api/v3/process', idleProcess('keep')), 400],
      ['unknown id', request('/api/v3/process/nope'), 404],
      ['path traversal', request('/api/v3/process/..%2F..%2Fetc%2Fpasswd'), 404],
      ['unknown command', send('/api/v3/process/keep/command', { command: 'explode' }, 'PUT'), 400],
      ['command on unknown id', send('/api/v3/process/nope/command', { command: 'start' }, 'PUT'), 404],
      ['update with bad JSON', send('/api/v3/process/keep', 'not json', 'PUT'), 400],
      [
        'huge body',
        send('/api/v3/process', { ...idleProcess('z'), reference: 'x'.repeat(2 * 1024 * 1024) }),
        413,
      ],
      ['mistyped global config', send('/api/v3/config', { address: 5 }, 'PUT'), 400],
    ];
    for (const [name, response, status] of cases) {
      const answer = await response;
      expect({ name, status: answer.status }).toEqual({ name, status });
      const body = (await answer.json()) as { code: number; message: string; details: unknown[] };
      expect({ name, code: body.code }).toEqual({ name, code: status });
      expect(body.message).toEqual(expect.any(String));
      expect(Array.isArray(body.details)).toBe(true);
    }
    expect(stored()).toBe(before);
  });

  it('serves ping, about, skills, config, metrics and the OpenAPI document', async () => {
    expect(await (await request('/ping')).text()).toBe('pong');
    expect(await (await request('/api')).json()).toMatchObject({
      app: 'datarhei-core',
      version: { number: '16.16.0' },
      dragon: { app: 'dragon-core' },
    });
    expect(await (await request('/api/v3/skills')).json()).toHaveProperty('ffmpeg');
    const config = (await (await request('/api/v3/config')).json()) as Record<string, unknown>;
    expect(Object.keys(config).sort()).toEqual([
      'config',
      'created_at',
      'loaded_at',
      'overrides',
      'updated_at',
    ]);
    expect(config.overrides).toEqual(expect.arrayContaining(['db.dir']));
    expect(await (await request('/metrics')).text()).toMatch(/^dragon_processes\{state="finished"\} \d+$/m);
    const document = (await (await request('/api/swagger/doc.json')).json()) as {
      components: { schemas: Record<string, unknown> };
    };
    expect(document.components.schemas).toHaveProperty('ProcessConfig');
    expect((await request('/api/swagger')).status).toBe(200);
    expect((await request('/api/swagger/ui/swagger-ui-bundle.js')).status).toBe(200);
    expect((await request('/api/swagger/ui/..%2Fpackage.json')).status).toBe(404);
  });
});
