import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema, generatedPaths } from './config-schema.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url), 'utf8'));
const swagger = fixture('datarhei-swagger.json') as {
  definitions: Record<string, { type?: string; properties?: Record<string, SwaggerSchema> }>;
};
type SwaggerSchema = { type?: string; $ref?: string; items?: SwaggerSchema; additionalProperties?: unknown };

/** Leaf paths of a JSON value (a list or a map is one leaf). */
function leaves(value: unknown, path: string[] = []): Map<string, unknown> {
  const result = new Map<string, unknown>();
  if (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    path.join('.') !== 'router.routes'
  ) {
    for (const [key, child] of Object.entries(value)) {
      for (const [leaf, leafValue] of leaves(child, [...path, key])) result.set(leaf, leafValue);
    }
  } else {
    result.set(path.join('.'), value);
  }
  return result;
}

/** Leaf paths and JSON types of a swagger definition. */
function swaggerLeaves(schema: SwaggerSchema, path: string[] = []): Map<string, string> {
  const resolved = schema.$ref ? swagger.definitions[schema.$ref.split('/').pop()!]! : schema;
  const result = new Map<string, string>();
  if (resolved.type === 'object' && 'properties' in resolved && resolved.properties) {
    for (const [key, child] of Object.entries(resolved.properties)) {
      for (const [leaf, type] of swaggerLeaves(child, [...path, key])) result.set(leaf, type);
    }
  } else {
    result.set(path.join('.'), resolved.type ?? 'object');
  }
  return result;
}

const jsonType = (value: unknown) =>
  Array.isArray(value)
    ? 'array'
    : value === null
      ? 'null'
      : Number.isInteger(value)
        ? 'integer'
        : typeof value;

