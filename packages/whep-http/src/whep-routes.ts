import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { corsHeaders, preflight } from './cors.js';
import { MethodNotAllowedError, ProcessNotFoundError, WhepError } from './errors.js';
import { authorizeProcess, handleOffer } from './offer.js';
import {
  type ResolvedWhepOptions,
  resolveOptions,
  type WhepRoutesOptions,
  type WhepSource,
} from './options.js';
import { authorizeSession, handlePatch } from './patch.js';
import { RateLimiter } from './rate-limiter.js';
import { SessionRegistry, type WhepSessions } from './session-registry.js';

/** What `createWhepRoutes` returns: the routes to mount and the sessions they hold. */
export interface WhepRoutes {
  /** Mount with `app.route('/', routes)`; change `basePath` rather than mounting under a prefix. */
  routes: Hono;
  sessions: WhepSessions;
}

/** The one place errors become responses: `{code, message, details}` (datarhei), `code` = HTTP status. */
function errorResponse(error: Error, c: Context, options: ResolvedWhepOptions<WhepSource>): Response {
  const log = { path: c.req.path, method: c.req.method };
  if (error instanceof WhepError) {
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    const status = error.status as ContentfulStatusCode;
    return c.json({ code: status, message: error.message, details: [error.code, ...error.details] }, status);
  }
  options.logger.error({ ...log, err: error }, 'whep request failed');
  return c.json({ code: 500, message: 'Internal server error', details: [] }, 500);
}

/**
 * Creates the WHEP routes (draft-ietf-wish-whep, RFC 9725 for the shared rules):
 * `POST|GET|HEAD|OPTIONS ${basePath}/:id/whep` and `PATCH|DELETE|GET|HEAD|OPTIONS ${basePath}/:id/whep/:sessionId`.
 *
 * @throws InvalidWhepOptionsError when the options do not validate.
 * @example
 * const whep = createWhepRoutes({ lookup: (id) => registry.get(id), createPeer: (source, offer) => createPeer(source, offer) });
 * app.route('/', whep.routes);
 * onProcessStop((id) => whep.sessions.closeAll(id));
 */
export function createWhepRoutes<S extends WhepSource>(options: WhepRoutesOptions<S>): WhepRoutes {
  const resolved = resolveOptions(options);
  const sessions = new SessionRegistry(resolved.logger);
  const rateLimiter =
    resolved.rateLimit === undefined
      ? undefined
      : new RateLimiter({ windowMs: resolved.rateLimit.windowMs, max: resolved.rateLimit.maxOffers });
  const endpoint = `${resolved.basePath}/:id/whep`;
  const session = `${endpoint}/:sessionId`;
  const routes = new Hono();

  // Middleware only on these two paths: a `use('*')` would leak into the app mounting the routes.
  routes.use(endpoint, corsHeaders(resolved.corsOrigin));
  routes.use(session, corsHeaders(resolved.corsOrigin));

  routes.options(endpoint, preflight('endpoint'));
  routes.post(endpoint, (c) => handleOffer(c, { options: resolved, sessions, rateLimiter }));
  // WHEP §4.1: no representation, so 2xx without content. §4.2 (discoverability): HEAD → 200 with
  // Content-Type application/sdp; HEAD mirrors GET (Hono answers HEAD with the GET handler, body dropped).
  routes.get(endpoint, (c) => {
    const processId = c.req.param('id') ?? '';
    if (authorizeProcess(c, resolved, processId) === undefined) throw new ProcessNotFoundError(processId);
    c.header('Content-Type', 'application/sdp');
    c.header('Content-Length', '0');
    return c.body(null, 200);
  });
  routes.all(endpoint, (c) => {
    throw new MethodNotAllowedError(c.req.method, 'POST, GET, HEAD, OPTIONS');
  });

  routes.options(session, preflight('session'));
  routes.patch(session, (c) => handlePatch(c, resolved, sessions));
  routes.delete(session, (c) => {
    // WHEP §4.3: 200 OK; If-Match is ignored on DELETE (§4.4.1).
    const found = authorizeSession(c, resolved, sessions);
    sessions.close(found.id);
    resolved.logger.info(
      { processId: found.processId, sessionId: found.id, peerId: found.peer.id },
      'whep session deleted',
    );
    c.header('Content-Length', '0');
    return c.body(null, 200);
  });
  routes.get(session, (c) => {
    authorizeSession(c, resolved, sessions);
    return c.body(null, 204);
  });
  routes.all(session, (c) => {
    throw new MethodNotAllowedError(c.req.method, 'PATCH, DELETE, GET, HEAD, OPTIONS');
  });

  routes.onError((error, c) => errorResponse(error, c, resolved as ResolvedWhepOptions<WhepSource>));
  return { routes, sessions };
}
