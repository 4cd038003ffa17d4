import { DeclaredRoutes, errorAnswer, jsonAnswer, named } from '@dragon/http-routes';
import { z } from 'zod';
import type { LogRing } from '../ops/log-ring.js';
import {
  type MetricsHistory,
  metricDescriptionSchema,
  metricsQuerySchema,
  metricsResponseSchema,
} from '../ops/metrics-history.js';
import { readJson } from './api-error.js';

/** `GET /api/v3/log`: datarhei's console lines, or with `format=raw` each event's fields. */
export const logSchema = z.union([z.array(z.string()), z.array(z.record(z.string(), z.unknown()))]);

/** `GET /api/v3/log` (`format=console|raw`) and datarhei's metrics API. */
export function createOpsRoutes(logRing: LogRing, metrics: MetricsHistory): DeclaredRoutes {
  return new DeclaredRoutes()
    .declare(
      {
        method: 'get',
        path: '/log',
        summary: "The server's recent log lines (`format=raw` for their fields)",
        query: { format: "`console` (the default): lines as text; `raw`: each event's fields" },
        responses: { 200: jsonAnswer('Log', named('Log', logSchema)) },
      },
      (c) => c.json(c.req.query('format') === 'raw' ? logRing.raw() : logRing.console()),
    )
    .declare(
      {
        method: 'get',
        path: '/metrics',
        summary: 'The metrics the history keeps',
        responses: {
          200: jsonAnswer('Metrics', named('MetricDescriptions', z.array(metricDescriptionSchema))),
        },
      },
      (c) => c.json(metrics.describe()),
    )
    .declare(
      {
        method: 'post',
        path: '/metrics',
        summary: 'Query the metrics history',
        body: named('MetricsQuery', metricsQuerySchema),
        responses: {
          200: jsonAnswer('Series', named('MetricsResponse', metricsResponseSchema)),
          400: errorAnswer('Invalid query'),
        },
      },
      async (c) => c.json(await metrics.query(metricsQuerySchema.parse(await readJson(c)))),
    );
}
