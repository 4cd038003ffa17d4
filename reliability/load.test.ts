import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  jsonBody,
  metric,
  type RunningServer,
  startServer,
  stopAllServers,
  testPatternProcess,
  waitFor,
} from '../apps/core/test/server-harness.js';
import { connected, joinOverWhep } from './helpers.js';

const viewerCount = 50;
const seconds = Number(process.env.RELIABILITY_LOAD_SECONDS ?? 60);
let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ env: { CORE_WEBRTC_MAX_OFFERS_PER_MINUTE: '0' } });
  for (let index = 0; index < 20; index++) {
    await server.json(
      '/api/v3/process',
      jsonBody({ ...testPatternProcess(`idle-${index}`), autostart: false }),
    );
  }
  await server.json('/api/v3/process', jsonBody(testPatternProcess('show')));
  await waitFor('show running', async () =>
    (await server.json<{ exec: string }>('/api/v3/process/show/state')).exec === 'running' ? true : undefined,
  );
});
afterAll(stopAllServers);

it(`delivers ≥ 99 % of packets to ${viewerCount} viewers for ${seconds} s while the API is hammered`, async () => {
  const joined: Awaited<ReturnType<typeof joinOverWhep>>[] = [];
  for (let index = 0; index < viewerCount; index++) {
    joined.push(await waitFor('a viewer', async () => joinOverWhep(server, 'show').catch(() => undefined)));
  }
  expect((await Promise.all(joined.map(({ viewer }) => connected(viewer)))).every(Boolean)).toBe(true);
  await waitFor('every viewer receiving', () =>
    joined.every(({ viewer }) => viewer.received.video.length > 0) ? true : undefined,
  );

  const inBefore = (await metric(
    server,
    'dragon_process_rtp_packets_received_total',
    'process_id="show",track="video"',
  ))!;
  const receivedBefore = joined.map(({ viewer }) => viewer.received.video.length);
  const latencies: number[] = [];
  let failures = 0;
  const deadline = Date.now() + seconds * 1000;
  const hammer = async (path: string) => {
    while (Date.now() < deadline) {
      const started = performance.now();
      const response = await server.api(path);
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
      if (!response.ok) failures++;
    }
  };
  await Promise.all([
    hammer('/api/v3/process'),
    hammer('/api/v3/process/show/state'),
    hammer('/api/v3/process?filter=state'),
    hammer('/metrics'),
  ]);
  // Packets in flight at the end of the window are not counted against delivery.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const inAfter = (await metric(
    server,
    'dragon_process_rtp_packets_received_total',
    'process_id="show",track="video"',
  ))!;
  const entered = inAfter - inBefore;
  const deliveries = joined.map(
    ({ viewer }, index) => (viewer.received.video.length - receivedBefore[index]!) / entered,
  );

  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  console.log(
    `load: ${viewerCount} viewers, ${seconds} s, ${entered} video packets in; delivery min ${(Math.min(...deliveries) * 100).toFixed(2)} %; ` +
      `API ${latencies.length} requests, p50 ${p(0.5).toFixed(1)} ms, p99 ${p(0.99).toFixed(1)} ms, ${failures} failed`,
  );
  expect(entered).toBeGreaterThan(0);
  expect(failures).toBe(0);
  for (const delivery of deliveries) expect(delivery).toBeGreaterThanOrEqual(0.99);
  await Promise.all(joined.map(({ viewer }) => viewer.close()));
});
