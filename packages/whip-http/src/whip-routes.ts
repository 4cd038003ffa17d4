import {
  corsHeaders,
  IceRestartUnsupportedError,
  ifMatchSatisfied,
  MethodNotAllowedError,
  PreconditionFailedError,
  PreconditionRequiredError,
  parseSdpFragment,
  RateLimiter,
  readBodyLimited,
  requireContentType,
} from '@dragon/whep-http';
import { type Context, Hono } from 'hono';
import { PublishAccess } from './access.js';
import { PublisherSessionNotFoundError } from './errors.js';
import { resolveOptions, type WhipPublisher, type WhipRoutesOptions } from './options.js';
import { PublicationRegistry, type PublisherSession, type WhipPublications } from './publication-registry.js';
import { handlePublish } from './publish.js';

/** What `createWhipRoutes` returns: the routes to mount and the publications they hold. */
export interface WhipRoutes {
  /** Mount with `app.route('/', routes)`; change `basePath` rather than mounting under a prefix. */
  routes: Hono;
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
  const endpoint = `${resolved.basePath}/:name`;
  // Session ids are 16 random bytes in base64url: a fixed shape, so `…/{name}/whep` (the WHEP
  // viewers of a publication, mounted beside these routes) never reads as a session.
  const session = `${endpoint}/:sessionId{[A-Za-z0-9_-]{22}}`;
  const routes = new Hono();

  const authorized = (c: Context): PublisherSession<P> => {
    const name = c.req.param('name') ?? '';
    const sessionId = c.req.param('sessionId') ?? '';
    // The same token as the POST: nobody else may end or steer a publisher's session.
    access.authorize(c, name);
    const found = publications.session(name, sessionId);
    if (found === undefined) throw new PublisherSessionNotFoundError(name, sessionId);
    return found;
  };

  routes.use(endpoint, corsHeaders(resolved.corsOrigin));
  routes.use(session, corsHeaders(resolved.corsOrigin));

  routes.options(endpoint, preflight('endpoint'));
  routes.post(endpoint, (c) => handlePublish(c, { options: resolved, access, publications, offerLimiter }));
  routes.all(endpoint, (c) => {
    throw new MethodNotAllowedError(c.req.method, endpointMethods);
  });

  routes.options(session, preflight('session'));
  routes.patch(session, async (c) => {
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
    const log = { stream: found.name, sessionId: found.id, peerId: found.publisher.id };
    if (restart) {
      // §4.3.2: a server that cannot restart ICE answers so and keeps the session; the publisher
      // then starts over with a new POST, which replaces this one once it is stale.
      resolved.logger.info(log, 'whip ice restart refused: not supported');
      throw new IceRestartUnsupportedError(found.id);
    }
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
  routes.delete(session, (c) => {
    const found = authorized(c);
    publications.close(found.id, found.name);
    resolved.logger.info(
      { stream: found.name, sessionId: found.id, peerId: found.publisher.id },
      'whip publisher deleted',
    );
    return c.body(null, 200);
  });
  routes.all(session, (c) => {
    throw new MethodNotAllowedError(c.req.method, sessionMethods);
  });

  return { routes, publications };
}
