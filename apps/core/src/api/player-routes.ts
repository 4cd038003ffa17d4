import { DeclaredRoutes, errorAnswer, jsonAnswer, mediaAnswer, named } from '@dragon/http-routes';
import type { WhepRoutes } from '@dragon/whep-http';
import { ProcessNotFoundError } from '@dragon/whep-http';
import { playerPage } from '../ops/player-page.js';
import { viewerStatus, viewerStatusSchema } from '../webrtc/webrtc-status.js';
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
        responses: {
          200: jsonAnswer('Status', named('ViewerStatus', viewerStatusSchema)),
          401: errorAnswer('Missing or invalid viewer token'),
          404: errorAnswer('Unknown process or WebRTC off'),
        },
      },
      (c) => {
        const processId = c.req.param('id') ?? '';
        const entry = whep.routes.authorize(c, processId);
        if (!entry) throw new ProcessNotFoundError(processId);
        c.header('Cache-Control', 'no-store');
        return c.json(viewerStatus(entry.state, whep.subsystem.status(processId)));
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
