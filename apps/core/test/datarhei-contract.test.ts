import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configExtras, mismatches } from './datarhei-swagger.js';
import { type InProcessCore, startInProcessCore } from './in-process-core.js';

const credentials = { username: 'admin', password: 'contract-pw' };
let server: InProcessCore;
let tokens: { access_token: string; refresh_token: string };

beforeAll(async () => {
  server = await startInProcessCore({
    CORE_API_AUTH_ENABLE: 'true',
    CORE_API_AUTH_USERNAME: credentials.username,
    CORE_API_AUTH_PASSWORD: credentials.password,
  });
  const response = await server.request('/api/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(credentials),
  });
  tokens = (await response.json()) as typeof tokens;
});
afterAll(() => server?.close());

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

const put = (body: unknown) =>
  server.request('/api/v3/config', {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', ...bearer(tokens.access_token) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('identity, login and config beyond the route walk (datarhei-contract.slow.test.ts)', () => {
  it('answers every route that needs a token with 401 and the error shape when it is missing', async () => {
    for (const [path, method] of [
      ['/api/v3/config', 'GET'],
      ['/api/v3/config', 'PUT'],
      ['/api/v3/config/reload', 'GET'],
      ['/api/login/refresh', 'GET'],
    ] as const) {
      const answer = await server.request(path, { method, body: method === 'PUT' ? '{}' : null });
      expect(answer.status, `${method} ${path}`).toBe(401);
      expect(mismatches(await answer.json(), { $ref: '#/definitions/api.Error' })).toEqual([]);
    }
    // The refused reload asked for none (a reload runs on the next turn of the event loop).
    await new Promise((resolve) => setImmediate(resolve));
    expect(server.reloads()).toBe(0);
  });

  it("gives a client without a token datarhei's minimal about: no id, the major version", async () => {
    const about = (await (await server.request('/api')).json()) as Record<string, unknown>;
    expect(about).toEqual({ app: 'datarhei-core', auths: ['localjwt'], version: { number: '16.0.0' } });
  });

  it('shows the whole config document, secrets redacted', async () => {
    const view = (await (
      await server.request('/api/v3/config', { headers: bearer(tokens.access_token) })
    ).json()) as {
      config: Record<string, unknown>;
    };
    expect(
      mismatches(
        view,
        { $ref: '#/definitions/github_com_datarhei_core_v16_http_api.Config' },
        { extra: configExtras },
      ),
    ).toEqual([]);
    expect(JSON.stringify(view)).not.toContain(credentials.password);
  });

  it('answers the CORS preflight of a UI served elsewhere, before auth', async () => {
    const preflight = await server.request('/api/v3/config', {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://ui.example',
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/PUT/);
    const answer = await server.request('/api', { headers: { Origin: 'http://ui.example' } });
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('refuses an oversized config body before reading it', async () => {
    const answer = await put({ name: 'x'.repeat(2 * 1024 * 1024) });
    expect(answer.status).toBe(413);
  });
});
