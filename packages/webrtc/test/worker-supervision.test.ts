import { once } from 'node:events';
import { waitFor } from '@dragon/test-helpers';
import { SyntheticSender, WeriftViewer } from '@dragon/test-helpers/werift';
import { afterEach, expect, it } from 'vitest';
import { nicePermission } from '../src/fanout/thread-priority.js';
import { FanoutWorkerDiedError } from '../src/index.js';
import { planeWithSource } from './plane-fixture.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Received = WeriftViewer['received']['video'];

/**
 * How the viewer's sequence numbers went, unwrapped past 65535: packets that came twice, and each
 * step the highest number took forward.
 */
function numbering(packets: Received): { repeated: number[]; steps: number[] } {
  const seen = new Set<number>();
  const repeated: number[] = [];
  const steps: number[] = [];
  let highest: number | undefined;
  for (const { seq } of packets) {
    const top = highest ?? seq;
    // The extended number closest to the highest so far (RFC 3550 appendix A.1).
    let ext = top - (top % 65_536) + seq;
    if (ext < top - 32_768) ext += 65_536;
    else if (ext > top + 32_768) ext -= 65_536;
    if (seen.has(ext)) repeated.push(seq);
    seen.add(ext);
    if (highest !== undefined && ext > highest) steps.push(ext - highest);
    highest = Math.max(highest ?? ext, ext);
  }
  return { repeated, steps };
}

/**
 * A dead data-plane worker is a worker thread that ended without being closed: an uncaught
 * exception in its code, or an exit, which is what `terminateWorker` does (worker.terminate(),
 * the plane not told). A crash in the addon itself takes the process down, as any native crash
 * does; that is not what this covers.
 */
it('restarts a worker that dies under load; its viewers keep their sessions, numbering and SRTP state', async () => {
  const { plane, source, factory } = await planeWithSource({ engine: 'native', shards: 2 }, cleanups);
  const ports = { video: source.videoPort, audio: source.audioPort };
  // The first input's sequence numbers start just below the wrap: the viewers' SRTP rollover
  // counter is 1 before the worker dies, and a new worker must not start it again at 0.
  let sender = new SyntheticSender(ports);
  sender.restart();
  cleanups.push(() => sender.close());
  const deaths: [FanoutWorkerDiedError, number][] = [];
  plane.on('workerDied', (error, delay) => deaths.push([error, delay]));

  // One viewer on each worker: shard 0 receives the source, shard 1 follows it.
  const viewers: WeriftViewer[] = [];
  for (let index = 0; index < 2; index++) {
    const viewer = new WeriftViewer();
    cleanups.push(() => viewer.close());
    const { answerSdp } = await factory.createPeer(source, await viewer.offer());
    await viewer.accept(answerSdp);
    viewers.push(viewer);
  }
  const timer = setInterval(() => sender.sendFrame(), 20);
  cleanups.push(() => clearInterval(timer));
  // Past the wrap, and long enough (seconds of media) for the next input's offsets to be large.
  await waitFor('both viewers past the sequence number wrap', () =>
    viewers.every((viewer) => viewer.received.video.some((packet) => packet.seq > 150 && packet.seq < 1000)),
  );
  // An FFmpeg restart before the deaths, with other bases: the source's numbering now carries
  // offsets, which a new worker must go on with.
  sender.close();
  sender = new SyntheticSender(ports, { video: 0x5555, audio: 0x6666 });
  const beforeInputRestart = viewers.map((viewer) => viewer.received.video.length);
  await waitFor('both viewers past the input restart', () =>
    viewers.every((viewer, index) => viewer.received.video.length > beforeInputRestart[index]! + 20),
  );

  for (const shard of [0, 1]) {
    const restarted = once(plane, 'workerRestarted');
    await plane.terminateWorker(shard);
    const [restart] = await restarted;
    expect(restart).toMatchObject({ shard, sources: 1, viewers: 1 });
    // The new worker is given the data plane's priority, as the first one was.
    if (nicePermission()?.capSysNice)
      expect(restart.priority).toMatchObject({ nice: -10, outcome: 'raised' });
    const atRestart = viewers.map((viewer) => viewer.received.video.length);
    await waitFor(`both viewers receiving after worker ${shard} was replaced`, () =>
      viewers.every((viewer, index) => viewer.received.video.length > atRestart[index]! + 50),
    );
  }

  expect(deaths.map(([error]) => [error.code, error.shard])).toEqual([
    ['FANOUT_WORKER_DIED', 0],
    ['FANOUT_WORKER_DIED', 1],
  ]);
  expect(deaths.every(([error]) => error instanceof FanoutWorkerDiedError)).toBe(true);
  expect(plane.workerRestarts).toBe(2);
  for (const viewer of viewers) {
    const video = viewer.received.video;
    expect(viewer.pc.connectionState).toBe('connected');
    expect(new Set(video.map((packet) => packet.ssrc)).size).toBe(1);
    // One by one across the input restart and both deaths: the new worker sends from where the dead
    // one stopped, under the same numbering. At most the packet the dead worker had in hand is
    // lost (the viewer may ask for it again and get it late, which is not a repeat).
    const { repeated, steps } = numbering(video);
    expect(repeated).toEqual([]);
    expect(steps.filter((step) => step > 2)).toEqual([]);
    // Timestamps go on with the clock: no jump to the input's own (two seconds of 90 kHz at most).
    const tsSteps = video.slice(1).map((packet, index) => ((packet.ts - video[index]!.ts) << 0) / 90_000);
    expect(tsSteps.filter((seconds) => Math.abs(seconds) > 2)).toEqual([]);
  }
  expect(source.subscriberCount).toBe(2);
});
