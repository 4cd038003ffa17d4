import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operations as datarheiOperations, notImplemented } from './datarhei-swagger.js';
import { type InProcessCore, startInProcessCore } from './in-process-core.js';
import { documentChecks, documentPath, jsonRequest } from './openapi-check.js';

/**
 * The document the server serves, generated from the routes' declarations, against the app: every
 * route the app registers is documented with its parameters, body and answers, every documented
 * route is served, every JSON answer's schema resolves, datarhei's operations Dragon implements are
 * all there, and the answers of the routes that need no FFmpeg run match the document
 * (`openapi-answers.slow.test.ts` checks the process API with FFmpeg running).
 */

let server: InProcessCore;
let checks: Awaited<ReturnType<typeof documentChecks>>;
beforeAll(async () => {
  // Every optional route on: WebRTC, WHIP, Prometheus, RTMP, SRT and the metrics history.
  server = await startInProcessCore({
    CORE_WEBRTC_ENABLE: 'true',
    CORE_WHIP_ENABLE: 'true',
    CORE_METRICS_ENABLE_PROMETHEUS: 'true',
    CORE_METRICS_ENABLE: 'true',
    CORE_RTMP_ENABLE: 'true',
    CORE_RTMP_ADDRESS: '127.0.0.1:0',
    CORE_SRT_ENABLE: 'true',
    CORE_SRT_ADDRESS: '127.0.0.1:0',
  });
  checks = await documentChecks(server);
});
afterAll(async () => {
  await server?.close();
});

/** `GET /api/v3/fs/{name}`: each operation of the document as `METHOD /path`. */
const documented = () =>
  Object.entries(checks.document.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
  );

/** The app's routes as `METHOD /path`; `ALL` entries are middleware or the 405s of a resource. */
const served = () =>
  new Set(
    server.core.app.routes
      .filter((route) => route.method !== 'ALL')
      .map((route) => `${route.method} ${documentPath(route.path)}`),
  );

describe('the served OpenAPI document', () => {
  it('documents every method and path the app serves', () => {
    const routes = [...served()];
    expect(routes).toContain('GET /api/v3/srt');
    // The routes of the route packages, declared by them: WHEP, WHIP (and WHEP of a publication), files.
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /api/v3/process/{id}/whep',
        'POST /api/v3/whip/{name}',
        'PATCH /api/v3/whip/{name}/{sessionId}',
        'DELETE /api/v3/whip/{name}/{sessionId}',
        'OPTIONS /api/v3/whip/{name}/{sessionId}',
        'POST /api/v3/whip/{id}/whep',
        'GET /api/v3/whip',
        'GET /player/whip/{name}',
        'PUT /memfs/{path}',
        'GET /api/v3/fs/{name}/{path}',
      ]),
    );
    const operations = new Set(documented());
    expect(routes.filter((route) => !operations.has(route))).toEqual([]);
  });

  it('names no route the app does not serve (the cluster view only in cluster mode)', () => {
    const routes = served();
    expect(documented().filter((operation) => !routes.has(operation))).toEqual([]);
    expect(checks.document.paths['/api/v3/cluster']).toBeUndefined();
  });

  it("declares each operation's path parameters, request body and answers", () => {
    const incomplete: string[] = [];
    for (const [path, methods] of Object.entries(checks.document.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name);
      for (const [method, operation] of Object.entries(methods)) {
        const key = `${method.toUpperCase()} ${path}`;
        const parameters = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        if (parameters.join() !== names.join()) incomplete.push(`${key}: path parameters ${parameters}`);
        if (Object.keys(operation.responses).length === 0) incomplete.push(`${key}: no answers`);
        for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
          if (!media.schema) incomplete.push(`${key}: ${type} body without a schema`);
        }
      }
    }
    expect(incomplete).toEqual([]);
    // The bodies the handlers parse by their zod schemas are documented by those schemas.
    const body = (key: string) => {
      const [method = '', path = ''] = key.split(' ');
      return checks.document.paths[path]?.[method.toLowerCase()]?.requestBody?.content['application/json']
        ?.schema;
    };
    expect(body('POST /api/v3/process')).toEqual({ $ref: '#/components/schemas/ProcessConfigInput' });
    expect(body('POST /api/login')).toEqual({ $ref: '#/components/schemas/Login' });
    expect(body('PUT /api/v3/process/{id}/command')).toEqual({ $ref: '#/components/schemas/Command' });
    expect(body('POST /api/v3/metrics')).toEqual({ $ref: '#/components/schemas/MetricsQuery' });
    expect(checks.document.components.schemas.Command).toMatchObject({
      properties: { command: { enum: ['start', 'stop', 'restart', 'reload'] } },
    });
  });

  it('resolves the schema of every JSON answer', () => {
    for (const [path, methods] of Object.entries(checks.document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        for (const [status, answer] of Object.entries(operation.responses)) {
          if (!answer.content?.['application/json']) continue;
          expect(() => checks.validatorFor(`${method.toUpperCase()} ${path}`, Number(status))).not.toThrow();
        }
      }
    }
  });

  it("lists every operation of datarhei's API description that Dragon implements", () => {
    // Path parameters are compared by place, not name (datarhei's `{storage}/{filepath}` is `{name}/{path}`).
    const shape = (key: string) => key.replace(/\{\w+\}/g, '{}');
    const operations = new Set(documented().map(shape));
    const missing = datarheiOperations()
      .map((operation) => operation.key)
      // Without `debug.profiling` (the default) datarhei registers no profiler either.
      .filter((key) => !notImplemented[key] && key !== 'GET /profiling')
      .filter((key) => !operations.has(shape(key)));
    expect(missing).toEqual([]);
  });

  it("answers a body its declared schema refuses with datarhei's error body", async () => {
    const refused = await server.request('/api/v3/metrics', jsonRequest('POST', { metrics: 'none' }));
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as { code: number; message: string; details: string[] };
    expect(body).toMatchObject({ code: 400, message: 'Invalid request' });
    expect(body.details.join()).not.toMatch(/ZodError|at .*\.ts/);
    const validate = checks.validatorFor('POST /api/v3/metrics', 400);
    expect(validate(body) ? [] : validate.errors).toEqual([]);
  });
});

