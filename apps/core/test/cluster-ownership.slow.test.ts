import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessManager } from '@dragon/restream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClusterKeys } from '../src/cluster/cluster-records.js';
import { ClusterStore } from '../src/cluster/cluster-store.js';
import { Ownership } from '../src/cluster/ownership.js';
import { type RunningRedis, startRedis } from './cluster-harness.js';
import { waitFor } from './server-harness.js';

/**
 * Leases against a real Redis and a real process manager; FFmpeg is replaced at the process boundary
 * by a script that only waits, since what is tested is who may run a process, not what it does.
 */

let redis: RunningRedis;
let work: string;
let fakeFFmpeg: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  redis = await startRedis();
  work = mkdtempSync(join(tmpdir(), 'dragon-ownership-'));
  fakeFFmpeg = join(work, 'ffmpeg');
  writeFileSync(fakeFFmpeg, '#!/bin/sh\nexec sleep 60\n');
  chmodSync(fakeFFmpeg, 0o755);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await redis.stop();
  rmSync(work, { recursive: true, force: true });
});

const processConfig = (id: string) => ({
  id,
  input: [{ address: 'testsrc' }],
  output: [{ address: '-' }],
  autostart: true,
});

async function node(prefix: string, options: { leaseMs?: number; stepMs?: number } = {}) {
  const store = new ClusterStore({ url: redis.url, keys: new ClusterKeys(prefix) });
  expect(await store.waitUp(10_000)).toBe(true);
  const manager = await ProcessManager.create({
    dataDir: mkdtempSync(join(work, 'node-')),
    ffmpegBinary: fakeFFmpeg,
    skipSkills: true,
    stopTimeoutMs: 1000,
  });
  const ownership = new Ownership({
    store,
    nodeId: 'a',
    manager,
    leaseMs: options.leaseMs ?? 10_000,
    stepMs: options.stepMs ?? 250,
    isLive: () => true,
    rank: () => 0,
    logger: pino({ level: 'silent' }),
  });
  cleanups.push(async () => {
    ownership.close();
    await manager.close();
    await store.close();
  });
  return { store, manager, ownership };
}

const running = (manager: ProcessManager, id: string) =>
  manager.getState(id).order === 'start' && manager.getState(id).exec === 'running';

describe('process ownership', () => {
  it('stops a marked process while its lease cannot be renewed, and starts it again once it can', async () => {
    const { store, manager, ownership } = await node('fence', { leaseMs: 2000, stepMs: 250 });
    await manager.add(processConfig('moving'));
    await manager.setMetadata('moving', 'cluster', { failover: true });
    await manager.add(processConfig('fixed'));
    await waitFor('both running', () =>
      running(manager, 'moving') && running(manager, 'fixed') ? true : undefined,
    );
    await ownership.renew();
    expect(await store.owners()).toEqual(
      new Map([
        ['fixed', 'a'],
        ['moving', 'a'],
      ]),
    );

    await redis.kill();
    await waitFor('the marked process stopped', async () => {
      await ownership.renew();
      return manager.getState('moving').order === 'stop' ? true : undefined;
    });
    // Only a process that another node could take over is stopped.
    expect(running(manager, 'fixed')).toBe(true);

    await redis.restart();
    await waitFor('the marked process running again', async () => {
      await ownership.renew();
      return running(manager, 'moving') ? true : undefined;
    });
    expect((await store.owners()).get('moving')).toBe('a');
  });

  it('removes a marked process another live node holds, and stops an unmarked one with the same id', async () => {
    const { store, manager, ownership } = await node('conflict');
    await store.claim('moved', 'b', 10_000);
    await store.claim('twin', 'b', 10_000);
    await manager.add(processConfig('moved'));
    await manager.setMetadata('moved', 'cluster', { failover: true });
    await manager.add(processConfig('twin'));
    await ownership.renew();
    await waitFor('the moved process removed here', () => (manager.has('moved') ? undefined : true));
    await waitFor('the twin stopped here', () =>
      manager.getState('twin').order === 'stop' ? true : undefined,
    );
    expect((await store.owners()).get('twin')).toBe('b');
  });

  it('drops, in the tick the manager restored them, the processes another node took over', async () => {
    const dataDir = mkdtempSync(join(work, 'restore-'));
    const first = await ProcessManager.create({ dataDir, ffmpegBinary: fakeFFmpeg, skipSkills: true });
    await first.add(processConfig('moved'));
    await first.add(processConfig('kept'));
    await waitFor('running', () => (running(first, 'moved') && running(first, 'kept') ? true : undefined));
    await first.close();

    const store = new ClusterStore({ url: redis.url, keys: new ClusterKeys('restore') });
    expect(await store.waitUp(10_000)).toBe(true);
    const manager = await ProcessManager.create({ dataDir, ffmpegBinary: fakeFFmpeg, skipSkills: true });
    // Listening from the same tick: a restored start spawns FFmpeg one await after create resolves.
    const spawned: string[] = [];
    manager.on('started', (id) => spawned.push(id));
    const ownership = new Ownership({
      store,
      nodeId: 'a',
      manager,
      leaseMs: 10_000,
      stepMs: 250,
      isLive: () => true,
      rank: () => 0,
      logger: pino({ level: 'silent' }),
    });
    cleanups.push(async () => {
      ownership.close();
      await manager.close();
      await store.close();
    });
    expect(ownership.yieldTakenOver(new Map([['moved', 'b']]))).toEqual(['moved']);
    await waitFor('kept running', () => (running(manager, 'kept') ? true : undefined));
    expect(manager.has('moved')).toBe(false);
    expect(spawned).toEqual(['kept']);
  });
});
