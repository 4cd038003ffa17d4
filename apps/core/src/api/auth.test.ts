import { Hono } from 'hono';
import { decode, sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { renderError } from './api-error.js';
import { apiBodyLimitBytes, limitBody, loginBodyLimitBytes } from './api-middleware.js';
import { type AuthOptions, basicAuth, createAuth } from './auth.js';

function appWith(options: Partial<AuthOptions> & { address?: string } = {}) {
  const auth = createAuth({
    enable: true,
    username: 'admin',
    password: 'pw',
    jwtSecret: 'test-secret',
    disableLocalhost: false,
    clientAddress: () => options.address ?? '203.0.113.9',
    failedLoginDelayMs: 0,
    ...options,
  });
  const app = new Hono();
  app.onError(renderError);
  app.use('/api/login', limitBody(loginBodyLimitBytes));
  app.use('/api/*', limitBody(apiBodyLimitBytes));
  app.route('/', auth.routes.app);
  app.use('/api/v3/*', auth.guard);
  app.get('/api/v3/thing', (c) => c.json('OK'));
  return app;
}

const login = (app: Hono, body: unknown) =>
  app.request('/api/login', {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });
const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });
async function tokens(app: Hono, password = 'pw') {
  const response = await login(app, { username: 'admin', password });
  expect(response.status).toBe(200);
  return (await response.json()) as { access_token: string; refresh_token: string };
}

describe('auth', () => {
  it('issues access and refresh tokens with datarhei claims, each for its own use', async () => {
    const app = appWith();
    const { access_token, refresh_token } = await tokens(app);
    const access = decode(access_token).payload;
    const refresh = decode(refresh_token).payload;
    expect(access).toMatchObject({ iss: 'datarhei-core', sub: 'admin', usefor: 'access', exi: 600 });
    expect(refresh).toMatchObject({ iss: 'datarhei-core', sub: 'admin', usefor: 'refresh', exi: 86400 });
    expect(access.exp).toBe((access.iat as number) + 600);
    expect(access.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(access.jti).not.toBe(refresh.jti);

    expect((await app.request('/api/v3/thing', bearer(access_token))).status).toBe(200);
    expect((await app.request('/api/v3/thing', bearer(refresh_token))).status).toBe(401);
    const refreshed = await app.request('/api/login/refresh', bearer(refresh_token));
    expect(refreshed.status).toBe(200);
    const renewed = ((await refreshed.json()) as { access_token: string }).access_token;
    expect((await app.request('/api/v3/thing', bearer(renewed))).status).toBe(200);
    expect((await app.request('/api/login/refresh', bearer(access_token))).status).toBe(401);
  });

  it("answers a bad login with datarhei's 400 and 401 bodies", async () => {
    const app = appWith();
    const missing = await login(app, { username: 'admin' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({
      code: 400,
      message: 'Bad Request',
      details: ['Missing authorization credentials'],
    });
    expect((await login(app, 'not json')).status).toBe(400);
    const wrong = await login(app, { username: 'admin', password: 'wrong' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({
      code: 401,
      message: 'Unauthorized',
      details: ['Invalid authorization credentials: invalid username or password'],
    });
    expect((await login(app, { username: 'root', password: 'pw' })).status).toBe(401);
  });

  it('rejects missing, forged and expired tokens', async () => {
    const app = appWith();
    const missing = await app.request('/api/v3/thing');
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({
      code: 401,
      message: 'Unauthorized',
      details: ['Missing or invalid JWT token'],
    });
    const { access_token } = await tokens(app);
    const claims = decode(access_token).payload;
    // Signed with the configured secret itself, not the key derived from it and the credentials.
    const forged = await sign(claims, 'test-secret', 'HS256');
    expect((await app.request('/api/v3/thing', bearer(forged))).status).toBe(401);
    const [header, , signature] = access_token.split('.');
    const expired = `${header}.${Buffer.from(JSON.stringify({ ...claims, exp: 1 })).toString('base64url')}.${signature}`;
    expect((await app.request('/api/v3/thing', bearer(expired))).status).toBe(401);
  });

  it('ends every token when the password or username changes, and keeps them across a restart otherwise', async () => {
    const before = await tokens(appWith());
    const restarted = appWith();
    expect((await restarted.request('/api/v3/thing', bearer(before.access_token))).status).toBe(200);
    for (const changed of [appWith({ password: 'new-pw' }), appWith({ username: 'root' })]) {
      expect((await changed.request('/api/v3/thing', bearer(before.access_token))).status).toBe(401);
      expect((await changed.request('/api/login/refresh', bearer(before.refresh_token))).status).toBe(401);
    }
  });

  it('limits password guesses per client and says when to retry', async () => {
    const app = appWith({ loginLimit: { maxAttempts: 3, windowMs: 60_000 } });
    for (let guess = 0; guess < 3; guess++) {
      expect((await login(app, { username: 'admin', password: `guess-${guess}` })).status).toBe(401);
    }
    const blocked = await login(app, { username: 'admin', password: 'pw' });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another client is not affected.
    const other = appWith({ loginLimit: { maxAttempts: 3, windowMs: 60_000 }, address: '198.51.100.4' });
    expect((await login(other, { username: 'admin', password: 'pw' })).status).toBe(200);
  });

  it('refuses an oversized login body before reading it', async () => {
    const app = appWith();
    const response = await login(app, { username: 'admin', password: 'x'.repeat(loginBodyLimitBytes) });
    expect(response.status).toBe(413);
    const chunked = await app.request('/api/login', {
      method: 'POST',
      body: new ReadableStream({
        pull(controller) {
          controller.enqueue(new Uint8Array(64 * 1024));
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it('lets everything through when disabled, and loopback clients when localhost is exempt', async () => {
    const disabled = appWith({ enable: false });
    expect((await disabled.request('/api/v3/thing')).status).toBe(200);
    expect((await login(disabled, { username: 'admin', password: 'pw' })).status).toBe(404);
    expect(
      (await appWith({ disableLocalhost: true, address: '127.0.0.1' }).request('/api/v3/thing')).status,
    ).toBe(200);
    expect(
      (await appWith({ disableLocalhost: true, address: '198.51.100.1' }).request('/api/v3/thing')).status,
    ).toBe(401);
  });
});

describe('basicAuth', () => {
  const app = new Hono();
  app.onError(renderError);
  app.put('/memfs/*', basicAuth({ username: 'admin', password: 'p:w' }), (c) => c.body(null, 201));
  const put = (authorization?: string) =>
    app.request('/memfs/a.m3u8', {
      method: 'PUT',
      ...(authorization ? { headers: { Authorization: authorization } } : {}),
    });
  const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

  it('lets the right credentials through, a colon in the password included', async () => {
    expect((await put(basic('admin:p:w'))).status).toBe(201);
  });

  it('challenges a missing or wrong credential', async () => {
    for (const authorization of [undefined, basic('admin:wrong'), basic('admin'), 'Bearer x']) {
      const response = await put(authorization);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Basic realm="datarhei-core"');
    }
  });
});
