import { errorAnswer, mediaAnswer, noContent, type RouteDeclaration } from '@dragon/http-routes';

/**
 * The WHEP routes' declarations at `basePath` (OpenAPI's path form): the routes are registered from
 * them (`whep-routes.ts`) and an app documents them from `WhepRoutes.declarations`. WHEP answers
 * under its own token rule, not an API's: `auth: 'none'`.
 */
export function whepDeclarations(basePath: string) {
  const endpoint = `${basePath}/{id}/whep`;
  const session = `${endpoint}/{sessionId}`;
  const preflight = { 200: noContent('Allowed methods and headers, Accept-Post or Accept-Patch') };
  const unknownSession = { 404: errorAnswer('Unknown session') };
  const declare = (
    method: RouteDeclaration['method'],
    path: string,
    summary: string,
    responses: RouteDeclaration['responses'],
    body?: RouteDeclaration['body'],
  ): RouteDeclaration => ({ method, path, summary, auth: 'none', ...(body ? { body } : {}), responses });
  return {
    offer: declare(
      'post',
      endpoint,
      "WHEP: an SDP offer in, an SDP answer out (201, Location of the session); WHEP's token rule",
      {
        201: mediaAnswer('Answer', 'application/sdp'),
        400: errorAnswer('Malformed SDP'),
        401: errorAnswer('Missing or invalid viewer token'),
        404: errorAnswer('Unknown stream or WebRTC off'),
        409: errorAnswer('Stream not running yet'),
        413: errorAnswer('Offer too large'),
        415: errorAnswer('Not application/sdp'),
        422: errorAnswer('No usable codec'),
        429: errorAnswer('Too many offers from this address'),
        503: errorAnswer('Viewer limit reached, or no ICE port free'),
      },
      'application/sdp',
    ),
    discover: declare(
      'get',
      endpoint,
      'WHEP discovery: 200 with Content-Type application/sdp and no body (HEAD alike)',
      { 200: noContent('No content'), 404: errorAnswer('Unknown stream or WebRTC off') },
    ),
    preflight: declare('options', endpoint, 'CORS preflight of the WHEP endpoint', preflight),
    trickle: declare(
      'patch',
      session,
      'Trickle ICE candidates (204) or restart ICE with new credentials (200, If-Match) for a WHEP session (application/trickle-ice-sdpfrag)',
      {
        200: mediaAnswer(
          "ICE restarted: the server's new credentials and candidates, and a new ETag",
          'application/trickle-ice-sdpfrag',
        ),
        204: noContent('Applied'),
        400: errorAnswer('Malformed fragment or ICE credentials'),
        412: errorAnswer('If-Match does not match'),
        422: errorAnswer('ICE restart not supported by the engine'),
        428: errorAnswer('An ICE restart needs If-Match'),
        ...unknownSession,
      },
      'text/plain',
    ),
    end: declare('delete', session, 'End a WHEP session', { 200: noContent('Ended'), ...unknownSession }),
    session: declare('get', session, 'A WHEP session resource: 204, it has no representation', {
      204: noContent('The session exists'),
      ...unknownSession,
    }),
    sessionPreflight: declare('options', session, 'CORS preflight of a WHEP session', preflight),
  } satisfies Record<string, RouteDeclaration>;
}
