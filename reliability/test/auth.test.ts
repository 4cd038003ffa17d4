import { createHmac } from 'node:crypto';
import {
  jsonBody,
  type RunningServer,
  startServer,
  stopAllServers,
  testPatternProcess,
} from '@dragon/test-helpers/server';
import { afterAll, beforeAll, expect, it } from 'vitest';

const secrets = {
  password: 'pw-9f2c1e7a5b',
  jwtSecret: 'jwt-secret-4d8e0c2a91f3b7',
  viewerToken: 'viewer-token-7c3a9e1f',
};
let server: RunningServer;
let accessToken: string;

beforeAll(async () => {
  server = await startServer({
    env: {
      CORE_API_AUTH_ENABLE: 'true',
      CORE_API_AUTH_USERNAME: 'admin',
      CORE_API_AUTH_PASSWORD: secrets.password,
      CORE_API_AUTH_JWT_SECRET: secrets.jwtSecret,
      CORE_WEBRTC_TOKEN: secrets.viewerToken,
    },
  });
  const login = await server.json<{ access_token: string }>(
    '/api/login',
    jsonBody({ username: 'admin', password: secrets.password }),
  );
  accessToken = login.access_token;
  await server.json('/api/v3/process', {
    ...jsonBody({ ...testPatternProcess('guarded'), autostart: false }),
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${accessToken}` },
  });
});
afterAll(stopAllServers);

function jwt(claims: Record<string, unknown>, secret: string): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

it('rejects missing, forged and expired JWTs on every management route of the OpenAPI document', async () => {
  const document = await server.json<{ paths: Record<string, Record<string, { security?: unknown[] }>> }>(
    '/api/swagger/doc.json',
  );
  const now = Math.floor(Date.now() / 1000);
  const { iss, sub, usefor } = JSON.parse(
    Buffer.from(accessToken.split('.')[1]!, 'base64url').toString(),
  ) as Record<string, unknown>;
  const badTokens = {
    missing: undefined,
    garbage: 'not-a-jwt',
    forged: jwt({ iss, sub, usefor, iat: now, exp: now + 600 }, 'some-other-secret'),
    expired: jwt({ iss, sub, usefor, iat: now - 7200, exp: now - 3600 }, secrets.jwtSecret),
    unsigned: `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ iss, sub, usefor, iat: now, exp: now + 600 }),
    ).toString('base64url')}.`,
  };
  let checked = 0;
  for (const [template, operations] of Object.entries(document.paths)) {
    if (!template.startsWith('/api/v3/') || template.includes('/whep')) continue;
    const path = template.replace(/\{[^}]+\}/g, (name) => (name === '{id}' ? 'guarded' : 'x'));
    for (const [method, operation] of Object.entries(operations)) {
      // Public routes (the widget) are documented with no security requirement.
      if (operation.security?.length === 0) continue;
      for (const [kind, token] of Object.entries(badTokens)) {
        const response = await server.api(path, {
          method: method.toUpperCase(),
          headers: {
            'Content-Type': 'application/json',
            ...(token ? { Authorization: `Bearer ${token}` } : {}),
          },
          ...(['post', 'put', 'patch'].includes(method) ? { body: '{}' } : {}),
        });
        expect(response.status, `${method.toUpperCase()} ${path} with a ${kind} token`).toBe(401);
        checked++;
      }
    }
  }
  expect(checked).toBeGreaterThan(50);
  // Nothing was changed by any of them.
  const state = await server.api('/api/v3/process/guarded', {
    headers: { Authorization: `Bearer ${accessToken}` },
  });
  expect(state.status).toBe(200);
});

it('rejects WHEP offers with a wrong viewer token', async () => {
  for (const token of [undefined, 'wrong', `${secrets.viewerToken}x`, accessToken]) {
    const response = await server.api('/api/v3/process/guarded/whep', {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: 'v=0\r\n',
    });
    expect(response.status).toBe(401);
  }
});

it("accepts a process's own viewer token as well as the global one", async () => {
  const admin = { 'Content-Type': 'application/json', Authorization: `Bearer ${accessToken}` };
  await server.json('/api/v3/process', {
    ...jsonBody({
      ...testPatternProcess('own-token'),
      webrtc: { enabled: true, force_transcode: true, token: 'own-secret-1' },
    }),
    headers: admin,
  });
  const offer = (token: string) =>
    server.api('/api/v3/process/own-token/whep', {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
      body: 'v=0\r\n',
    });
  // Past the token check an invalid offer is a 400 (or 409 before media flows), never a 401.
  expect([400, 409]).toContain((await offer('own-secret-1')).status);
  expect([400, 409]).toContain((await offer(secrets.viewerToken)).status);
  expect((await offer('own-secret-2')).status).toBe(401);
  // The guarded process does not take another process's token.
  const other = await server.api('/api/v3/process/guarded/whep', {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', Authorization: 'Bearer own-secret-1' },
    body: 'v=0\r\n',
  });
  expect(other.status).toBe(401);
});

it('never shows the configured secrets, not even to an administrator', async () => {
  const authorized = { headers: { Authorization: `Bearer ${accessToken}` } };
  const bodies = await Promise.all(
    [
      '/api',
      '/api/v3/config',
      '/api/v3/process',
      '/api/v3/process/guarded',
      '/metrics',
      '/api/swagger/doc.json',
    ].map(async (path) => (await server.api(path, authorized)).text()),
  );
  for (const body of bodies) {
    for (const secret of Object.values(secrets)) expect(body).not.toContain(secret);
  }
});
