import { DeclaredRoutes, honoPath, type RouteDeclaration } from '@dragon/http-routes';
import {
  answerIceRestart,
  corsHeaders,
  ifMatchSatisfied,
  MethodNotAllowedError,
  PreconditionFailedError,
  PreconditionRequiredError,
  parseSdpFragment,
  RateLimiter,
  readBodyLimited,
  requireContentType,
} from '@dragon/whep-http';
import type { Context, Hono } from 'hono';
import { PublishAccess } from './access.js';
import { PublisherSessionNotFoundError } from './errors.js';
import { resolveOptions, type WhipPublisher, type WhipRoutesOptions } from './options.js';
import { PublicationRegistry, type PublisherSession, type WhipPublications } from './publication-registry.js';
import { handlePublish } from './publish.js';
import { whipDeclarations } from './whip-declarations.js';

/** What `createWhipRoutes` returns: the routes to mount and the publications they hold. */
export interface WhipRoutes {
  /** Mount with `app.route('/', routes)`; change `basePath` rather than mounting under a prefix. */
  routes: Hono;
  /** What `routes` serves, with its answers (`@dragon/http-routes`): for the app's API description. */
  declarations: readonly RouteDeclaration[];
  publications: WhipPublications;
}

const endpointMethods = 'POST, OPTIONS';
const sessionMethods = 'PATCH, DELETE, OPTIONS';

/** OPTIONS (RFC 9725 §4.2): a CORS preflight, plus `Accept-Post`/`Accept-Patch`. */
function preflight(kind: 'endpoint' | 'session'): (c: Context) => Response {
  return (c) => {
    const allow = kind === 'endpoint' ? endpointMethods : sessionMethods;
    c.header('Access-Control-Allow-Methods', allow);
    c.header('Access-Control-Allow-Headers', 'Authorization, Content-Type, If-Match');
    c.header('Access-Control-Max-Age', '7200');
    c.header('Allow', allow);
    if (kind === 'endpoint') c.header('Accept-Post', 'application/sdp');
    else c.header('Accept-Patch', 'application/trickle-ice-sdpfrag');
    return c.body(null, 204);
  };
}

/**
 * Creates the WHIP routes (RFC 9725): `POST|OPTIONS ${basePath}/:name` and
 * `PATCH|DELETE|OPTIONS ${basePath}/:name/:sessionId`; other methods 405 with `Allow`.
 * The engine (`createPublisher`) is handed in here and is all the routes know of WebRTC.
 *
 * Failures are thrown as `HTTPException`s: the app that mounts the routes renders them in its `onError`.
 *
 * @throws InvalidWhipOptionsError when the options do not validate.
 * @example
 * const whip = createWhipRoutes({ token: 'secret', createPublisher: (offer, { name }) => publishers.create(name, offer) });
 * app.route('/', whip.routes);
 */
export function createWhipRoutes<P extends WhipPublisher>(options: WhipRoutesOptions<P>): WhipRoutes {
  const resolved = resolveOptions(options);
  const access = new PublishAccess(resolved);
  const publications = new PublicationRegistry<P>(resolved.logger);
  const limit = resolved.offerLimit;
  const offerLimiter = limit === false ? undefined : new RateLimiter(limit);
  const declared = whipDeclarations(resolved.basePath);
  const endpoint = honoPath(declared.publish.path);
  const session = honoPath(declared.end.path, declared.end.params);
  const routes = new DeclaredRoutes();
  const app = routes.app;

  const authorized = (c: Context): PublisherSession<P> => {
    const name = c.req.param('name') ?? '';
    const sessionId = c.req.param('sessionId') ?? '';
    // The same token as the POST: nobody else may end or steer a publisher's session.
    access.authorize(c, name);
    const found = publications.session(name, sessionId);
    if (found === undefined) throw new PublisherSessionNotFoundError(name, sessionId);
    return found;
  };

  app.use(endpoint, corsHeaders(resolved.corsOrigin));
  app.use(session, corsHeaders(resolved.corsOrigin));

  routes.declare(declared.preflight, preflight('endpoint'));
  routes.declare(declared.publish, (c) =>
    handlePublish(c, { options: resolved, access, publications, offerLimiter }),
  );
  app.all(endpoint, (c) => {
    throw new MethodNotAllowedError(c.req.method, endpointMethods);
  });

  routes.declare(declared.sessionPreflight, preflight('session'));
  routes.declare(declared.trickle, async (c) => {
    const found = authorized(c);
    requireContentType(c.req.header('content-type'), 'application/trickle-ice-sdpfrag');
    const fragment = parseSdpFragment(await readBodyLimited(c.req.raw, resolved.maxBodyBytes));
    const restart =
      fragment.ufrag !== undefined &&
      (fragment.ufrag !== found.remoteUfrag || fragment.pwd !== found.remotePwd);
    // RFC 9725 §4.3.1: an ICE restart needs If-Match; a trickle may carry one, which must match.
    const ifMatch = c.req.header('if-match');
    if (ifMatch === undefined && restart) throw new PreconditionRequiredError(found.id);
    if (ifMatch !== undefined && !ifMatchSatisfied(ifMatch, found.etag)) {
      throw new PreconditionFailedError(found.id, ifMatch);
    }
    if (restart) {
      return answerIceRestart(c, found, found.publisher, fragment, {
        role: 'publisher',
        logger: resolved.logger,
        log: { stream: found.name },
      });
    }
    const log = { stream: found.name, sessionId: found.id, peerId: found.publisher.id };
    for (const candidate of fragment.candidates) {
      try {
        await found.publisher.addRemoteCandidate(candidate);
      } catch (error) {
        // A candidate the server cannot use is discarded; the others still count.
        resolved.logger.debug({ ...log, candidate, err: error }, 'whip remote candidate discarded');
      }
    }
    return c.body(null, 204);
  });
  routes.declare(declared.end, (c) => {
    const found = authorized(c);
    publications.close(found.id, found.name);
    resolved.logger.info(
      { stream: found.name, sessionId: found.id, peerId: found.publisher.id },
      'whip publisher deleted',
    );
    return c.body(null, 200);
  });
  app.all(session, (c) => {
    throw new MethodNotAllowedError(c.req.method, sessionMethods);
  });

  return { routes: app, declarations: routes.declarations, publications };
}
