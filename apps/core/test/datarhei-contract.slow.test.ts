import { waitFor } from '@dragon/test-helpers/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configExtras,
  type DatarheiOperation,
  mismatches,
  notImplemented,
  operations,
  type Schema,
  type ShapeRules,
} from './datarhei-swagger.js';
import { runFFmpeg, stopFFmpegs, testPatternInput } from './ffmpeg-child.js';
import { type InProcessCore, startInProcessCore } from './in-process-core.js';

/**
 * Every route of datarhei Core's API description, walked with auth on against a core with the RTMP and
 * SRT servers on, a running FFmpeg and streams published to both: each documented answer is provoked
 * and its status and shape checked, or the route (or the one answer) is listed with the reason Dragon
 * does not give it. The same reasons are in `docs/datarhei-compat.md`.
 */

/** Documented answers of implemented routes that no request provokes from Dragon. */
const unprovoked: Record<string, string> = {
  'POST /api/login 403': 'an Auth0 login refused; Dragon has no Auth0 logins',
  'POST /api/login 500': 'signing a token failed; HMAC signing in Node cannot fail for a valid key',
  'GET /api/login/refresh 500': 'signing a token failed; HMAC signing in Node cannot fail for a valid key',
  'GET /api/v3/fs/{storage}/{filepath} 301': "a symbolic link; Dragon's filesystems have none",
  'GET /api/v3/metadata/{key} 400': 'a GET has no body to be malformed; any key is 200 or 404',
  'GET /api/v3/process/{id}/config 400': 'any id is 200 or 404',
  'GET /api/v3/process/{id}/state 400': 'any id is 200 or 404',
  'GET /api/v3/process/{id}/report 400': 'any id is 200 or 404',
  'GET /api/v3/process/{id}/metadata/{key} 400': 'a GET has no body to be malformed; any key is 200 or 404',
  'GET /profiling 200': 'no profiler; with `debug.profiling` off (the default) datarhei answers 404 too',
  'PUT /api/v3/process/{id}/command 404':
    "an unknown id is 400, as datarhei's handler answers it (its description lists 404 as well)",
};

/** datarhei's own omissions and nils, and Dragon's additions (each in `docs/datarhei-compat.md`). */
const rules: ShapeRules = {
  optional: {
    // Left out by the `filter` query.
    'api.Process': ['config', 'state', 'report', 'metadata'],
    'api.ProcessConfigIO': ['cleanup'],
    'api.ProgressIO': ['pix_fmt', 'width', 'height', 'sampling_hz', 'layout', 'channels'],
  },
  nullable: {
    'api.ProgressIO': ['avstream'],
  },
  extra: {
    'api.About': ['dragon'],
    ...configExtras,
    'api.ProcessConfig': ['webrtc'],
    'api.ProcessReport': ['exit_state'],
    'api.ProcessReportHistoryEntry': ['exit_state'],
  },
  wire: {
    // datarhei's `MetricsResponseValue.MarshalJSON` writes `[unix seconds, value]`.
    'api.MetricsResponseValue': { type: 'array' },
  },
};

const credentials = { username: 'admin', password: 'contract-pw' };
let server: InProcessCore;
let token = '';
let refreshToken = '';

const bearer = (value = token) => ({ Authorization: `Bearer ${value}` });
const call = (path: string, init: RequestInit = {}) =>
  server.request(path, { ...init, headers: { ...bearer(), ...(init.headers as Record<string, string>) } });
