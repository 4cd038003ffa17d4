import { waitFor } from '@dragon/test-helpers';
import { type RunningRedis, startRedis } from '@dragon/test-helpers/redis';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterKeys, type NodeRecord, type ProcessRecord } from '../src/cluster-records.js';
import { ClusterStore } from '../src/cluster-store.js';

/** What every node of these tests signs with (`cluster.secret`). */
const testClusterSecret = 'the-same-secret-on-every-node';

let redis: RunningRedis;
const stores: ClusterStore[] = [];
let prefixes = 0;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await redis.stop();
});

/** A store on its own key prefix: tests do not see each other's keys. */
async function store(prefix = `t${prefixes++}`, secret = testClusterSecret): Promise<ClusterStore> {
  const created = new ClusterStore({ url: redis.url, keys: new ClusterKeys(prefix), secret });
  stores.push(created);
  expect(await created.waitUp(10_000)).toBe(true);
  return created;
}

function nodeRecord(id: string): NodeRecord {
  return {
    id,
    name: id,
    url: `http://${id}:8080`,
    version: '0.1.0',
    started_at: new Date().toISOString(),
    heartbeat_at: Date.now(),
    load: { viewers: 0, max_viewers: 100, cpu_percent: 0, egress_bps: 0, pulls: 0, processes: 0 },
    pulling: [],
  };
}

function processRecord(id: string, node: string): ProcessRecord {
  return {
    id,
    node,
    reference: '',
    created_at: 1,
    updated_at: 1,
    written_at: Date.now(),
    order: 'start',
    exec: 'running',
    reconnect: true,
    failover: true,
    webrtc: { enabled: true, audio: true, token: '' },
    config: { id, input: [{ address: 'x' }] },
    state: { exec: 'running' },
    metadata: {},
  };
}

describe('ClusterStore on a real Redis', () => {
  it('gives a lease one holder: the first claim wins, the holder renews, others learn who holds it', async () => {
    const cluster = await store();
    expect(await cluster.claim('cam', 'a', 10_000)).toBe('a');
    expect(await cluster.claim('cam', 'b', 10_000)).toBe('a');
    expect(await cluster.claim('cam', 'a', 10_000)).toBe('a');
    expect(await cluster.owners()).toEqual(new Map([['cam', 'a']]));
  });

  it('lets a lease run out when its holder stops renewing, so another node can claim it', async () => {
    const cluster = await store();
    expect(await cluster.claim('cam', 'a', 300)).toBe('a');
    const claimed = await waitFor('the lease to expire', async () => {
      const holder = await cluster.claim('cam', 'b', 10_000);
      return holder === 'b' ? holder : undefined;
    });
    expect(claimed).toBe('b');
  });

  it('releases a lease only for its holder', async () => {
    const cluster = await store();
    await cluster.claim('cam', 'a', 10_000);
    await cluster.release('cam', 'b');
    expect((await cluster.owners()).get('cam')).toBe('a');
    await cluster.release('cam', 'a');
    expect((await cluster.owners()).has('cam')).toBe(false);
  });

  it('forgets a node whose heartbeat is not renewed', async () => {
    const cluster = await store();
    await cluster.writeNode(nodeRecord('a'), 300);
    await cluster.writeNode(nodeRecord('b'), 60_000);
    expect((await cluster.nodes()).map((node) => node.id).sort()).toEqual(['a', 'b']);
    await waitFor('node a to expire', async () =>
      (await cluster.nodes()).every((node) => node.id !== 'a') ? true : undefined,
    );
    expect((await cluster.nodes()).map((node) => node.id)).toEqual(['b']);
  });

  it('keeps process records until deleted, and skips a record it cannot read', async () => {
    const cluster = await store('skip');
    await cluster.writeProcess(processRecord('cam', 'a'));
    const raw = createClient({ url: redis.url });
    await raw.connect();
    await raw.set('skip:process:broken', '{"id":"broken","written_by":"a future version"}');
    await raw.close();
    expect((await cluster.processes()).map((record) => record.id)).toEqual(['cam']);
    expect(await cluster.process('broken')).toBeUndefined();
    await cluster.claim('cam', 'a', 10_000);
    await cluster.deleteProcess('cam', 'a');
    expect(await cluster.process('cam')).toBeUndefined();
    expect((await cluster.owners()).has('cam')).toBe(false);
  });

  it('reads only what a node of this cluster signed under that key: no forged, altered, moved or foreign record', async () => {
    const cluster = await store('forged');
    const unsigned: string[] = [];
    cluster.on('unsigned', (key) => unsigned.push(key));
    await cluster.writeNode(nodeRecord('a'), 60_000);
    await cluster.writeProcess(processRecord('cam', 'a'));
    const raw = createClient({ url: redis.url });
    await raw.connect();
    try {
      // A record written by a client without the secret: the shape a node reads, pointing elsewhere.
      await raw.set('forged:node:evil', JSON.stringify({ ...nodeRecord('evil'), url: 'http://127.0.0.1:9' }));
      await raw.set('forged:process:ghost', JSON.stringify(processRecord('ghost', 'evil')));
      // A node's signed record with its URL changed.
      const signed = (await raw.get('forged:node:a')) ?? '';
      await raw.set('forged:node:b', signed.replace('"id":"a"', '"id":"b"'));
      // A signed record copied under another key.
      await raw.set('forged:process:cam2', (await raw.get('forged:process:cam')) ?? '');
      await raw.set('forged:node:a2', signed.replace('http://a:8080', 'http://127.0.0.1:9'));
    } finally {
      await raw.close();
    }
    // A node of another cluster (another secret) sharing the Redis and the prefix.
    const other = await store('forged', 'another-cluster-secret');
    await other.writeNode(nodeRecord('x'), 60_000);

    expect((await cluster.nodes()).map((node) => node.id)).toEqual(['a']);
    expect((await cluster.nodes())[0]?.url).toBe('http://a:8080');
    expect((await cluster.processes()).map((record) => record.id)).toEqual(['cam']);
    expect(await cluster.process('ghost')).toBeUndefined();
    expect(await cluster.process('cam2')).toBeUndefined();
    expect(new Set(unsigned)).toEqual(
      new Set([
        'forged:node:evil',
        'forged:node:b',
        'forged:node:a2',
        'forged:node:x',
        'forged:process:ghost',
        'forged:process:cam2',
      ]),
    );
  });

  it('rejects at once while Redis is away and says when it is back', async () => {
    const cluster = await store();
    const down = new Promise<void>((resolve) => cluster.once('down', () => resolve()));
    const back = new Promise<void>((resolve) => cluster.once('ready', () => resolve()));
    await redis.kill();
    await down;
    await expect(cluster.claim('cam', 'a', 1000)).rejects.toThrow();
    await redis.restart();
    await back;
    expect(await cluster.claim('cam', 'a', 1000)).toBe('a');
  });
});
