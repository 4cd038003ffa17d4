import { DeclaredRoutes, type RouteDeclaration } from '@dragon/http-routes';
import type { Context, Hono } from 'hono';
import { ProcessAccess } from './access.js';
import { corsHeaders, preflight } from './cors.js';
import { MethodNotAllowedError, ProcessNotFoundError } from './errors.js';
import { handleOffer } from './offer.js';
import { resolveOptions, type WhepProcessEntry, type WhepRoutesOptions, type WhepSource } from './options.js';
import { authorizeSession, handlePatch } from './patch.js';
import { RateLimiter } from './rate-limiter.js';
import { RefusalLog } from './refusal-log.js';
import { SessionRegistry, type WhepSessions } from './session-registry.js';
import { whepDeclarations } from './whep-declarations.js';

/** What `createWhepRoutes` returns: the routes to mount and the sessions they hold. */
export interface WhepRoutes<S extends WhepSource = WhepSource> {
  /** Mount with `app.route('/', routes)`; change `basePath` rather than mounting under a prefix. */
  routes: Hono;
  /** What `routes` serves, with its answers (`@dragon/http-routes`): for the app's API description. */
  declarations: readonly RouteDeclaration[];
  sessions: WhepSessions;
  /**
   * The routes' own token check, for routes of your own that tell a viewer about a process (a
   * status for a player): the process's entry, or `undefined` when there is no WHEP for it.
   * Throws `UnauthorizedError` (401) and `RateLimitedError` (429) exactly as the WHEP routes do,
   * failures counted against the same per-address limit.
   */
  authorize(c: Context, processId: string): WhepProcessEntry<S> | undefined;
}

/**
 * Creates the WHEP routes (draft-ietf-wish-whep, RFC 9725 for the shared rules):
 * `POST|GET|HEAD|OPTIONS ${basePath}/:id/whep` and `PATCH|DELETE|GET|HEAD|OPTIONS ${basePath}/:id/whep/:sessionId`.
 *
 * Failures are thrown as `WhepError`s (Hono `HTTPException`s): the app that mounts the routes
 * renders them in its `onError`.
 *
 * @throws InvalidWhepOptionsError when the options do not validate.
 * @example
 * const whep = createWhepRoutes({ lookup: (id) => registry.get(id), createPeer: (source, offer) => createPeer(source, offer) });
 * app.route('/', whep.routes);
 * onProcessStop((id) => whep.sessions.closeAll(id));
 */
export function createWhepRoutes<S extends WhepSource>(options: WhepRoutesOptions<S>): WhepRoutes<S> {
  const resolved = resolveOptions(options);
  const access = new ProcessAccess(resolved);
  const sessions = new SessionRegistry(resolved.logger);
  const offerLimiter =
    resolved.rateLimit === undefined
      ? undefined
      : new RateLimiter({ windowMs: resolved.rateLimit.windowMs, max: resolved.rateLimit.maxOffers });
  // Anyone can send offers: one short line per refusal, at most one per code every 10 s.
  const refusals = new RefusalLog(resolved.logger, 10_000);
  const endpoint = `${resolved.basePath}/:id/whep`;
  const session = `${endpoint}/:sessionId`;
  const declared = whepDeclarations(resolved.basePath);
  const routes = new DeclaredRoutes();
  const app = routes.app;

  // Middleware only on these two paths: a `use('*')` would leak into the app mounting the routes.
  app.use(endpoint, corsHeaders(resolved.corsOrigin));
  app.use(session, corsHeaders(resolved.corsOrigin));

  routes.declare(declared.preflight, preflight('endpoint'));
  routes.declare(declared.offer, (c) =>
    handleOffer(c, { options: resolved, access, sessions, offerLimiter, refusals }),
  );
  // WHEP §4.1: no representation, so 2xx without content. §4.2 (discoverability): HEAD → 200 with
  // Content-Type application/sdp; HEAD mirrors GET (Hono answers HEAD with the GET handler, body dropped).
  routes.declare(declared.discover, (c) => {
    const processId = c.req.param('id') ?? '';
    if (access.authorize(c, processId) === undefined) throw new ProcessNotFoundError(processId);
    c.header('Content-Type', 'application/sdp');
    c.header('Content-Length', '0');
    return c.body(null, 200);
  });
  app.all(endpoint, (c) => {
    throw new MethodNotAllowedError(c.req.method, 'POST, GET, HEAD, OPTIONS');
  });

  routes.declare(declared.sessionPreflight, preflight('session'));
  routes.declare(declared.trickle, (c) => handlePatch(c, { options: resolved, access, sessions }));
  routes.declare(declared.end, (c) => {
    // WHEP §4.3: 200 OK; If-Match is ignored on DELETE (§4.4.1).
    const found = authorizeSession(c, access, sessions);
    sessions.close(found.id);
    resolved.logger.info(
      { processId: found.processId, sessionId: found.id, peerId: found.peer.id },
      'whep session deleted',
    );
    c.header('Content-Length', '0');
    return c.body(null, 200);
  });
  routes.declare(declared.session, (c) => {
    authorizeSession(c, access, sessions);
    return c.body(null, 204);
  });
  app.all(session, (c) => {
    throw new MethodNotAllowedError(c.req.method, 'PATCH, DELETE, GET, HEAD, OPTIONS');
  });

  return {
    routes: app,
    declarations: routes.declarations,
    sessions,
    authorize: (c, processId) => access.authorize(c, processId),
  };
}
