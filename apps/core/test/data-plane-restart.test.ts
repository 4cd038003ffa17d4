import { waitFor } from '@dragon/test-helpers';
import { FanoutPlane } from '@dragon/webrtc';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { startInProcessCore } from './in-process-core.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('logs a data-plane worker that died and was replaced, and counts it in /metrics', async () => {
  const lines: { level: number; msg: string; shard?: number; err?: { code?: string } }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const server = await startInProcessCore({ CORE_METRICS_ENABLE_PROMETHEUS: 'true' }, { logger });
  cleanups.push(() => server.close());
  const plane = FanoutPlane.shared();
  expect(plane.engine).toBe('native');
  const restartsBefore = plane.workerRestarts;

  await plane.terminateWorker(0);

  const restarted = await waitFor('the restart logged', () =>
    lines.find((line) => line.msg === 'media data-plane worker restarted with its sources and viewers'),
  );
  expect(restarted).toMatchObject({ shard: 0 });
  const died = lines.find((line) => line.msg.startsWith('a media data-plane worker died'));
  expect(died).toMatchObject({ level: 50, shard: 0, err: { code: 'FANOUT_WORKER_DIED' } });
  const metrics = await (await server.request('/metrics')).text();
  expect(metrics).toContain(`dragon_data_plane_worker_restarts_total ${restartsBefore + 1}`);
});
