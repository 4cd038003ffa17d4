import { errorAnswer, mediaAnswer, noContent, type RouteDeclaration } from '@dragon/http-routes';

/**
 * Session ids are 16 random bytes in base64url: a fixed shape, so a fixed segment beside them
 * (`…/{name}/whep`, the WHEP viewers of a publication mounted beside these routes) never reads as
 * a session.
 */
const sessionIdPattern = '[A-Za-z0-9_-]{22}';

/**
 * The WHIP routes' declarations at `basePath` (OpenAPI's path form): the routes are registered from
 * them (`whip-routes.ts`) and an app documents them from `WhipRoutes.declarations`. WHIP answers
 * under its own token rule (RFC 9725 §4.5), not an API's: `auth: 'none'`.
 */
export function whipDeclarations(basePath: string) {
  const endpoint = `${basePath}/{name}`;
  const session = `${endpoint}/{sessionId}`;
  const params = { sessionId: sessionIdPattern };
  const unknownSession = { 404: errorAnswer('Unknown publisher session') };
  const denied = { 401: errorAnswer('Missing or invalid publishing token') };
  return {
    publish: {
      method: 'post',
      path: endpoint,
      summary: 'WHIP: publish a stream, an SDP offer in, an SDP answer out (201, Location of the session)',
      auth: 'none',
      body: 'application/sdp',
      responses: {
        201: mediaAnswer('Answer', 'application/sdp'),
        400: errorAnswer('Malformed SDP or stream name'),
        ...denied,
        409: errorAnswer('The stream has a live publisher'),
        413: errorAnswer('Offer too large'),
        415: errorAnswer('Not application/sdp'),
        422: errorAnswer('No usable codec'),
        429: errorAnswer('Too many offers from this address'),
        503: errorAnswer('Publication limit reached, or no ICE port free'),
      },
    },
    preflight: {
      method: 'options',
      path: endpoint,
      summary: 'CORS preflight of the WHIP endpoint (Accept-Post)',
      auth: 'none',
      responses: { 204: noContent('Allowed methods and headers') },
    },
    trickle: {
      method: 'patch',
      path: session,
      params,
      summary:
        'Trickle ICE candidates (204) or restart ICE with new credentials (200, If-Match) for a publisher session (application/trickle-ice-sdpfrag)',
      auth: 'none',
      body: 'text/plain',
      responses: {
        200: mediaAnswer(
          "ICE restarted: the server's new credentials and candidates, and a new ETag",
          'application/trickle-ice-sdpfrag',
        ),
        204: noContent('Applied'),
        400: errorAnswer('Malformed fragment or ICE credentials'),
        ...denied,
        412: errorAnswer('If-Match does not match'),
        422: errorAnswer('ICE restart not supported by the engine'),
        428: errorAnswer('An ICE restart needs If-Match'),
        ...unknownSession,
      },
    },
    end: {
      method: 'delete',
      path: session,
      params,
      summary: 'End a publisher session',
      auth: 'none',
      responses: { 200: noContent('Ended'), ...denied, ...unknownSession },
    },
    sessionPreflight: {
      method: 'options',
      path: session,
      params,
      summary: 'CORS preflight of a publisher session (Accept-Patch)',
      auth: 'none',
      responses: { 204: noContent('Allowed methods and headers') },
    },
  } satisfies Record<string, RouteDeclaration>;
}
