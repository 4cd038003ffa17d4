import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  type RunningServer,
  type ServerOptions,
  startServer,
  testPatternInput,
  testPatternProcess,
  tiedToParent,
} from '@dragon/test-helpers/server';
import { WeriftViewer } from '@dragon/test-helpers/werift';

/** A throwaway `redis-server` on loopback: no persistence, so a restart loses everything, as a crash would. */
export interface RunningRedis {
  readonly url: string;
  readonly port: number;
  /** SIGKILL. */
  kill(): Promise<void>;
  /** Kill and start again on the same port, empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Redis cannot listen on port 0 and tell which port it got: a free one is picked, and retried if taken meanwhile. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function launch(port: number, dir: string): Promise<ChildProcess | undefined> {
  const [command, args] = tiedToParent('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.includes('Ready to accept connections')) resolve(child);
    });
    child.once('exit', () => resolve(undefined));
    child.once('error', () => resolve(undefined));
  });
}

function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export async function startRedis(): Promise<RunningRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'dragon-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  for (let attempt = 0; attempt < 10 && !child; attempt++) {
    port = await freePort();
    child = await launch(port, dir);
  }
  if (!child)
    throw new Error('redis-server did not start (is it installed? scripts/bootstrap.sh --with-redis)');
  let current: ChildProcess = child;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => killed(current),
    restart: async () => {
      await killed(current);
      const next = await launch(port, dir);
      if (!next) throw new Error(`redis-server did not start again on port ${port}`);
      current = next;
    },
    stop: async () => {
      await killed(current);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The `cluster.secret` test nodes share (cluster mode requires one). */
export const testClusterSecret = 'the-same-secret-on-every-node';

/** Cluster settings short enough for tests to see nodes leave and processes move within seconds. */
export function clusterEnv(redis: RunningRedis, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CORE_CLUSTER_REDIS_URL: redis.url,
    CORE_CLUSTER_SECRET: testClusterSecret,
    CORE_CLUSTER_NODE_TIMEOUT_SEC: '3',
    CORE_CLUSTER_NODE_RECOVER_TIMEOUT_SEC: '5',
    CORE_CLUSTER_SYNC_INTERVAL_SEC: '1',
    CORE_CLUSTER_EDGE_IDLE_TIMEOUT_SEC: '5',
    ...extra,
  };
}

/** A Dragon node of the cluster on `redis`. */
export function startNode(
  redis: RunningRedis,
  options: ServerOptions & { clusterEnv?: Record<string, string> } = {},
): Promise<RunningServer> {
  return startServer({ ...options, env: { ...clusterEnv(redis, options.clusterEnv), ...options.env } });
}

/** A small test pattern (less CPU than the default one: three nodes share the test machine). */
export function smallTestPattern(id: string, extra: Record<string, unknown> = {}) {
  return testPatternProcess(id, { reference: 'cluster', input: [testPatternInput('320x180')], ...extra });
}

/** A werift viewer (the shared one) that offered to a node's WHEP endpoint, and the video it got. */
export interface WhepViewer {
  readonly viewer: WeriftViewer;
  readonly status: number;
  /** Video RTP packets received so far. */
  readonly videoPackets: number;
  close(): Promise<void>;
}

/**
 * Offers to `server`'s WHEP endpoint for `processId`; with an answer (201) the viewer is connecting,
 * otherwise it is closed and only `status` tells why.
 */
export async function offerWhep(
  server: RunningServer,
  processId: string,
  token?: string,
): Promise<WhepViewer> {
  let videoPackets = 0;
  const viewer = new WeriftViewer({
    record: false,
    onRtp: (kind) => {
      if (kind === 'video') videoPackets++;
    },
  });
  const response = await server.api(`/api/v3/process/${processId}/whep`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: await viewer.offer(),
  });
  const body = await response.text();
  if (response.status === 201) await viewer.accept(body);
  else await viewer.close();
  return {
    viewer,
    status: response.status,
    get videoPackets() {
      return videoPackets;
    },
    close: () => viewer.close(),
  };
}