describe('answers against the document', () => {
  const check = (route: string, path: string, status = 200, init?: RequestInit) =>
    checks.checkAnswer(route, path, status, init);
  const json = jsonRequest;

  it('match for an idle process', async () => {
    const config = {
      id: 'idle',
      webrtc: { enabled: true },
      input: [{ id: 'in', address: 'testsrc2', options: ['-f', 'lavfi'] }],
      output: [{ id: 'out', address: '-', options: ['-f', 'null'] }],
      autostart: false,
    };
    await check('POST /api/v3/process', '/api/v3/process', 200, json('POST', config));
    await check('POST /api/v3/process', '/api/v3/process', 400, json('POST', config));
    await check('GET /api/v3/process', '/api/v3/process?filter=config,state,report,metadata');
    await check('GET /api/v3/process/{id}/state', '/api/v3/process/idle/state');
    await check('GET /api/v3/process/{id}/report', '/api/v3/process/idle/report');
    await check('GET /api/v3/process/{id}/metadata', '/api/v3/process/idle/metadata');
    await check('GET /api/v3/process/{id}/state', '/api/v3/process/unknown/state', 404);
    await check('GET /api/v3/process/{id}/probe', '/api/v3/process/unknown/probe');
    await check('GET /api/v3/widget/process/{id}', '/api/v3/widget/process/idle');
    await check('GET /player/{id}/status', '/player/idle/status');
    await check('DELETE /api/v3/process/{id}', '/api/v3/process/idle', 200, { method: 'DELETE' });
  });

  it('match for the server, config, metadata and services routes', async () => {
    await check('GET /api', '/api');
    await check('GET /api/v3/metadata', '/api/v3/metadata');
    await check('PUT /api/v3/metadata/{key}', '/api/v3/metadata/site', 200, json('PUT', 'name'));
    await check('GET /api/v3/metadata/{key}', '/api/v3/metadata/site');
    await check('GET /api/v3/metadata/{key}', '/api/v3/metadata/absent', 404);
    await check('GET /api/v3/config', '/api/v3/config');
    await check('PUT /api/v3/config', '/api/v3/config', 400, json('PUT', { address: 12 }));
    await check('PUT /api/v3/config', '/api/v3/config', 409, json('PUT', { address: 'nonsense' }));
    await check('GET /api/v3/skills', '/api/v3/skills');
    await check('GET /api/v3/session', '/api/v3/session?collectors=hls,rtmp,srt,webrtc');
    await check('GET /api/v3/session/active', '/api/v3/session/active?collectors=hls,webrtc');
    await check('GET /api/v3/log', '/api/v3/log');
    await check('GET /api/v3/log', '/api/v3/log?format=raw');
    await check('GET /api/v3/metrics', '/api/v3/metrics');
    await check(
      'POST /api/v3/metrics',
      '/api/v3/metrics',
      200,
      json('POST', { metrics: [{ name: 'uptime_uptime' }] }),
    );
    await check('GET /api/v3/rtmp', '/api/v3/rtmp');
    await check('GET /api/v3/srt', '/api/v3/srt');
    await check('GET /api/v3/fs', '/api/v3/fs');
    await check('GET /api/v3/fs/{name}', '/api/v3/fs/mem');
    await check('GET /api/v3/fs/{name}/{path}', '/api/v3/fs/mem/absent.txt', 404);
    await check('GET /api/swagger/doc.json', '/api/swagger/doc.json');
  });
});
