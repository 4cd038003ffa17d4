import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { forwardedHeader, NodeAuth, nodeTokenHeader } from './node-auth.js';

const secret = 'a-shared-cluster-secret';

function guarded(auth: NodeAuth) {
  const app = new Hono();
  app.use(
    auth.guard(async () => {
      throw new HTTPException(401, { message: 'login required' });
    }),
  );
  app.get('/x', (c) => c.text('in'));
  return app;
}

describe('NodeAuth', () => {
  it("lets a request another node signed with the cluster secret past the user's login", async () => {
    const headers = await new NodeAuth(secret, 'node-a').headers();
    expect(headers[forwardedHeader]).toBe('node-a');
    const response = await guarded(new NodeAuth(secret, 'node-b')).request('/x', { headers });
    expect(response.status).toBe(200);
  });

  it('leaves requests without a valid node token to the login', async () => {
    const app = guarded(new NodeAuth(secret, 'node-b'));
    expect((await app.request('/x')).status).toBe(401);
    const otherCluster = await new NodeAuth('another-cluster-secret', 'node-x').headers();
    expect((await app.request('/x', { headers: otherCluster })).status).toBe(401);
    const now = Math.floor(Date.now() / 1000);
    const expired = await sign(
      { iss: 'dragon-cluster', sub: 'node-a', iat: now - 120, exp: now - 60 },
      secret,
      'HS256',
    );
    expect((await app.request('/x', { headers: { [nodeTokenHeader]: expired } })).status).toBe(401);
    const notANode = await sign({ iss: 'datarhei-core', sub: 'admin', exp: now + 60 }, secret, 'HS256');
    expect((await app.request('/x', { headers: { [nodeTokenHeader]: notANode } })).status).toBe(401);
  });

  it('signs nothing and accepts nothing without a secret (API login off)', async () => {
    const auth = new NodeAuth('', 'node-a');
    expect(await auth.headers()).toEqual({ [forwardedHeader]: 'node-a' });
    const signed = await new NodeAuth(secret, 'node-c').headers();
    expect((await guarded(auth).request('/x', { headers: signed })).status).toBe(401);
  });
});
