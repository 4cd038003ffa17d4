import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCore, startInProcessCore } from './in-process-core.js';

/** datarhei Core v16.16.0's API description (see fixtures/README.md). */
type Schema = {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
};
type Operation = { responses: Record<string, { schema?: Schema }> };
const swagger = JSON.parse(
  readFileSync(new URL('./fixtures/datarhei-swagger.json', import.meta.url), 'utf8'),
) as {
  paths: Record<string, Record<string, Operation>>;
  definitions: Record<string, Schema>;
};

/** Where `value` departs from `schema`: every property datarhei defines must be there, with its type. */
function mismatches(value: unknown, schema: Schema, path = '$'): string[] {
  const resolved = schema.$ref ? swagger.definitions[schema.$ref.split('/').pop()!]! : schema;
  switch (resolved.type) {
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        return [`${path}: not an object`];
      const record = value as Record<string, unknown>;
      const problems: string[] = [];
      for (const [key, child] of Object.entries(resolved.properties ?? {})) {
        problems.push(
          ...(key in record ? mismatches(record[key], child, `${path}.${key}`) : [`${path}.${key}: missing`]),
        );
      }
      if (typeof resolved.additionalProperties === 'object') {
        for (const [key, child] of Object.entries(record)) {
          problems.push(...mismatches(child, resolved.additionalProperties, `${path}.${key}`));
        }
      }
      return problems;
    }
    case 'array':
      return Array.isArray(value)
        ? value.flatMap((item, index) => mismatches(item, resolved.items ?? {}, `${path}[${index}]`))
        : [`${path}: not an array`];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${path}: not an integer`];
    case 'number':
      return typeof value === 'number' ? [] : [`${path}: not a number`];
    case 'string':
    case 'boolean':
      return typeof value === resolved.type ? [] : [`${path}: not a ${resolved.type}`];
    default:
      return [];
  }
}

const ownRoutes = ['/api', '/api/login', '/api/login/refresh', '/api/v3/config', '/api/v3/config/reload'];
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

/** How each of the routes' documented answers is provoked, with auth on. */
const cases: Record<string, Record<string, Record<string, () => Promise<Response>>>> = {
  '/api': {
    get: { '200': () => server.request('/api', { headers: bearer(tokens.access_token) }) },
  },
  '/api/login': {
    post: {
      '200': () =>
        server.request('/api/login', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(credentials),
        }),
    },
  },
  '/api/login/refresh': {
    get: { '200': () => server.request('/api/login/refresh', { headers: bearer(tokens.refresh_token) }) },
  },
  '/api/v3/config': {
    get: { '200': () => server.request('/api/v3/config', { headers: bearer(tokens.access_token) }) },
    put: {
      '200': () => put({ log: { level: 'info' } }),
      '400': () => put('{"log":'),
      '409': () => put({ address: 'nonsense', api: { auth: { password: '' } } }),
    },
  },
  '/api/v3/config/reload': {
    get: { '200': () => server.request('/api/v3/config/reload', { headers: bearer(tokens.access_token) }) },
  },
};
const put = (body: unknown) =>
  server.request('/api/v3/config', {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', ...bearer(tokens.access_token) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe("datarhei's API description, for identity, login and config", () => {
  it('documents each of these routes', () => {
    expect(
      Object.keys(swagger.paths)
        .filter((path) => ownRoutes.includes(path))
        .sort(),
    ).toEqual([...ownRoutes].sort());
  });

  for (const path of ownRoutes) {
    for (const [method, operation] of Object.entries(swagger.paths[path]!)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const provoke = cases[path]?.[method]?.[status];
        // 403 and 500 of the login routes are failures of datarhei's Auth0 and token signing, which Dragon does not have.
        if (!provoke) continue;
        it(`${method.toUpperCase()} ${path} answers ${status} in the documented shape`, async () => {
          const answer = await provoke();
          expect(answer.status).toBe(Number(status));
          expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
          expect(mismatches(await answer.json(), response.schema ?? {})).toEqual([]);
        });
      }
    }
  }

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
    // Only the authorised reload above asked for one (it runs on the next turn of the event loop).
    await new Promise((resolve) => setImmediate(resolve));
    expect(server.reloads()).toBe(1);
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
    expect(mismatches(view.config, { $ref: '#/definitions/api.ConfigData' })).toEqual([]);
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