const send = (method: string, path: string, body: unknown) =>
  call(path, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** A test pattern and a tone into two null outputs, logged with level prefixes. */
const process = {
  id: 'contract',
  reference: 'swagger',
  options: ['-loglevel', 'level+info'],
  input: [
    { id: 'pattern', address: 'testsrc2=size=160x120:rate=25', options: ['-re', '-f', 'lavfi'] },
    { id: 'tone', address: 'sine=sample_rate=48000', options: ['-re', '-f', 'lavfi'] },
  ],
  output: [
    {
      id: 'both',
      address: '-',
      options: ['-map', '0:v', '-map', '1:a', '-c:v', 'mpeg4', '-c:a', 'pcm_s16le', '-f', 'null'],
      cleanup: [{ pattern: 'memfs:/{processid}_*.ts', max_files: 3 }],
    },
    { id: 'video', address: '-', options: ['-map', '0:v', '-c:v', 'mpeg4', '-f', 'null'] },
  ],
  autostart: true,
};

async function waitForFrames(): Promise<void> {
  await waitFor('the contract process to report frames', async () => {
    const state = (await (await call('/api/v3/process/contract/state')).json()) as {
      exec: string;
      progress: { frame: number; outputs: unknown[] };
    };
    return (
      (state.exec === 'running' && state.progress.frame > 0 && state.progress.outputs.length > 0) || undefined
    );
  });
}

interface Case {
  status: number;
  provoke: () => Promise<Response>;
  /** Instead of the documented schema, where datarhei's handler departs from its own description. */
  schema?: Schema;
  /** Checks beyond the shape. */
  check?: (body: unknown, response: Response) => void;
}

const mib = 1024 * 1024;

/** Each route's answers, in the order they are walked (later ones change state). */
const walk: [string, Case[]][] = [
  [
    'GET /ping',
    [{ status: 200, provoke: () => server.request('/ping'), check: (body) => expect(body).toBe('pong') }],
  ],
  ['GET /api', [{ status: 200, provoke: () => call('/api') }]],
  [
    'POST /api/login',
    [
      { status: 200, provoke: () => send('POST', '/api/login', credentials) },
      { status: 400, provoke: () => send('POST', '/api/login', {}) },
    ],
  ],
  [
    'GET /api/login/refresh',
    [{ status: 200, provoke: () => call('/api/login/refresh', { headers: bearer(refreshToken) }) }],
  ],
  [
    'GET /api/swagger',
    [
      {
        status: 200,
        provoke: () => server.request('/api/swagger'),
        check: (body) => expect(body).toMatch(/swagger/i),
      },
    ],
  ],
  [
    'GET /metrics',
    [
      {
        status: 200,
        provoke: () => call('/metrics'),
        check: (body) => expect(body).toMatch(/dragon_processes\{state="running"\} 1/),
      },
    ],
  ],
  [
    'GET /profiling',
    [
      {
        status: 404,
        provoke: () => server.request('/profiling'),
        // With profiling off datarhei registers no route: the 404 is its router's error body.
        schema: { $ref: '#/definitions/api.Error' },
      },
    ],
  ],
  ['GET /api/v3/config', [{ status: 200, provoke: () => call('/api/v3/config') }]],
  [
    'PUT /api/v3/config',
    [
      { status: 200, provoke: () => send('PUT', '/api/v3/config', { log: { level: 'info' } }) },
      { status: 400, provoke: () => send('PUT', '/api/v3/config', '{"log":') },
      {
        status: 409,
        provoke: () => send('PUT', '/api/v3/config', { address: 'nonsense', srt: { passphrase: 'short' } }),
        check: (body) => expect(Object.keys(body as object).sort()).toEqual(['address', 'srt.passphrase']),
      },
    ],
  ],
  ['GET /api/v3/config/reload', [{ status: 200, provoke: () => call('/api/v3/config/reload') }]],
  [
    'GET /api/v3/fs',
    [{ status: 200, provoke: () => call('/api/v3/fs'), check: (body) => expect(body).toHaveLength(2) }],
  ],
  [
    'PUT /api/v3/fs/{storage}/{filepath}',
    [
      { status: 201, provoke: () => call('/api/v3/fs/mem/walk/a.txt', { method: 'PUT', body: 'one' }) },
      { status: 204, provoke: () => call('/api/v3/fs/mem/walk/a.txt', { method: 'PUT', body: 'two' }) },
      {
        status: 507,
        provoke: () => call('/api/v3/fs/mem/walk/big.bin', { method: 'PUT', body: new Uint8Array(2 * mib) }),
      },
    ],
  ],
  [
    'GET /api/v3/fs/{storage}',
    [
      {
        status: 200,
        provoke: () => call('/api/v3/fs/mem?glob=/walk/**&sort=name'),
        check: (body) =>
          expect(body).toEqual([expect.objectContaining({ name: '/walk/a.txt', size_bytes: 3 })]),
      },
    ],
  ],
  [
    'GET /api/v3/fs/{storage}/{filepath}',
    [
      {
        status: 200,
        provoke: () => call('/api/v3/fs/mem/walk/a.txt'),
        check: (body) => expect(body).toBe('two'),
      },
      { status: 404, provoke: () => call('/api/v3/fs/mem/walk/none.txt') },
    ],
  ],
  [
    'DELETE /api/v3/fs/{storage}/{filepath}',
    [
      { status: 200, provoke: () => call('/api/v3/fs/mem/walk/a.txt', { method: 'DELETE' }) },
      { status: 404, provoke: () => call('/api/v3/fs/mem/walk/a.txt', { method: 'DELETE' }) },
    ],
  ],
  [
    'GET /api/v3/log',
    // The lines themselves are checked against the built server (restreamer-walk.slow.test.ts).
    [{ status: 200, provoke: () => call('/api/v3/log') }],
  ],
  [
    'PUT /api/v3/metadata/{key}',
    [
      { status: 200, provoke: () => send('PUT', '/api/v3/metadata/ui', { theme: 'dark' }) },
      { status: 400, provoke: () => send('PUT', '/api/v3/metadata/ui', '{"theme":') },
    ],
  ],
  [
    'GET /api/v3/metadata/{key}',
    [
      {
        status: 200,
        provoke: () => call('/api/v3/metadata/ui'),
        check: (body) => expect(body).toEqual({ theme: 'dark' }),
      },
      { status: 404, provoke: () => call('/api/v3/metadata/none') },
    ],
  ],
  ['GET /api/v3/metrics', [{ status: 200, provoke: () => call('/api/v3/metrics') }]],
  [
    'POST /api/v3/metrics',
    [
      {
        status: 200,
        provoke: () => send('POST', '/api/v3/metrics', { metrics: [{ name: 'restream_process' }] }),
        check: (body) => expect((body as { metrics: unknown[] }).metrics).not.toHaveLength(0),
      },
      { status: 400, provoke: () => send('POST', '/api/v3/metrics', { metrics: 'all' }) },
    ],
  ],
  [
    'GET /api/v3/process',
    ['', 'config', 'state', 'report', 'metadata', 'config,state,report,metadata', 'bogus'].map((filter) => ({
      status: 200,
      provoke: () => call(`/api/v3/process?filter=${filter}`),
      check: (body: unknown) => expect(body).toHaveLength(1),
    })),
  ],
  [
    'POST /api/v3/process',
    [
      {
        status: 200,
        provoke: () => send('POST', '/api/v3/process', { ...process, id: 'second', autostart: false }),
      },
      { status: 400, provoke: () => send('POST', '/api/v3/process', { ...process, input: [] }) },
    ],
  ],
  [
    'GET /api/v3/process/{id}',
    [
      ...['', 'config', 'state', 'report', 'metadata', 'bogus'].map((filter) => ({
        status: 200,
        provoke: () => call(`/api/v3/process/contract?filter=${filter}`),
      })),
      { status: 404, provoke: () => call('/api/v3/process/nope') },
    ],
  ],
  [
    'PUT /api/v3/process/{id}',
    [
      { status: 200, provoke: () => send('PUT', '/api/v3/process/second', { reference: 'swagger-2' }) },
      { status: 400, provoke: () => send('PUT', '/api/v3/process/second', { input: [] }) },
      { status: 404, provoke: () => send('PUT', '/api/v3/process/nope', process) },
    ],
  ],
  [
    'PUT /api/v3/process/{id}/command',
    [
      { status: 200, provoke: () => send('PUT', '/api/v3/process/second/command', { command: 'stop' }) },
      { status: 400, provoke: () => send('PUT', '/api/v3/process/second/command', { command: 'explode' }) },
      { status: 400, provoke: () => send('PUT', '/api/v3/process/nope/command', { command: 'start' }) },
    ],
  ],
  [
    'GET /api/v3/process/{id}/config',
    [
      { status: 200, provoke: () => call('/api/v3/process/contract/config') },
      { status: 404, provoke: () => call('/api/v3/process/nope/config') },
    ],
  ],
  [
    'GET /api/v3/process/{id}/state',
    [
      {
        status: 200,
        provoke: () => call('/api/v3/process/contract/state'),
        check: (body) => {
          const { progress } = body as {
            progress: { inputs: { id: string }[]; outputs: { id: string; type: string }[] };
          };
          expect(progress.inputs.map((io) => io.id)).toEqual(['pattern', 'tone']);
          expect(progress.outputs.map((io) => `${io.id}:${io.type}`).sort()).toEqual([
            'both:audio',
            'both:video',
            'video:video',
          ]);
        },
      },
      { status: 404, provoke: () => call('/api/v3/process/nope/state') },
    ],
  ],
  [
    'GET /api/v3/process/{id}/report',
    [
      {
        status: 200,
        provoke: () => call('/api/v3/process/contract/report'),
        check: (body) => expect((body as { history: unknown[] }).history).not.toHaveLength(0),
      },
      { status: 404, provoke: () => call('/api/v3/process/nope/report') },
    ],
  ],
  [
    'GET /api/v3/process/{id}/probe',
    [{ status: 200, provoke: () => call('/api/v3/process/contract/probe') }],
  ],
  [
    'PUT /api/v3/process/{id}/metadata/{key}',
    [
      { status: 200, provoke: () => send('PUT', '/api/v3/process/contract/metadata/ui', { tab: 1 }) },
      { status: 400, provoke: () => send('PUT', '/api/v3/process/contract/metadata/ui', '{"tab":') },
      { status: 404, provoke: () => send('PUT', '/api/v3/process/nope/metadata/ui', { tab: 1 }) },
    ],
  ],
  [
    'GET /api/v3/process/{id}/metadata/{key}',
    [
      { status: 200, provoke: () => call('/api/v3/process/contract/metadata/ui') },
      { status: 404, provoke: () => call('/api/v3/process/contract/metadata/none') },
    ],
  ],
  [
    'GET /api/v3/rtmp',
    [
      {
        status: 200,
        provoke: () => call('/api/v3/rtmp'),
        check: (body) => expect(body).toEqual([{ name: '/live/walk' }]),
      },
    ],
  ],
  [
    'GET /api/v3/srt',
    [
      {
        status: 200,
        provoke: () => call('/api/v3/srt'),
        // datarhei's handler answers one object (the Restreamer UI reads its `publisher`); its
        // description says an array of them.
        schema: { $ref: '#/definitions/api.SRTChannels' },
        check: (body) => expect(Object.keys((body as { publisher: object }).publisher)).toEqual(['walk']),
      },
    ],
  ],
  [
    'GET /api/v3/session',
    [
      {
        status: 200,
        provoke: () => call('/api/v3/session?collectors=rtmp,srt,hls,webrtc'),
        check: (body) => expect(Object.keys(body as object).sort()).toEqual(['hls', 'rtmp', 'srt', 'webrtc']),
      },
    ],
  ],
  [
    'GET /api/v3/session/active',
    [
      {
        status: 200,
        provoke: () => call('/api/v3/session/active?collectors=rtmp,srt'),
        check: (body) => {
          const active = body as Record<string, { local: string }[]>;
          expect(active.rtmp?.map((session) => session.local)).toContain('publish:/live/walk');
          expect(active.srt?.map((session) => session.local)).toContain('publish:walk');
        },
      },
    ],
  ],
  ['GET /api/v3/skills', [{ status: 200, provoke: () => call('/api/v3/skills') }]],
  ['GET /api/v3/skills/reload', [{ status: 200, provoke: () => call('/api/v3/skills/reload') }]],
  [
    'GET /api/v3/widget/process/{id}',
    [
      { status: 200, provoke: () => server.request('/api/v3/widget/process/contract') },
      { status: 404, provoke: () => server.request('/api/v3/widget/process/nope') },
    ],
  ],
  [
    'DELETE /api/v3/process/{id}',
    [
      { status: 200, provoke: () => call('/api/v3/process/second', { method: 'DELETE' }) },
      { status: 404, provoke: () => call('/api/v3/process/second', { method: 'DELETE' }) },
    ],
  ],
];

/** Routes that answer without a token: datarhei's public ones, and `/api` (minimal about) and login. */
const withoutToken = new Set([
  'GET /api',
  'POST /api/login',
  'GET /ping',
  'GET /api/swagger',
  'GET /metrics',
  'GET /profiling',
  'GET /api/v3/widget/process/{id}',
]);

beforeAll(async () => {
  server = await startInProcessCore({
    CORE_API_AUTH_ENABLE: 'true',
    CORE_API_AUTH_USERNAME: credentials.username,
    CORE_API_AUTH_PASSWORD: credentials.password,
    CORE_METRICS_ENABLE_PROMETHEUS: 'true',
    CORE_RTMP_ENABLE: 'true',
    CORE_RTMP_ADDRESS: '127.0.0.1:0',
    CORE_RTMP_APP: '/live',
    CORE_SRT_ENABLE: 'true',
    CORE_SRT_ADDRESS: '127.0.0.1:0',
    CORE_STORAGE_MEMORY_MAXSIZEMBYTES: '1',
    // Loopback clients are counted, so the published streams show as sessions.
    CORE_SESSIONS_IP_IGNORELIST: '192.0.2.0/24',
  });
  const login = await server.request('/api/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(credentials),
  });
  const jwt = (await login.json()) as { access_token: string; refresh_token: string };
  token = jwt.access_token;
  refreshToken = jwt.refresh_token;

  const { rtmp, srt } = server.core.services;
  runFFmpeg([...testPatternInput(), '-f', 'flv', `rtmp://127.0.0.1:${rtmp!.port}/live/walk`]);
  runFFmpeg([
    ...testPatternInput(),
    '-f',
    'mpegts',
    `srt://127.0.0.1:${srt!.port}?mode=caller&streamid=walk,mode:publish`,
  ]);
  expect((await send('POST', '/api/v3/process', process)).status).toBe(200);
  await waitForFrames();
  // A second run, so the report has a history entry.
  await send('PUT', '/api/v3/process/contract/command', { command: 'restart' });
  await waitForFrames();
  await waitFor(
    'both publishes',
    () => (rtmp!.channels().length === 1 && srt!.channels().length === 1) || undefined,
  );
});
afterAll(async () => {
  await stopFFmpegs();
  await server?.close();
});

