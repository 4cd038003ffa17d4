import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operations } from '../src/ops/openapi.js';
import { type InProcessCore, startInProcessCore } from './in-process-core.js';
import { checkAnswer, document, documentPath, jsonRequest, validatorFor } from './openapi-check.js';

/**
 * The document against the app: every route the app registers is documented, every JSON answer's
 * schema resolves, and the answers of the routes that need no FFmpeg run match the document
 * (`openapi-answers.slow.test.ts` checks the process API with FFmpeg running).
 */

let server: InProcessCore;
beforeAll(async () => {
  // Every optional route on: WebRTC, Prometheus, RTMP, SRT and the metrics history.
  server = await startInProcessCore({
    CORE_WEBRTC_ENABLE: 'true',
    CORE_METRICS_ENABLE_PROMETHEUS: 'true',
    CORE_METRICS_ENABLE: 'true',
    CORE_RTMP_ENABLE: 'true',
    CORE_RTMP_ADDRESS: '127.0.0.1:0',
    CORE_SRT_ENABLE: 'true',
    CORE_SRT_ADDRESS: '127.0.0.1:0',
  });
});
afterAll(async () => {
  await server?.close();
});

describe('the OpenAPI document', () => {
  it('documents every method and path the app serves', () => {
    // `ALL` entries are middleware (`use`) or the 405 answers for methods a route does not have.
    const served = server.core.app.routes
      .filter((route) => route.method !== 'ALL')
      .map((route) => `${route.method} ${documentPath(route.path)}`);
    expect(served).toContain('GET /api/v3/srt');
    const missing = [...new Set(served)].filter((route) => {
      const [method = '', path = ''] = route.split(' ');
      return document.paths[path]?.[method.toLowerCase()] === undefined;
    });
    expect(missing).toEqual([]);
  });

  it('names no route the app does not serve, except the cluster view of cluster mode', () => {
    const served = new Set(
      server.core.app.routes.map((route) => `${route.method} ${documentPath(route.path)}`),
    );
    const unserved = Object.keys(operations).filter((route) => !served.has(route));
    expect(unserved).toEqual(['GET /api/v3/cluster']);
  });

  it('resolves the schema of every JSON answer', () => {
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        for (const [status, answer] of Object.entries(operation.responses)) {
          if (!answer.content?.['application/json']) continue;
          expect(() => validatorFor(`${method.toUpperCase()} ${path}`, Number(status))).not.toThrow();
        }
      }
    }
  });
});

describe('answers against the document', () => {
  const check = (route: string, path: string, status = 200, init?: RequestInit) =>
    checkAnswer(server, route, path, status, init);
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
