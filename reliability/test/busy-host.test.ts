import { availableParallelism } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import {
  jsonBody,
  startServer,
  stopAllServers,
  testPatternInput,
  testPatternProcess,
  waitFor,
} from '@dragon/test-helpers/server';
import { afterAll, expect, it } from 'vitest';
import { BusyLoops, joinOverWhep } from './helpers.js';

const loops = new BusyLoops();
afterAll(async () => {
  loops.stop();
  await stopAllServers();
});

/** Distinct video frames (RTP timestamps) among the packets received from index `from` on. */
function framesSince(received: readonly { ts: number }[], from: number): number {
  return new Set(received.slice(from).map((packet) => packet.ts)).size;
}

/**
 * How much video a viewer gets while other programs keep every core busy, compared with before.
 * On a shared machine (a NAS running backups, a desktop compiling) Dragon's default priorities
 * must not give the stream away: FFmpeg and the API run at normal priority, so the loops take their
 * fair share of the machine, not all of it. Under SCHED_IDLE (`control_plane_idle: true`, an
 * opt-in) the stream falls to a few frames a second and the API to seconds per answer.
 *
 * The windows are where the frames are counted, not a synchronisation: what is asserted is a ratio
 * of two counts made on the same machine a few seconds apart, with margin for a noisy host.
 */
it('keeps most of the video flowing to a viewer while other programs keep every core busy', async () => {
  const server = await startServer();
  await server.json(
    '/api/v3/process',
    jsonBody(testPatternProcess('busy', { input: [testPatternInput('1280x720')] })),
  );
  const { viewer } = await waitFor('a viewer', async () =>
    joinOverWhep(server, 'busy').catch(() => undefined),
  );
  const video = viewer.received.video;
  await waitFor('video flowing', () => (framesSince(video, 0) > 50 ? true : undefined));
  const windowMs = 6000;
  // Counted up to the pattern's rate: a window after a hiccup holds the frames caught up too.
  const nominal = (windowMs / 1000) * 25;

  const beforeFrom = video.length;
  await delay(windowMs);
  const before = Math.min(framesSince(video, beforeFrom), nominal);

  loops.start(availableParallelism());
  // Let the scheduler see the loops before counting.
  await delay(1000);
  const duringFrom = video.length;
  await delay(windowMs);
  const during = framesSince(video, duringFrom);
  loops.stop();

  const afterFrom = video.length;
  await waitFor('video flowing again after the loops', () =>
    framesSince(video, afterFrom) > 25 ? true : undefined,
  );
  // Measured on a 2-core machine with other work (load average 20–40): 0.52–0.77 at the defaults;
  // under SCHED_IDLE 0.0–0.03 in five runs and 0.49 in one (cc9f7d8's default and today's opt-in),
  // 0.13–0.19 with FFmpeg at nice 10. The loops take their share; the stream keeps most of it.
  expect(before).toBeGreaterThan(0);
  expect(
    during / before,
    `frames in ${windowMs} ms: ${before} before, ${during} while busy`,
  ).toBeGreaterThanOrEqual(0.3);
  await viewer.close();
});