describe('the config schema', () => {
  const defaults = configSchema.parse({});
  const dragonLeaves = leaves(defaults);

  it("has every field of datarhei's config document, with the type its API description gives", () => {
    const datarhei = swaggerLeaves({ $ref: '#/definitions/api.ConfigData' });
    expect(datarhei.size).toBeGreaterThan(80);
    for (const [path, type] of datarhei) {
      expect(dragonLeaves.has(path), path).toBe(true);
      expect(jsonType(dragonLeaves.get(path)), path).toBe(type);
    }
  });

  it("adds only the webrtc, whip and cluster blocks, the output directories and RTMP's bounds to datarhei's fields", () => {
    const datarhei = swaggerLeaves({ $ref: '#/definitions/api.ConfigData' });
    const extra = [...dragonLeaves.keys()].filter((path) => !datarhei.has(path));
    expect(extra.length).toBeGreaterThan(0);
    const dragonBlocks = ['webrtc.', 'whip.', 'cluster.'];
    expect(extra.filter((path) => !dragonBlocks.some((block) => path.startsWith(block)))).toEqual([
      'rtmp.max_connections',
      'rtmp.max_connections_per_address',
      'rtmp.handshake_timeout_sec',
      'rtmp.start_timeout_sec',
      'ffmpeg.access.output.directories',
    ]);
  });

  it('bounds RTMP clients by default', () => {
    expect(defaults.rtmp).toMatchObject({
      max_connections: 256,
      max_connections_per_address: 64,
      handshake_timeout_sec: 10,
      start_timeout_sec: 30,
    });
  });

  it("keeps datarhei's cluster keys and leaves cluster mode off", () => {
    expect(defaults.cluster).toMatchObject({
      enable: false,
      sync_interval_sec: 5,
      node_recover_timeout_sec: 15,
      redis_url: '',
    });
  });

  it('requires Redis and a shared secret in cluster mode, with or without the API login', () => {
    const issues = (input: unknown) =>
      configSchema.safeParse(input).error?.issues.map((issue) => issue.path.join('.')) ?? [];
    const secret = 'sixteen-chars-ok';
    expect(issues({ cluster: { enable: true, secret } })).toEqual(['cluster.redis_url']);
    expect(issues({ cluster: { enable: true, redis_url: 'redis://r:6379', secret } })).toEqual([]);
    expect(issues({ cluster: { enable: true, redis_url: 'redis://r:6379' } })).toEqual(['cluster.secret']);
    expect(issues({ cluster: { enable: true, redis_url: 'redis://r', secret: 'too-short' } })).toEqual([
      'cluster.secret',
    ]);
    const withLogin = { enable: true, username: 'admin', password: 'pw' };
    expect(issues({ api: { auth: withLogin }, cluster: { enable: true, redis_url: 'redis://r' } })).toEqual([
      'cluster.secret',
    ]);
    expect(
      issues({
        api: { auth: withLogin },
        cluster: { enable: true, redis_url: 'redis://r', secret: 'sixteen-chars-ok' },
      }),
    ).toEqual([]);
    expect(issues({ cluster: { redis_url: 'http://r' } })).toEqual(['cluster.redis_url']);
    expect(issues({ cluster: { advertise_url: 'http://edge-1:8080/' } })).toEqual(['cluster.advertise_url']);
    expect(issues({ cluster: { node_timeout_sec: 10, node_recover_timeout_sec: 5 } })).toEqual([
      'cluster.node_recover_timeout_sec',
    ]);
  });

  it("defaults every datarhei field to datarhei's default", () => {
    const datarhei = leaves(fixture('datarhei-default-config.json'));
    for (const [path, value] of datarhei) {
      if ((generatedPaths as readonly string[]).includes(path)) continue;
      // datarhei's nil map is written as null; an empty map means the same.
      const expected = path === 'router.routes' && value === null ? {} : value;
      expect(dragonLeaves.get(path), path).toEqual(expected);
    }
  });

  it('generates an id, a name and secrets for a new config, different each time', () => {
    const other = configSchema.parse({});
    for (const path of generatedPaths) {
      const value = dragonLeaves.get(path);
      expect(typeof value === 'string' && value.length > 0, path).toBe(true);
      if (path !== 'created_at') expect(leaves(other).get(path), path).not.toBe(value);
    }
    expect(defaults.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(defaults.api.auth.jwt.secret).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(defaults.storage.memory.auth.password).toMatch(/^[A-Za-z0-9]{18}$/);
  });

  it('limits viewers by default', () => {
    expect(defaults.webrtc.max_viewers).toBe(100);
    expect(defaults.webrtc.max_offers_per_minute).toBe(120);
  });

  it("reports datarhei's cross-field errors under datarhei's field names", () => {
    const result = configSchema.safeParse({
      api: { auth: { enable: true, username: 'admin' } },
      rtmp: { enable_tls: true },
      storage: { memory: { auth: { enable: true, username: '' } } },
      playout: { enable: true, min_port: 9000, max_port: 8000 },
    });
    expect(result.success).toBe(false);
    const byField = Object.fromEntries(
      result.error!.issues.map((issue) => [issue.path.join('.'), issue.message]),
    );
    expect(byField).toEqual({
      'api.auth.enable': 'api.auth.username and api.auth.password must be set',
      'rtmp.enable': 'RTMP server must be enabled if RTMPS server is enabled',
      'rtmp.enable_tls': 'RTMPS server can only be enabled if TLS is enabled',
      'storage.memory.auth.enable':
        'storage.memory.auth.username and storage.memory.auth.password must be set',
      'playout.min_port': 'must be bigger than playout.max_port',
    });
  });

  it('accepts datarhei timestamps and rejects malformed addresses and ranges', () => {
    expect(configSchema.safeParse({ created_at: '2024-06-07T11:47:03.123456789+02:00' }).success).toBe(true);
    for (const address of ['8080', 'host:99999', 'a b:80']) {
      expect(configSchema.safeParse({ address }).success, address).toBe(false);
    }
    expect(configSchema.safeParse({ address: '[::1]:8080' }).success).toBe(true);
    expect(configSchema.safeParse({ sessions: { ip_ignorelist: ['10.0.0.0/33'] } }).success).toBe(false);
    expect(configSchema.safeParse({ webrtc: { ice_port_min: 10, ice_port_max: 5 } }).success).toBe(false);
  });
});

describe('storage.cors.origins', () => {
  it('refuses an origin datarhei refuses (no scheme, no wildcard) and defaults to ["*"]', () => {
    const parsed = configSchema.safeParse({ storage: { cors: { origins: ['ui.test'] } } });

    expect(parsed.success).toBe(false);
    expect(configSchema.parse({}).storage.cors.origins).toEqual(['*']);
  });
});
