import { jsonBody, type RunningServer, stopAllServers, waitFor } from '@dragon/test-helpers/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offerWhep, type RunningRedis, smallTestPattern, startNode, startRedis } from './cluster-harness.js';

/**
 * Two nodes with the API login and a viewer token on: what one node forwards to the other must pass
 * the other's login, and an edge's pull must carry the token the origin asks for.
 */

const login = { username: 'admin', password: 'cluster-test-password' };
const secured = {
  CORE_WEBRTC_TOKEN: 'viewer-token-of-the-cluster',
  CORE_API_AUTH_ENABLE: 'true',
  CORE_API_AUTH_USERNAME: login.username,
  CORE_API_AUTH_PASSWORD: login.password,
  CORE_CLUSTER_SECRET: 'the-same-secret-on-every-node',
};

let redis: RunningRedis;
let a: RunningServer;
let b: RunningServer;

async function token(server: RunningServer): Promise<string> {
  const { access_token } = await server.json<{ access_token: string }>('/api/login', jsonBody(login));
  return access_token;
}

beforeAll(async () => {
  redis = await startRedis();
  // Each node has its own JWT secret: a user's token of one node is worthless on the other.
  [a, b] = await Promise.all([startNode(redis, { env: secured }), startNode(redis, { env: secured })]);
  const onA = { Authorization: `Bearer ${await token(a)}` };
  await waitFor('both nodes in the cluster', async () => {
    const view = await a.json<{ nodes: unknown[] }>('/api/v3/cluster', { headers: onA });
    return view.nodes.length === 2 ? true : undefined;
  });
});
afterAll(async () => {
  await stopAllServers();
  await redis?.stop();
});

describe('a cluster with the API login on', () => {
  it("forwards a logged-in user's requests for another node's process, signed as a node", async () => {
    const onA = { Authorization: `Bearer ${await token(a)}` };
    await a.json('/api/v3/process', {
      ...jsonBody(smallTestPattern('parked', { autostart: false })),
      headers: { ...onA, 'Content-Type': 'application/json' },
    });
    const onB = { Authorization: `Bearer ${await token(b)}` };
    const listed = await waitFor('the process listed on B', async () => {
      const list = await b.json<{ id: string }[]>('/api/v3/process', { headers: onB });
      return list.length === 1 ? list : undefined;
    });
    expect(listed[0]?.id).toBe('parked');
    const state = await b.json<{ order: string }>('/api/v3/process/parked/state', { headers: onB });
    expect(state.order).toBe('stop');
    expect((await b.api('/api/v3/process/parked/state', { headers: onA })).status).toBe(401);
    expect((await b.api('/api/v3/process/parked/state')).status).toBe(401);
    expect((await b.api('/api/v3/cluster')).status).toBe(401);
  });

  it('serves a viewer with the node-wide token from an edge, whose pull carries that token', async () => {
    const onA = { Authorization: `Bearer ${await token(a)}` };
    await a.json('/api/v3/process', {
      ...jsonBody(smallTestPattern('live')),
      headers: { ...onA, 'Content-Type': 'application/json' },
    });
    const refused = await offerWhep(b, 'live');
    expect(refused.status).toBe(401);
    const viewer = await waitFor(
      'live watchable on B',
      async () => {
        const offered = await offerWhep(b, 'live', secured.CORE_WEBRTC_TOKEN);
        return offered.status === 201 ? offered : undefined;
      },
      60_000,
    );
    try {
      await waitFor('video from B', () => viewer.videoPackets > 10);
    } finally {
      await viewer.close();
    }
  });
});
