import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
/** Everything the process store holds, as text: each process's file and the global metadata. */
const stored = () => {
  const store = join(dataDir, 'store');
  const files = readdirSync(join(store, 'processes'))
    .sort()
    .map((name) => join(store, 'processes', name));
  if (existsSync(join(store, 'metadata.json'))) files.push(join(store, 'metadata.json'));
  return files.map((file) => readFileSync(file, 'utf8')).join('\n');
};

/** A process that never runs FFmpeg unless started. */
const idleProcess = (id: string, reference = 'ref') => ({
  id,
  reference,
  input: [{ id: 'in', address: 'testsrc2', options: ['-f', 'lavfi'] }],
  output: [{ id: 'out', address: '-', options: ['-f', 'null'] }],
  autostart: false,
});

type ProcessJson = Record<string, unknown> & { id: string };
const list = async (query: string) =>
  (await (await request(`/api/v3/process${query}`)).json()) as ProcessJson[];
const body = async (response: Response | Promise<Response>) => {
  const answer = await response;
  return { status: answer.status, body: await answer.json() };
};

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

    const all = await list('');
    expect(all.map((process) => process.id).sort()).toEqual(['alpha', 'beta']);
    expect(all[0]).toHaveProperty('state.order', 'stop');

    const one = (await (await request('/api/v3/process/alpha')).json()) as Record<string, unknown>;
    expect(one).toMatchObject({
      id: 'alpha',
      type: 'ffmpeg',
      reference: 'cams',
      created_at: expect.any(Number),
    });
    expect(one).toHaveProperty('report');

    const updated = await send('/api/v3/process/alpha', { ...idleProcess('alpha', 'renamed') }, 'PUT');
    expect(updated.status).toBe(200);
    expect(
      ((await (await request('/api/v3/process/alpha/config')).json()) as { reference: string }).reference,
    ).toBe('renamed');

    const removed = await request('/api/v3/process/beta', { method: 'DELETE' });
    expect(await removed.json()).toBe('OK');
    expect((await request('/api/v3/process/beta')).status).toBe(404);
    await request('/api/v3/process/alpha', { method: 'DELETE' });
  });

  it('filters the list as datarhei does: reference over ids, patterns intersected, filter as written', async () => {
    for (const [id, reference] of [
      ['cam-1', 'door'],
      ['cam-2', 'yard'],
      ['mic-1', 'door'],
    ] as const) {
      await send('/api/v3/process', idleProcess(id, reference));
    }
    const ids = (processes: ProcessJson[]) => processes.map((process) => process.id).sort();

    expect(ids(await list('?id=cam-2,mic-1'))).toEqual(['cam-2', 'mic-1']);
    expect(ids(await list('?reference=door'))).toEqual(['cam-1', 'mic-1']);
    // With a reference, datarhei ignores the id list.
    expect(ids(await list('?reference=door&id=cam-2'))).toEqual(['cam-1', 'mic-1']);
    expect(ids(await list('?idpattern=cam-*&refpattern=d*'))).toEqual(['cam-1']);
    expect(ids(await list('?idpattern=cam-*&id=cam-2,mic-1'))).toEqual(['cam-2']);

    const [configOnly] = await list('?id=cam-1&filter=config');
    expect(Object.keys(configOnly ?? {}).sort()).toEqual([
      'config',
      'created_at',
      'id',
      'reference',
      'type',
      'updated_at',
    ]);
    const [twoParts] = await list('?id=cam-1&filter=state,report');
    expect(twoParts).toHaveProperty('state');
    expect(twoParts).toHaveProperty('report');
    expect(twoParts).not.toHaveProperty('config');
    // An unknown name selects nothing, and entries are taken as written (no trimming).
    const [none] = await list('?id=cam-1&filter=bogus, config');
    expect(Object.keys(none ?? {}).sort()).toEqual(['created_at', 'id', 'reference', 'type', 'updated_at']);
    // No metadata stored: datarhei leaves the field out.
    expect((await list('?id=cam-1'))[0]).not.toHaveProperty('metadata');

    for (const id of ['cam-1', 'cam-2', 'mic-1'])
      await request(`/api/v3/process/${id}`, { method: 'DELETE' });
  });

  it('defaults an omitted autostart to true and other fields to zero, as datarhei does', async () => {
    const { autostart: _omitted, ...process } = idleProcess('defaults');
    // An input FFmpeg cannot open: the process starts, fails at once and stays down.
    const answer = await body(
      send('/api/v3/process', {
        ...process,
        input: [{ id: 'in', address: 'nosuchfilter', options: ['-f', 'lavfi'] }],
      }),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      autostart: true,
      reconnect: false,
      reconnect_delay_seconds: 0,
      stale_timeout_seconds: 0,
      limits: { cpu_usage: 0, memory_mbytes: 0, waitfor_seconds: 0 },
    });
    expect(
      ((await (await request('/api/v3/process/defaults/state')).json()) as { order: string }).order,
    ).toBe('start');
    await request('/api/v3/process/defaults', { method: 'DELETE' });
  });

  it('merges a partial PUT into the current config, element by element, keeping the order', async () => {
    await send('/api/v3/process', {
      ...idleProcess('merge', 'before'),
      output: [{ id: 'out', address: '-', options: ['-f', 'null'], cleanup: [{ pattern: 'memfs:/x_*.ts' }] }],
      reconnect_delay_seconds: 7,
    });
    const merged = await body(send('/api/v3/process/merge', { reference: 'after' }, 'PUT'));
    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({
      id: 'merge',
      reference: 'after',
      reconnect_delay_seconds: 7,
      input: idleProcess('merge').input,
      output: [{ id: 'out', address: '-', options: ['-f', 'null'], cleanup: [{ pattern: 'memfs:/x_*.ts' }] }],
    });

    // Go decodes array elements into the elements already there: unnamed fields stay.
    const element = await body(send('/api/v3/process/merge', { output: [{ address: 'pipe:1' }] }, 'PUT'));
    expect((element.body as { output: unknown[] }).output).toMatchObject([
      { id: 'out', address: 'pipe:1', options: ['-f', 'null'], cleanup: [{ pattern: 'memfs:/x_*.ts' }] },
    ]);
    // `autostart` in a PUT is stored, but the order stays: datarhei keeps the running state.
    await send('/api/v3/process/merge', { autostart: true, type: '' }, 'PUT');
    expect(((await (await request('/api/v3/process/merge/state')).json()) as { order: string }).order).toBe(
      'stop',
    );
    await request('/api/v3/process/merge', { method: 'DELETE' });
  });

  it('renames with a PUT that names another id, and refuses one onto an existing id', async () => {
    await send('/api/v3/process', idleProcess('old'));
    await send('/api/v3/process', idleProcess('taken'));
    await send('/api/v3/process/old/metadata/ui', { tab: 1 }, 'PUT');

    expect(await body(send('/api/v3/process/old', { id: 'taken' }, 'PUT'))).toEqual({
      status: 400,
      body: { code: 400, message: "Process can't be updated", details: ['process already exists'] },
    });
    const renamed = await body(send('/api/v3/process/old', { id: 'new' }, 'PUT'));
    expect(renamed).toMatchObject({ status: 200, body: { id: 'new' } });
    expect((await request('/api/v3/process/old')).status).toBe(404);
    expect(await (await request('/api/v3/process/new/metadata/ui')).json()).toEqual({ tab: 1 });
    for (const id of ['new', 'taken']) await request(`/api/v3/process/${id}`, { method: 'DELETE' });
  });

  it('answers a body nested too deep to store with 400, and stores one at the limit', async () => {
    await send('/api/v3/process', idleProcess('deep'));
    const nested = (depth: number) => `${'['.repeat(depth - 1)}"]["${']'.repeat(depth - 1)}`;
    const tooDeep = `{"a":${nested(100_000)}}`;
    const invalid = { message: 'Invalid JSON', details: ['the request body nests deeper than 1000 levels'] };
    // Parsed fine, but storing it (JSON.stringify) or cloning a config overflows the stack: not a 500.
    for (const path of ['/api/v3/process/deep/metadata/ui', '/api/v3/metadata/ui', '/api/v3/config']) {
      const answer = await send(path, tooDeep, 'PUT');
      expect({ path, status: answer.status, body: await answer.json() }).toMatchObject({
        path,
        status: 400,
        body: invalid,
      });
    }
    const atLimit = `{"a":${nested(999)}}`;
    expect((await send('/api/v3/process/deep/metadata/ui', atLimit, 'PUT')).status).toBe(200);
    expect(await (await request('/api/v3/process/deep/metadata/ui')).text()).toBe(atLimit);
    await request('/api/v3/process/deep', { method: 'DELETE' });
  });

  it('keeps per-process and global metadata, where null deletes a key and no metadata is null', async () => {
    await send('/api/v3/process', idleProcess('meta'));
    expect(await (await request('/api/v3/process/meta/metadata')).json()).toBeNull();
    expect(await (await send('/api/v3/process/meta/metadata/ui', { color: 'red' }, 'PUT')).json()).toEqual({
      color: 'red',
    });
    expect(await (await request('/api/v3/process/meta/metadata/ui')).json()).toEqual({ color: 'red' });
    expect(await (await request('/api/v3/process/meta/metadata')).json()).toEqual({ ui: { color: 'red' } });
    expect(await (await request('/api/v3/process/meta')).json()).toHaveProperty('metadata', {
      ui: { color: 'red' },
    });
    await send('/api/v3/process/meta/metadata/ui', null, 'PUT');
    expect(await body(request('/api/v3/process/meta/metadata/ui'))).toEqual({
      status: 404,
      body: { code: 404, message: 'Unknown process ID', details: ['unknown key'] },
    });
    expect((await request('/api/v3/process/meta/metadata/constructor')).status).toBe(404);

    await send('/api/v3/metadata/site', { name: 'home' }, 'PUT');
    expect(await (await request('/api/v3/metadata/site')).json()).toEqual({ name: 'home' });
    expect(await body(request('/api/v3/metadata/nothing'))).toEqual({
      status: 404,
      body: { code: 404, message: 'Metadata not found', details: ['unknown key'] },
    });
    expect(stored()).toContain('"home"');
  });

  it('answers bad input with the documented 4xx and leaves the store untouched', async () => {
    await send('/api/v3/process', idleProcess('keep'));
    const before = stored();
    const unknown = { code: 404, message: 'Unknown process ID', details: ['unknown process'] };
    const cases: [string, Response | Promise<Response>, number, Record<string, unknown>?][] = [
      ['bad JSON', send('/api/v3/process', '{"id": '), 400, { message: 'Invalid JSON' }],
      ['a body that is not an object', send('/api/v3/process', '[1]'), 400, { message: 'Invalid JSON' }],
      [
        'invalid config',
        send('/api/v3/process', { id: 'x', input: 'nope', output: [] }),
        400,
        // The field is there, with the wrong type: "required" would send the user looking for a typo.
        { message: 'Invalid JSON', details: ['input: must be a list'] },
      ],
      [
        'no input',
        send('/api/v3/process', { ...idleProcess('y'), input: [] }),
        400,
        { message: 'At least one input and one output need to be defined', details: [] },
      ],
      [
        'missing output',
        send('/api/v3/process', { id: 'y', input: idleProcess('y').input }),
        400,
        { message: 'Invalid JSON', details: ['output: required'] },
      ],
      [
        'unsupported type',
        send('/api/v3/process', { ...idleProcess('y'), type: 'gstreamer' }),
        400,
        { message: 'Invalid JSON' },
      ],
      [
        'empty type',
        send('/api/v3/process', { ...idleProcess('y'), type: '' }),
        400,
        { message: 'Unsupported process type', details: ['Supported process types are: ffmpeg'] },
      ],
      [
        'empty id',
        send('/api/v3/process', { ...idleProcess('y'), id: '' }),
        400,
        { message: 'Invalid process config', details: ['an empty ID is not allowed'] },
      ],
      [
        'duplicate id',
        send('/api/v3/process', idleProcess('keep')),
        400,
        { message: 'Invalid process config', details: ['process already exists'] },
      ],
      [
        'an invalid value',
        send('/api/v3/process', { ...idleProcess('y'), reconnect_delay_seconds: -1 }),
        400,
        { message: 'Invalid process config' },
      ],
      ['unknown id', request('/api/v3/process/nope'), 404, unknown],
      ['unknown id state', request('/api/v3/process/nope/state'), 404, unknown],
      ['unknown id delete', request('/api/v3/process/nope', { method: 'DELETE' }), 404, unknown],
      ['path traversal', request('/api/v3/process/..%2F..%2Fetc%2Fpasswd'), 404, unknown],
      [
        'unknown command',
        send('/api/v3/process/keep/command', { command: 'explode' }, 'PUT'),
        400,
        {
          message: 'Unknown command provided',
          details: ['Known commands are: start, stop, reload, restart'],
        },
      ],
      [
        'command on unknown id',
        send('/api/v3/process/nope/command', { command: 'start' }, 'PUT'),
        400,
        { message: 'Command failed', details: ['unknown process'] },
      ],
      [
        'update of unknown id',
        send('/api/v3/process/nope', idleProcess('nope'), 'PUT'),
        404,
        { message: 'Process not found', details: ['nope'] },
      ],
      [
        'update with bad JSON',
        send('/api/v3/process/keep', 'not json', 'PUT'),
        400,
        { message: 'Invalid JSON' },
      ],
      [
        'update to another type',
        send('/api/v3/process/keep', { type: 'gstreamer' }, 'PUT'),
        400,
        { message: 'Invalid JSON' },
      ],
      [
        'update without inputs',
        send('/api/v3/process/keep', { input: [] }, 'PUT'),
        400,
        { message: "Process can't be updated" },
      ],
      [
        'update to an empty id',
        send('/api/v3/process/keep', { id: '' }, 'PUT'),
        400,
        { message: "Process can't be updated", details: ['an empty ID is not allowed'] },
      ],
      [
        'huge body',
        send('/api/v3/process', { ...idleProcess('z'), reference: 'x'.repeat(2 * 1024 * 1024) }),
        413,
      ],
      ['mistyped global config', send('/api/v3/config', { address: 5 }, 'PUT'), 400],
    ];
    for (const [name, response, status, expected] of cases) {
      const answer = await response;
      expect({ name, status: answer.status }).toEqual({ name, status });
      const body = (await answer.json()) as { code: number; message: string; details: unknown[] };
      expect({ name, code: body.code }).toEqual({ name, code: status });
      expect(body.message).toEqual(expect.any(String));
      expect(Array.isArray(body.details)).toBe(true);
      if (expected) expect({ name, ...body }).toMatchObject({ name, ...expected });
    }
    expect(stored()).toBe(before);
  });

  it('answers a probe of an unknown id with 200 and the reason in its log, as datarhei', async () => {
    expect(await body(request('/api/v3/process/nope/probe'))).toEqual({
      status: 200,
      body: { streams: [], log: ['Unknown process ID (nope)'] },
    });
  });

  it('serves ping, about, skills, config, metrics and the OpenAPI document', async () => {
    expect(await (await request('/ping')).text()).toBe('pong');
    expect(await (await request('/api')).json()).toMatchObject({
      app: 'datarhei-core',
      version: { number: '16.16.0' },
      dragon: { app: 'dragon-core' },
    });
    const skills = (await (await request('/api/v3/skills')).json()) as Record<string, unknown>;
    expect(Object.keys(skills)).toEqual([
      'ffmpeg',
      'filter',
      'hwaccels',
      'codecs',
      'devices',
      'formats',
      'protocols',
    ]);
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
