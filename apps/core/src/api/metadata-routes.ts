import { HttpError } from '@dragon/http-error';
import { type Answer, DeclaredRoutes, errorAnswer, jsonAnswer, named } from '@dragon/http-routes';
import type { ProcessManager } from '@dragon/restream';
import type { Context } from 'hono';
import { readJson } from './api-error.js';
import { metadataSchema, orNull, unknownProcess, unknownProcessAnswer } from './process-schemas.js';

const metadata = named('Metadata', metadataSchema);
const metadataInput = named('MetadataValue', metadataSchema);

/** One owner of metadata: a process's (`/process/{id}/metadata`) or the server's (`/metadata`). */
interface Scope {
  path: string;
  /** "The process's", "The global". */
  whose: string;
  /** Its stored values; throws datarhei's answer for an unknown owner. */
  read(c: Context): Record<string, unknown>;
  write(c: Context, key: string, value: unknown): Promise<void>;
  /** datarhei's answer for a key that is not stored. */
  missingKey: () => HttpError;
  /** The answers beyond the value (an unknown process). */
  unknown: Record<number, Answer>;
}

/** `GET …/metadata`, `GET …/metadata/{key}` and `PUT …/metadata/{key}` (null deletes) of a scope. */
function declareScope(routes: DeclaredRoutes, scope: Scope): void {
  routes.declare(
    {
      method: 'get',
      path: scope.path,
      summary: `${scope.whose} metadata (null when none)`,
      responses: { 200: jsonAnswer('Metadata', metadata), ...scope.unknown },
    },
    (c) => c.json(orNull(scope.read(c))),
  );
  routes.declare(
    {
      method: 'get',
      path: `${scope.path}/{key}`,
      summary: `One ${scope.whose.toLowerCase()} metadata value`,
      responses: {
        200: jsonAnswer('Value', metadata),
        404: errorAnswer(404 in scope.unknown ? 'Unknown process or key' : 'Unknown key'),
      },
    },
    (c) => {
      const all = scope.read(c);
      const key = c.req.param('key') ?? '';
      if (!Object.hasOwn(all, key)) throw scope.missingKey();
      return c.json(all[key] as object);
    },
  );
  routes.declare(
    {
      method: 'put',
      path: `${scope.path}/{key}`,
      summary: `Set a ${scope.whose.toLowerCase()} metadata value (null deletes)`,
      body: metadataInput,
      responses: {
        200: jsonAnswer('The value', metadata),
        400: errorAnswer('Invalid key or JSON'),
        ...scope.unknown,
      },
    },
    async (c) => {
      const value = await readJson(c);
      await scope.write(c, c.req.param('key') ?? '', value);
      return c.json(value as object);
    },
  );
}

/** datarhei's metadata API: per process (`/process/{id}/metadata…`) and global (`/metadata…`). */
export function createMetadataRoutes(manager: ProcessManager): DeclaredRoutes {
  const processId = (c: Context) => {
    const id = c.req.param('id') ?? '';
    if (!manager.has(id)) throw unknownProcess();
    return id;
  };
  const routes = new DeclaredRoutes();
  declareScope(routes, {
    path: '/process/{id}/metadata',
    whose: "The process's",
    read: (c) => manager.getMetadata(processId(c)) as Record<string, unknown>,
    write: (c, key, value) => manager.setMetadata(processId(c), key, value),
    missingKey: () => new HttpError(404, 'Unknown process ID', ['unknown key']),
    unknown: unknownProcessAnswer,
  });
  declareScope(routes, {
    path: '/metadata',
    whose: 'The global',
    read: () => manager.getGlobalMetadata() as Record<string, unknown>,
    write: (_c, key, value) => manager.setGlobalMetadata(key, value),
    missingKey: () => new HttpError(404, 'Metadata not found', ['unknown key']),
    unknown: {},
  });
  return routes;
}
