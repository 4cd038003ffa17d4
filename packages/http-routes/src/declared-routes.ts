import { errorBodySchema } from '@dragon/http-error';
import { type Handler, Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';

/**
 * Routes declared once: each declaration names its method, path, request and answers with the zod
 * schemas the handler parses and builds by, the handler is registered from it, and an app generates
 * its OpenAPI document from the declarations it ends up with — its own and those of the route
 * packages it mounts, which hand theirs over beside their routes.
 *
 * Why not `@hono/zod-openapi`: its request validators put a 415 gate before every JSON body and
 * answer a failed parse in their own words, where datarhei's handlers read any content type and
 * answer `Invalid JSON`, `Invalid process config`, … (the contract tests check those words); and
 * its converter (zod-to-openapi 9) fails on two of the answer schemas (datarhei's `z.json()`
 * metadata inside an object, the SRT channel listing). zod's own `z.toJSONSchema` converts them all.
 */

export type Method = 'get' | 'head' | 'post' | 'put' | 'patch' | 'delete' | 'options';
/** Media types of bodies that are not JSON. */
export type Media =
  | 'text/plain'
  | 'text/html'
  | 'application/sdp'
  | 'application/trickle-ice-sdpfrag'
  | 'application/octet-stream';

/** A schema and the component name it is documented under (`#/components/schemas/<name>`). */
export interface Named {
  readonly name: string;
  readonly schema: z.ZodType;
}
export const named = (name: string, schema: z.ZodType): Named => ({ name, schema });

/** An answer: a JSON body of a named schema, a body of another media type, or none. */
export interface Answer {
  description: string;
  json?: Named;
  media?: Media;
}

export interface RouteDeclaration {
  method: Method;
  /** OpenAPI's form, relative to where the routes are mounted: `/process/{id}`, `/fs/{name}/{path}`. */
  path: string;
  /**
   * Path parameters that match only a pattern (a regular expression without anchors), name →
   * pattern: Hono's `:name{pattern}`, the parameter's `pattern` in the document.
   * @example { sessionId: '[A-Za-z0-9_-]{22}' }
   */
  params?: Record<string, string>;
  summary: string;
  /** Which credentials: the API's bearer token (default), none, or memfs's Basic auth. */
  auth?: 'none' | 'basic';
  /** Query parameters, name → what it does. */
  query?: Record<string, string>;
  /** The request body: JSON of a named schema (parsed by the handler with it), or a media type. */
  body?: Named | Media;
  responses: Record<number, Answer>;
}

export const jsonAnswer = (description: string, json: Named): Answer => ({ description, json });
/** An answer without a body. */
export const noContent = (description: string): Answer => ({ description });
export const mediaAnswer = (description: string, media: Media): Answer => ({ description, media });
/** datarhei's `"OK"` of a command, a delete, a saved config. */
export const okAnswer = (description: string): Answer => ({ description, json: named('Ok', okSchema) });
const okSchema = z.literal('OK');

/** An error answer: datarhei's `api.Error` body. */
export const errorAnswer = (description: string): Answer => ({
  description,
  json: named('Error', errorBodySchema),
});

/** Hono's form of a declared path: `{id}` → `:id` (`:id{pattern}` with `params`), a trailing `{path}` → `*`. */
export const honoPath = (path: string, params: Record<string, string> = {}): string =>
  path
    .replace(/\/\{path\}$/, '/*')
    .replace(/\{(\w+)\}/g, (_, name: string) => (params[name] ? `:${name}{${params[name]}}` : `:${name}`));

/** The declaration's path below `prefix` (`/api/v3` + `/process` → `/api/v3/process`). */
const under = (prefix: string, path: string) => `${prefix.replace(/\/$/, '')}${path}` || '/';

/**
 * A Hono app whose routes are registered from their declarations. `mount` merges another one's
 * routes and declarations; `document` adds the declarations of routes mounted by other means.
 * Middleware and fallbacks (`app.use`, a 405 on `app.all`) go on `app` directly: they are no
 * operations of the document.
 * @example
 * const routes = new DeclaredRoutes().declare(
 *   { method: 'get', path: '/ping', summary: 'Liveness', auth: 'none', responses: { 200: mediaAnswer('pong', 'text/plain') } },
 *   (c) => c.text('pong'),
 * );
 * app.route('/', routes.app);
 */
export class DeclaredRoutes {
  readonly app = new Hono();
  readonly #declarations: RouteDeclaration[] = [];

  /**
   * Registers `handlers` at the declaration's method and path, and documents it: middleware of this
   * route alone (a write guard) first, the handler last.
   */
  declare(declaration: RouteDeclaration, ...handlers: [...MiddlewareHandler[], Handler]): this {
    this.#declarations.push(declaration);
    this.app.on(
      declaration.method.toUpperCase(),
      honoPath(declaration.path, declaration.params),
      ...(handlers as [Handler]),
    );
    return this;
  }

  /** Mounts `routes` at `prefix`, with their declarations. */
  mount(prefix: string, routes: DeclaredRoutes): this {
    this.app.route(prefix, routes.app);
    return this.document(prefix, routes.declarations);
  }

  /** Adds the declarations of routes mounted at `prefix` by other means. */
  document(prefix: string, declarations: readonly RouteDeclaration[]): this {
    for (const declaration of declarations) {
      this.#declarations.push({ ...declaration, path: under(prefix, declaration.path) });
    }
    return this;
  }

  get declarations(): readonly RouteDeclaration[] {
    return this.#declarations;
  }
}
