import { HttpError } from '@dragon/http-error';
import { Hono } from 'hono';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import {
  forwardedHeader,
  inNodeScope,
  NodeAuth,
  type NodeTokenRefusal,
  nodeTokenHeader,
} from './node-auth.js';

const secret = 'a-shared-cluster-secret';
const base = 'http://node-b.test:8080';

/** Node `nodeId`'s API behind its guard: a route for each kind of request, and a login that refuses. */
function nodeApi(auth: NodeAuth, refused: NodeTokenRefusal[] = []) {
  const app = new Hono();
  app.use(
    auth.guard(
      async () => {
        throw new HttpError(401, 'login required');
      },
      (reason) => refused.push(reason),
    ),
  );
  app.get('/api/v3/process', (c) => c.json([]));
  app.get('/api/v3/process/:id/state', (c) => c.json({ id: c.req.param('id') }));
  // The route reads the body the guard hashed.
  app.put('/api/v3/process/:id/metadata/:key', async (c) => c.json(await c.req.json()));
  app.get('/api/v3/config', (c) => c.json({ secret: 'everything' }));
  app.post('/api/v3/process', (c) => c.json('created'));
  return app;
}

const nodeB = () => new NodeAuth({ secret, nodeId: 'node-b' });
const nodeA = (now?: () => number) => new NodeAuth({ secret, nodeId: 'node-a', ...(now ? { now } : {}) });

function signed(auth: NodeAuth, method: string, path: string, body?: string, to = 'node-b'): RequestInit {
  const bytes = body === undefined ? undefined : new TextEncoder().encode(body);
  return {
    method,
    headers: auth.headers({ to, method, url: `${base}${path}`, body: bytes }),
    ...(body === undefined ? {} : { body }),
  };
}

describe('NodeAuth', () => {
  it("lets the one request another node signed for this node past the user's login, body and query included", async () => {
    const app = nodeApi(nodeB());
    const get = signed(nodeA(), 'GET', '/api/v3/process/cam/state?x=1');
    expect(new Headers(get.headers).get(forwardedHeader)).toBe('node-a');
    expect((await app.request(`${base}/api/v3/process/cam/state?x=1`, get)).status).toBe(200);
    const list = signed(nodeA(), 'GET', '/api/v3/process?filter=report&id=cam');
    expect((await app.request(`${base}/api/v3/process?filter=report&id=cam`, list)).status).toBe(200);
    const put = signed(nodeA(), 'PUT', '/api/v3/process/cam/metadata/k', '{"v":1}');
    const response = await app.request(`${base}/api/v3/process/cam/metadata/k`, put);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ v: 1 });
  });

  it('accepts a token once: the same request replayed is left to the login', async () => {
    const refused: NodeTokenRefusal[] = [];
    const app = nodeApi(nodeB(), refused);
    const init = signed(nodeA(), 'GET', '/api/v3/process/cam/state');
    expect((await app.request(`${base}/api/v3/process/cam/state`, init)).status).toBe(200);
    expect((await app.request(`${base}/api/v3/process/cam/state`, init)).status).toBe(401);
    expect(refused).toEqual(['replayed']);
  });

  it('refuses a token for any other request: path, query, method, body, or another node', async () => {
    const refused: NodeTokenRefusal[] = [];
    const app = nodeApi(nodeB(), refused);
    const state = async (init: RequestInit, path = '/api/v3/process/cam/state') =>
      (await app.request(`${base}${path}`, init)).status;
    expect(await state(signed(nodeA(), 'GET', '/api/v3/process/other/state'))).toBe(401);
    expect(await state(signed(nodeA(), 'GET', '/api/v3/process/cam/state?x=1'))).toBe(401);
    const put = signed(nodeA(), 'PUT', '/api/v3/process/cam/metadata/k', '{"v":1}');
    expect(await state({ ...put, body: '{"v":2}' }, '/api/v3/process/cam/metadata/k')).toBe(401);
    expect(await state({ ...put, method: 'POST' }, '/api/v3/process/cam/metadata/k')).toBe(401);
    expect(await state(signed(nodeA(), 'GET', '/api/v3/process/cam/state', undefined, 'node-c'))).toBe(401);
    expect(refused).toEqual([
      'other-request',
      'other-request',
      'other-request',
      'other-request',
      'other-node',
    ]);
  });

  it('grants a node nothing beyond what a forward needs: not the config, not creating a process', async () => {
    const refused: NodeTokenRefusal[] = [];
    const app = nodeApi(nodeB(), refused);
    expect(
      (await app.request(`${base}/api/v3/config`, signed(nodeA(), 'GET', '/api/v3/config'))).status,
    ).toBe(401);
    const create = signed(nodeA(), 'POST', '/api/v3/process', '{"id":"x"}');
    expect((await app.request(`${base}/api/v3/process`, create)).status).toBe(401);
    expect(refused).toEqual(['out-of-scope', 'out-of-scope']);
    expect(inNodeScope('DELETE', '/api/v3/process/cam')).toBe(true);
    expect(inNodeScope('PUT', '/api/v3/process/cam/command')).toBe(true);
    expect(inNodeScope('GET', '/api/v3/fs/disk/x')).toBe(false);
    expect(inNodeScope('GET', '/api/v3/session')).toBe(false);
  });

  it('refuses an expired token, one from too far ahead, and tokens that are not ours', async () => {
    const refused: NodeTokenRefusal[] = [];
    const app = nodeApi(nodeB(), refused);
    const path = '/api/v3/process/cam/state';
    const at = (ms: number) =>
      signed(
        nodeA(() => Date.now() + ms),
        'GET',
        path,
      );
    expect((await app.request(`${base}${path}`, at(-40_000))).status).toBe(401);
    expect((await app.request(`${base}${path}`, at(40_000))).status).toBe(401);
    // Within the clock skew two nodes may have.
    expect((await app.request(`${base}${path}`, at(-5000))).status).toBe(200);
    const otherCluster = new NodeAuth({ secret: 'another-cluster-secret', nodeId: 'node-x' });
    expect((await app.request(`${base}${path}`, signed(otherCluster, 'GET', path))).status).toBe(401);
    const now = Math.floor(Date.now() / 1000);
    // The token earlier versions sent: an HS256 JWT of the secret, good for any request.
    const jwt = await sign({ iss: 'dragon-cluster', sub: 'node-a', exp: now + 60 }, secret, 'HS256');
    expect((await app.request(`${base}${path}`, { headers: { [nodeTokenHeader]: jwt } })).status).toBe(401);
    expect((await app.request(`${base}${path}`, { headers: { [nodeTokenHeader]: 'v1..' } })).status).toBe(
      401,
    );
    expect(refused).toEqual(['expired', 'expired', 'bad-signature', 'malformed', 'malformed']);
  });
});
