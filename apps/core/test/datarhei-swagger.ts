import { readFileSync } from 'node:fs';

/**
 * datarhei Core v16.16.0's API description: `docs/swagger.json` at tag `v16.16.0` of
 * github.com/datarhei/core, unchanged.
 */
export type Schema = {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
  additionalProperties?: Schema | boolean;
};
type Operation = { responses: Record<string, { schema?: Schema }>; security?: unknown[] };

export const swagger = JSON.parse(
  readFileSync(new URL('./fixtures/datarhei-swagger.json', import.meta.url), 'utf8'),
) as { paths: Record<string, Record<string, Operation>>; definitions: Record<string, Schema> };

/** One route of the description: `GET /api/v3/process/{id}`, its documented statuses and their schemas. */
export interface DatarheiOperation {
  key: string;
  statuses: number[];
  responses: Record<number, Schema | undefined>;
}

/** Every path and method of the description. */
export function operations(): DatarheiOperation[] {
  return Object.entries(swagger.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      key: `${method.toUpperCase()} ${path}`,
      statuses: Object.keys(operation.responses).map(Number),
      responses: Object.fromEntries(
        Object.entries(operation.responses).map(([status, response]) => [Number(status), response.schema]),
      ),
    })),
  );
}

/** Routes of the description Dragon does not implement; they answer 404. */
export const notImplemented: Record<string, string> = {
  'GET /api/graph': 'no GraphQL API: everything it queries is in the REST API',
  'POST /api/graph/query': 'no GraphQL API: everything it queries is in the REST API',
  'GET /api/v3/process/{id}/playout/{inputid}/errorframe/encode':
    "no playout proxy: FFmpeg reads inputs directly (datarhei's playout is off by default)",
  'POST /api/v3/process/{id}/playout/{inputid}/errorframe/{name}':
    "no playout proxy: FFmpeg reads inputs directly (datarhei's playout is off by default)",
  'GET /api/v3/process/{id}/playout/{inputid}/keyframe/{name}':
    "no playout proxy: FFmpeg reads inputs directly (datarhei's playout is off by default)",
  'GET /api/v3/process/{id}/playout/{inputid}/reopen':
    "no playout proxy: FFmpeg reads inputs directly (datarhei's playout is off by default)",
  'GET /api/v3/process/{id}/playout/{inputid}/status':
    "no playout proxy: FFmpeg reads inputs directly (datarhei's playout is off by default)",
  'PUT /api/v3/process/{id}/playout/{inputid}/stream':
    "no playout proxy: FFmpeg reads inputs directly (datarhei's playout is off by default)",
};

/**
 * What the description cannot say, per definition: `optional` properties datarhei itself leaves out
 * (Go's `omitempty`, or parts a query filters away); `nullable` ones it sends as `null` (Go's nil
 * pointers and slices); `extra` ones Dragon adds; `wire` shapes datarhei's own encoder writes instead.
 */
export interface ShapeRules {
  optional?: Record<string, string[]>;
  nullable?: Record<string, string[]>;
  /** By definition name, or by a dotted path ending (`'ffmpeg.access.output'`) for inline objects. */
  extra?: Record<string, string[]>;
  /** Definitions whose wire format is not what the description says (a Go `MarshalJSON`). */
  wire?: Record<string, Schema>;
}

/** Dragon's additions to datarhei's config document (`docs/datarhei-compat.md`), as `extra` rules. */
export const configExtras: Record<string, string[]> = {
  'api.ConfigData': ['webrtc', 'whip', 'cluster'],
  // Where FFmpeg may write files (datarhei's lists match addresses only).
  'ffmpeg.access.output': ['directories'],
  // What bounds RTMP clients (docs/security.md).
  'config.rtmp': [
    'max_connections',
    'max_connections_per_address',
    'handshake_timeout_sec',
    'start_timeout_sec',
  ],
};

/** Whether `key` at `path` is one Dragon adds: named by its definition, or by a path ending. */
function isExtra(rules: ShapeRules, name: string | undefined, path: string, key: string): boolean {
  if (rules.extra?.[name ?? '']?.includes(key)) return true;
  return Object.entries(rules.extra ?? {}).some(
    ([where, keys]) => where.includes('.') && path.endsWith(`.${where}`) && keys.includes(key),
  );
}

/**
 * Where `value` departs from `schema`: a property missing, of another type, or not in datarhei's
 * description. Returns one line per departure, empty when the shape is datarhei's.
 */
export function mismatches(value: unknown, schema: Schema, rules: ShapeRules = {}, path = '$'): string[] {
  const name = schema.$ref?.split('/').pop() ?? schema.allOf?.[0]?.$ref?.split('/').pop();
  const resolved = name ? (rules.wire?.[name] ?? swagger.definitions[name]) : schema;
  if (!resolved) return [`${path}: datarhei defines no ${name}`];
  switch (resolved.type) {
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        return [`${path}: not an object`];
      const record = value as Record<string, unknown>;
      const problems: string[] = [];
      const declared = resolved.properties ?? {};
      for (const [key, child] of Object.entries(declared)) {
        const at = `${path}.${key}`;
        if (!(key in record)) {
          if (!rules.optional?.[name ?? '']?.includes(key)) problems.push(`${at}: missing`);
        } else if (record[key] === null && rules.nullable?.[name ?? '']?.includes(key)) {
          // Go's nil.
        } else {
          problems.push(...mismatches(record[key], child, rules, at));
        }
      }
      for (const [key, child] of Object.entries(record)) {
        if (key in declared) continue;
        if (typeof resolved.additionalProperties === 'object') {
          problems.push(...mismatches(child, resolved.additionalProperties, rules, `${path}.${key}`));
        } else if (!isExtra(rules, name, path, key)) {
          problems.push(`${path}.${key}: not in datarhei's ${name ?? 'description'}`);
        }
      }
      return problems;
    }
    case 'array':
      return Array.isArray(value)
        ? value.flatMap((item, index) => mismatches(item, resolved.items ?? {}, rules, `${path}[${index}]`))
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
