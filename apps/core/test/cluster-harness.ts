import type { RunningRedis } from '@dragon/test-helpers/redis';
import {
  type RunningServer,
  type ServerOptions,
  startServer,
  testPatternInput,
  testPatternProcess,
} from '@dragon/test-helpers/server';
import { WeriftViewer } from '@dragon/test-helpers/werift';

export { type RunningRedis, startRedis } from '@dragon/test-helpers/redis';

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