describe("datarhei's API description, walked route by route with auth on", () => {
  it('has every documented answer walked, or listed with the reason Dragon does not give it', () => {
    const walked = new Map(walk);
    const unaccounted: string[] = [];
    for (const operation of operations()) {
      const { key, statuses } = operation;
      if (notImplemented[key]) {
        expect(walked.has(key), `${key} is walked and listed as not implemented`).toBe(false);
        continue;
      }
      const cases = walked.get(key);
      if (!cases) {
        unaccounted.push(key);
        continue;
      }
      for (const status of statuses) {
        const provoked = cases.some((c) => c.status === status);
        const reason = unprovoked[`${key} ${status}`];
        if (provoked === Boolean(reason)) unaccounted.push(`${key} ${status}`);
      }
    }
    expect(unaccounted).toEqual([]);
    const documented = new Set(operations().map((operation) => operation.key));
    expect([...walked.keys(), ...Object.keys(notImplemented)].filter((key) => !documented.has(key))).toEqual(
      [],
    );
  });

  for (const [key, cases] of walk) {
    const operation = operations().find((candidate) => candidate.key === key) as DatarheiOperation;
    cases.forEach((testCase, index) => {
      it(`${key} answers ${testCase.status} in datarhei's shape (${index + 1})`, async () => {
        const response = await testCase.provoke();
        expect(response.status).toBe(testCase.status);
        const schema = testCase.schema ?? operation.responses[testCase.status];
        const json = response.headers.get('content-type')?.startsWith('application/json');
        const body = json ? await response.json() : await response.text();
        if (schema) expect(mismatches(body, schema, rules)).toEqual([]);
        testCase.check?.(body, response);
      });
    });
  }

  it.each(Object.keys(notImplemented))('%s answers 404 with the error shape', async (key) => {
    const [method, path] = key.split(' ') as [string, string];
    const url = path.replace('{id}', 'contract').replace('{inputid}', 'pattern').replace('{name}', 'x');
    const response = await call(url, { method });
    expect(response.status).toBe(404);
    expect(mismatches(await response.json(), { $ref: '#/definitions/api.Error' })).toEqual([]);
  });

  it('answers every route that needs a token with 401 and the error shape when it has none', async () => {
    const refused: string[] = [];
    for (const [key] of walk) {
      if (withoutToken.has(key)) continue;
      const [method, path] = key.split(' ') as [string, string];
      const url = path
        .replace('{id}', 'contract')
        .replace('{storage}', 'mem')
        .replace('{filepath}', 'x.txt')
        .replace('{key}', 'ui');
      const response = await server.request(url, { method, body: method === 'GET' ? null : '{}' });
      const body = await response.json();
      if (response.status !== 401 || mismatches(body, { $ref: '#/definitions/api.Error' }).length > 0)
        refused.push(`${key}: ${response.status}`);
    }
    expect(refused).toEqual([]);
  });

  it('checks what it claims: a misnamed or mistyped field is reported', () => {
    expect(mismatches({ filters: [] }, { $ref: '#/definitions/api.Skills' }, rules)).toEqual(
      expect.arrayContaining(['$.filter: missing', "$.filters: not in datarhei's api.Skills"]),
    );
    expect(mismatches({ id: 5 }, { $ref: '#/definitions/api.ProcessConfigIO' }, rules)).toEqual([
      '$.address: missing',
      '$.id: not a string',
      '$.options: missing',
    ]);
  });
});
