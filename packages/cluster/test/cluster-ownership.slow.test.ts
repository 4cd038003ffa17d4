import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessManager } from '@dragon/restream';
import { waitFor } from '@dragon/test-helpers';
import { type RunningRedis, startRedis } from '@dragon/test-helpers/redis';
import { createClient } from '@redis/client';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClusterKeys } from '../src/cluster-records.js';
import { ClusterStore } from '../src/cluster-store.js';
import { leaseGate, Ownership } from '../src/ownership.js';

/** What every node of these tests signs with (`cluster.secret`). */
const testClusterSecret = 'the-same-secret-on-every-node';

/**
 * Leases against a real Redis and a real process manager; FFmpeg is replaced at the process boundary
 * by a script that notes its input and waits, since what is tested is who may run a process, not what
 * it does.
 */

let redis: RunningRedis;
let work: string;
let fakeFFmpeg: string;
/** One line per spawn of the fake FFmpeg: the address of its input, which is the process id here. */
let spawnLog: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  redis = await startRedis();
  work = mkdtempSync(join(tmpdir(), 'dragon-ownership-'));
  fakeFFmpeg = join(work, 'ffmpeg');
  spawnLog = join(work, 'spawns');
  writeFileSync(
    fakeFFmpeg,
    `#!/bin/sh\nwhile [ "$1" != "-i" ]; do shift; done\necho "$2" >> ${JSON.stringify(spawnLog)}\nexec sleep 60\n`,
  );
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
  input: [{ address: id }],
  output: [{ address: '-' }],
  autostart: true,
});

async function node(prefix: string, options: { leaseMs?: number; stepMs?: number } = {}) {
  const store = new ClusterStore({
    url: redis.url,
    keys: new ClusterKeys(prefix),
    secret: testClusterSecret,
  });
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

  it('treats a lease no node signed as none: the marked process stays and runs, and the lease is its again', async () => {
    const { store, manager, ownership } = await node('forged');
    // What a client that can write to Redis, but does not know cluster.secret, can do.
    const raw = createClient({ url: redis.url });
    await raw.connect();
    await raw.set('forged:owner:moved', 'b');
    await raw.close();
    await manager.add(processConfig('moved'));
    await manager.setMetadata('moved', 'cluster', { failover: true });
    expect(await store.owners()).toEqual(new Map());
    await ownership.renew();
    expect((await store.owners()).get('moved')).toBe('a');
    await waitFor('the process running', () => (running(manager, 'moved') ? true : undefined));
    expect(manager.has('moved')).toBe(true);
  });

  it('refuses the restored starts of processes another node holds: no FFmpeg, the moved one removed, the twin stopped', async () => {
    const dataDir = mkdtempSync(join(work, 'restore-'));
    const first = await ProcessManager.create({ dataDir, ffmpegBinary: fakeFFmpeg, skipSkills: true });
    await first.add(processConfig('moved'));
    await first.setMetadata('moved', 'cluster', { failover: true });
    await first.add(processConfig('twin'));
    await first.add(processConfig('kept'));
    await waitFor('running', () =>
      ['moved', 'twin', 'kept'].every((id) => running(first, id)) ? true : undefined,
    );
    await first.close();
    writeFileSync(spawnLog, '');

    const store = new ClusterStore({
      url: redis.url,
      keys: new ClusterKeys('restore'),
      secret: testClusterSecret,
    });
    expect(await store.waitUp(10_000)).toBe(true);
    await store.claim('moved', 'b', 10_000);
    await store.claim('twin', 'b', 10_000);
    const logger = pino({ level: 'silent' });
    // The gate runs for restored processes while the manager is being created: its follow-up waits
    // for the ownership, as Cluster does.
    let attach!: (ownership: Ownership) => void;
    const attached = new Promise<Ownership>((resolve) => {
      attach = resolve;
    });
    const manager = await ProcessManager.create({
      dataDir,
      ffmpegBinary: fakeFFmpeg,
      skipSkills: true,
      hooks: {
        onStart: leaseGate({
          store,
          nodeId: 'a',
          leaseMs: 10_000,
          heldElsewhere: (id, holder) => void attached.then((o) => o.heldElsewhere(id, holder)),
          logger,
        }),
      },
    });
    const ownership = new Ownership({
      store,
      nodeId: 'a',
      manager,
      leaseMs: 10_000,
      stepMs: 250,
      isLive: () => true,
      rank: () => 0,
      logger,
    });
    attach(ownership);
    cleanups.push(async () => {
      ownership.close();
      await manager.close();
      await store.close();
    });

    await waitFor('kept running', () => (running(manager, 'kept') ? true : undefined));
    await waitFor('the moved process removed here', () => (manager.has('moved') ? undefined : true));
    await waitFor('the twin stopped here', () =>
      manager.getState('twin').order === 'stop' ? true : undefined,
    );
    expect(manager.getState('twin').last_logline).toContain('holds the lease');
    expect((await store.owners()).get('kept')).toBe('a');
    // "running" is FFmpeg spawned; the fake one notes its input a moment later.
    const spawned = await waitFor('the spawn of kept noted', () => {
      const lines = readFileSync(spawnLog, 'utf8').split('\n').filter(Boolean);
      return lines.includes('kept') ? lines : undefined;
    });
    expect(spawned).toEqual(['kept']);
  });
});
