import { Hono } from 'hono';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { errorResponse } from './api-error.js';
import { createAuth, isLoopback } from './auth.js';

function appWith(options: { enable?: boolean; disableLocalhost?: boolean; address?: string } = {}) {
  const auth = createAuth({
    enable: options.enable ?? true,
    username: 'admin',
    password: 'pw',
    jwtSecret: 'test-secret',
    disableLocalhost: options.disableLocalhost ?? false,
    clientAddress: () => options.address ?? '203.0.113.9',
    failedLoginDelayMs: 1,
  });
  const app = new Hono();
  app.onError(errorResponse);
  app.route('/', auth.routes);
  app.use('/api/v3/*', auth.guard);
  app.get('/api/v3/thing', (c) => c.json('OK'));
  return app;
}

const login = (app: Hono, body: unknown) =>
  app.request('/api/login', {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });
const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

describe('auth', () => {
  it('issues access and refresh tokens for the right credentials and accepts the access token', async () => {
    const app = appWith();
    const response = await login(app, { username: 'admin', password: 'pw' });
    expect(response.status).toBe(200);
    const tokens = (await response.json()) as { access_token: string; refresh_token: string };
    expect((await app.request('/api/v3/thing', bearer(tokens.access_token))).status).toBe(200);
    expect((await app.request('/api/v3/thing', bearer(tokens.refresh_token))).status).toBe(401);

    const refreshed = await app.request('/api/login/refresh', bearer(tokens.refresh_token));
    expect(refreshed.status).toBe(200);
    const { access_token } = (await refreshed.json()) as { access_token: string };
    expect((await app.request('/api/v3/thing', bearer(access_token))).status).toBe(200);
    expect((await app.request('/api/login/refresh', bearer(access_token))).status).toBe(401);
  });

  it('answers 400 for missing fields and 401 for wrong credentials', async () => {
    const app = appWith();
    expect((await login(app, { username: 'admin' })).status).toBe(400);
    expect((await app.request('/api/login', { method: 'POST', body: 'nope' })).status).toBe(400);
    expect((await login(app, { username: 'admin', password: 'wrong' })).status).toBe(401);
    expect((await login(app, { username: 'root', password: 'pw' })).status).toBe(401);
  });

  it('rejects missing, forged and expired tokens', async () => {
    const app = appWith();
    expect((await app.request('/api/v3/thing')).status).toBe(401);
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: 'dragon-core', sub: 'admin', usefor: 'access', iat: now, exp: now + 60 };
    const forged = await sign(claims, 'another-secret', 'HS256');
    expect((await app.request('/api/v3/thing', bearer(forged))).status).toBe(401);
    const expired = await sign({ ...claims, iat: now - 700, exp: now - 100 }, 'test-secret', 'HS256');
    expect((await app.request('/api/v3/thing', bearer(expired))).status).toBe(401);
    const valid = await sign(claims, 'test-secret', 'HS256');
    expect((await app.request('/api/v3/thing', bearer(valid))).status).toBe(200);
  });

  it('lets everything through when disabled, and loopback clients when localhost is exempt', async () => {
    expect((await appWith({ enable: false }).request('/api/v3/thing')).status).toBe(200);
    expect(
      (await appWith({ disableLocalhost: true, address: '127.0.0.1' }).request('/api/v3/thing')).status,
    ).toBe(200);
    expect(
      (await appWith({ disableLocalhost: true, address: '198.51.100.1' }).request('/api/v3/thing')).status,
    ).toBe(401);
  });

  it('recognises loopback addresses, v4-mapped included', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('10.0.0.1')).toBe(false);
    expect(isLoopback(undefined)).toBe(false);
  });
});
