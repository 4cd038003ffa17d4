import {
  jsonBody,
  startServer,
  stopAllServers,
  testPatternProcess,
  waitFor,
} from '@dragon/test-helpers/server';
import { WeriftViewer } from '@dragon/test-helpers/werift';
import { afterAll, afterEach, expect, it } from 'vitest';

// The viewer limits of the built server (`webrtc.max_viewers`, default 100, and
// `webrtc.max_viewers_per_process`), counted as WHEP sessions: an offer past a limit is 503 with a
// Retry-After, and a session that ends frees its place.

const viewers: WeriftViewer[] = [];
afterEach(async () => {
  await Promise.all(viewers.splice(0).map((viewer) => viewer.close()));
});
afterAll(stopAllServers);

const smallPattern = (id: string) =>
  testPatternProcess(id, {
    input: [
      {
        id: 'in',
        address: 'testsrc2=size=160x120:rate=10[out0];sine=frequency=440[out1]',
        options: ['-re', '-f', 'lavfi'],
      },
    ],
  });

it('answers 503 with Retry-After past the per-process and the server-wide viewer limit', async () => {
  const server = await startServer({
    env: { CORE_WEBRTC_MAX_VIEWERS: '2', CORE_WEBRTC_MAX_VIEWERS_PER_PROCESS: '1' },
  });
  for (const id of ['a', 'b', 'c']) await server.json('/api/v3/process', jsonBody(smallPattern(id)));
  const offer = async (id: string) => {
    const viewer = new WeriftViewer({ record: false });
    viewers.push(viewer);
    const sdp = await viewer.offer(['video']);
    return waitFor(`an answer from ${id}`, async () => {
      const response = await server.api(`/api/v3/process/${id}/whep`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: sdp,
      });
      // 409: the process has no media yet, the documented retry.
      return response.status === 409 ? undefined : response;
    });
  };

  const first = await offer('a');
  const secondOnA = await offer('a');
  const firstOnB = await offer('b');
  const firstOnC = await offer('c');

  expect(first.status).toBe(201);
  expect(secondOnA.status).toBe(503);
  expect(secondOnA.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(firstOnB.status).toBe(201);
  expect(firstOnC.status).toBe(503);

  expect((await server.api(first.headers.get('location')!, { method: 'DELETE' })).status).toBe(200);
  expect((await offer('c')).status).toBe(201);
});
