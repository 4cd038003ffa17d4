import { DeclaredRoutes, jsonAnswer, named } from '@dragon/http-routes';
import { type SessionRegistry, sessionJsonSchema, sessionSummaryJsonSchema } from '@dragon/sessions';
import { z } from 'zod';

/** datarhei's `?collectors=a,b`: an absent list is one empty name, answered like any unknown collector. */
const collectorsOf = (query: string | undefined) => (query ?? '').split(',').map((name) => name.trim());
const collectors = { collectors: 'Which collectors, comma-separated: hls, rtmp, srt, webrtc, …' };

/** `GET /api/v3/session` (summary per collector) and `GET /api/v3/session/active`, as datarhei. */
export function createSessionRoutes(registry: SessionRegistry): DeclaredRoutes {
  return new DeclaredRoutes()
    .declare(
      {
        method: 'get',
        path: '/session',
        summary: 'Session summary per collector (`collectors=hls,rtmp,srt,webrtc,…`)',
        query: collectors,
        responses: {
          200: jsonAnswer(
            'Summaries',
            named('SessionSummaries', z.record(z.string(), sessionSummaryJsonSchema)),
          ),
        },
      },
      (c) =>
        c.json(
          Object.fromEntries(
            collectorsOf(c.req.query('collectors')).map((name) => [name, registry.summary(name)]),
          ),
        ),
    )
    .declare(
      {
        method: 'get',
        path: '/session/active',
        summary: 'Active sessions per collector',
        query: collectors,
        responses: {
          200: jsonAnswer(
            'Sessions',
            named('ActiveSessions', z.record(z.string(), z.array(sessionJsonSchema))),
          ),
        },
      },
      (c) =>
        c.json(
          Object.fromEntries(
            collectorsOf(c.req.query('collectors')).map((name) => [name, registry.active(name)]),
          ),
        ),
    );
}
