import { HttpError } from '@dragon/http-error';
import { DeclaredRoutes, errorAnswer, jsonAnswer, named } from '@dragon/http-routes';
import type { ProcessManager } from '@dragon/restream';
import type { SessionRegistry } from '@dragon/sessions';
import { z } from 'zod';

/**
 * datarhei's public `GET /api/v3/widget/process/{id}`: uptime and viewer counts for an embeddable
 * widget. HLS sessions count as datarhei counts them (reference prefixed by the process's reference);
 * Dragon adds the process's WebRTC viewers.
 */
/** datarhei's `api.WidgetProcess`. */
export const widgetProcessSchema = z.object({
  current_sessions: z.number(),
  total_sessions: z.number(),
  uptime: z.number(),
});

const declaration = {
  method: 'get',
  path: '/widget/process/{id}',
  summary: 'Uptime and viewer counts for an embeddable widget',
  auth: 'none',
  responses: {
    200: jsonAnswer('Widget', named('WidgetProcess', widgetProcessSchema)),
    404: errorAnswer('Unknown process'),
  },
} as const;

export function createWidgetRoutes(manager: ProcessManager, registry: SessionRegistry): DeclaredRoutes {
  return new DeclaredRoutes().declare(declaration, (c) => {
    const id = c.req.param('id') ?? '';
    if (!manager.has(id)) throw new HttpError(404, 'Unknown process ID', [`no process "${id}"`]);
    const { reference } = manager.getConfig(id);
    const state = manager.getState(id);
    const hls = registry.summary('hls');
    const webrtc = registry.summary('webrtc');
    let current = hls.active.list.filter((session) => session.reference.startsWith(reference)).length;
    let total = Object.entries(hls.summary.reference)
      .filter(([name]) => name.startsWith(reference))
      .reduce((sum, [, stats]) => sum + stats.sessions, 0);
    current += webrtc.active.list.filter((session) => session.reference === id).length;
    total += webrtc.summary.reference[id]?.sessions ?? 0;
    return c.json({
      current_sessions: current,
      total_sessions: total,
      uptime: state.exec === 'running' ? Math.floor(state.runtime_seconds) : 0,
    } satisfies z.infer<typeof widgetProcessSchema>);
  });
}
