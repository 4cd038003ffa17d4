import { waitFor } from '@dragon/test-helpers';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type InProcessCore, startInProcessCore } from './in-process-core.js';
import { documentChecks, jsonRequest } from './openapi-check.js';

/** The process API's answers against the document, with FFmpeg running and reporting progress. */

let server: InProcessCore;
let checks: Awaited<ReturnType<typeof documentChecks>>;
beforeAll(async () => {
  server = await startInProcessCore({ CORE_WEBRTC_ENABLE: 'true' });
  checks = await documentChecks(server);
});
afterAll(async () => {
  await server?.close();
});

describe('answers against the document', () => {
  const check = (route: string, path: string, status = 200, init?: RequestInit) =>
    checks.checkAnswer(route, path, status, init);
  const json = jsonRequest;

  it('match for the process API, with a process that ran', async () => {
    const config = {
      id: 'documented',
      reference: 'docs',
      webrtc: { enabled: true },
      input: [{ id: 'in', address: 'testsrc2=size=160x120:rate=10', options: ['-f', 'lavfi', '-re'] }],
      output: [{ id: 'out', address: '-', options: ['-f', 'null'] }],
      autostart: false,
    };
    await check('POST /api/v3/process', '/api/v3/process', 200, json('POST', config));
    await check(
      'PUT /api/v3/process/{id}/metadata/{key}',
      '/api/v3/process/documented/metadata/note',
      200,
      json('PUT', { a: [1, 'two', null] }),
    );
    await check(
      'PUT /api/v3/process/{id}/command',
      '/api/v3/process/documented/command',
      200,
      json('PUT', { command: 'start' }),
    );
    // Until FFmpeg reports progress, so the state has streams to describe.
    await waitFor(
      'progress with output streams',
      () => {
        const { progress } = server.core.manager.getState('documented');
        return progress.outputs.length > 0 && progress.frame > 0;
      },
      60_000,
    );
    await check('GET /api/v3/process', '/api/v3/process?filter=config,state,report,metadata');
    await check('GET /api/v3/process/{id}', '/api/v3/process/documented');
    await check('GET /api/v3/process/{id}/config', '/api/v3/process/documented/config');
    await check('GET /api/v3/process/{id}/state', '/api/v3/process/documented/state');
    await check('GET /api/v3/process/{id}/report', '/api/v3/process/documented/report');
    await check('GET /api/v3/process/{id}/metadata', '/api/v3/process/documented/metadata');
    await check('GET /api/v3/process/{id}/metadata/{key}', '/api/v3/process/documented/metadata/note');
    await check('GET /api/v3/process/{id}/state', '/api/v3/process/unknown/state', 404);
    await check('GET /api/v3/widget/process/{id}', '/api/v3/widget/process/documented');
    await check('GET /player/{id}/status', '/player/documented/status');
    await check(
      'PUT /api/v3/process/{id}/command',
      '/api/v3/process/documented/command',
      200,
      json('PUT', { command: 'stop' }),
    );
    await check('GET /api/v3/process/{id}/report', '/api/v3/process/documented/report');
    await check('GET /api/v3/process/{id}/probe', '/api/v3/process/unknown/probe');
    await check('DELETE /api/v3/process/{id}', '/api/v3/process/documented', 200, { method: 'DELETE' });
  });
});
