import { HttpError } from '@dragon/http-error';
import { DeclaredRoutes, errorAnswer, jsonAnswer, mediaAnswer, named } from '@dragon/http-routes';
import type { WhepRoutes } from '@dragon/whep-http';
import { ProcessNotFoundError } from '@dragon/whep-http';
import { playerPage } from '../ops/player-page.js';
import { viewerSessionQuerySchema, viewerStatus, viewerStatusSchema } from '../webrtc/webrtc-status.js';
import type { WebRtcSubsystem } from '../webrtc/webrtc-subsystem.js';

/**
 * `GET /player/{id}`, the player page, and with WebRTC on `GET /player/{id}/status`: what the player
 * tells its viewer (plan line, "not decodable" and why), under WHEP's token rule: codecs and our own
 * health words only, never the input's address or FFmpeg's log.
 */
export function createPlayerRoutes(
  whep: { routes: WhepRoutes; subsystem: WebRtcSubsystem } | undefined,
): DeclaredRoutes {
  const routes = new DeclaredRoutes();
  if (whep) {
    routes.declare(
      {
        method: 'get',
        path: '/player/{id}/status',
        summary:
          "What the player tells its viewer: the process's state, the plan's codecs and the video's health (WHEP's token rule; no input address, no log; with WebRTC on)",
        auth: 'none',
        query: {
          session:
            "The viewer's own WHEP session id (the last segment of its Location): adds `viewer`, where that adaptive viewer stands",
        },
        responses: {
          200: jsonAnswer('Status', named('ViewerStatus', viewerStatusSchema)),
          400: errorAnswer('Malformed session id'),
          401: errorAnswer('Missing or invalid viewer token'),
          404: errorAnswer('Unknown process or WebRTC off'),
        },
      },
      (c) => {
        const processId = c.req.param('id') ?? '';
        const entry = whep.routes.authorize(c, processId);
        if (!entry) throw new ProcessNotFoundError(processId);
        const query = viewerSessionQuerySchema.safeParse({ session: c.req.query('session') });
        if (!query.success) {
          throw new HttpError(400, 'Invalid session', ['session: a WHEP session id, as in its Location'], {
            code: 'SESSION_INVALID',
          });
        }
        // Knowing the session id is the proof: it is random and only its viewer was told it.
        const session =
          query.data.session === undefined
            ? undefined
            : whep.routes.sessions.get(processId, query.data.session);
        c.header('Cache-Control', 'no-store');
        return c.json(viewerStatus(entry.state, whep.subsystem.status(processId), session));
      },
    );
  }
  // The player is made to be embedded (an iframe on a channel's website): any page may frame it.
  return routes.declare(
    {
      method: 'get',
      path: '/player/{id}',
      summary: 'The player page for a process',
      auth: 'none',
      responses: { 200: mediaAnswer('HTML', 'text/html') },
    },
    (c) =>
      c.html(playerPage(c.req.param('id') ?? ''), 200, { 'Content-Security-Policy': 'frame-ancestors *' }),
  );
}
