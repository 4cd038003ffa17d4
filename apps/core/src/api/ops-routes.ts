import { Hono } from 'hono';
import { z } from 'zod';
import type { LogRing } from '../ops/log-ring.js';
import { type MetricsHistory, metricsQuerySchema } from '../ops/metrics-history.js';
import { readJson } from './api-error.js';

/** `GET /api/v3/log`: datarhei's console lines, or with `format=raw` each event's fields. */
export const logSchema = z.union([z.array(z.string()), z.array(z.record(z.string(), z.unknown()))]);

/** `GET /api/v3/log` (`format=console|raw`) and datarhei's metrics API. */
export function createOpsRoutes(logRing: LogRing, metrics: MetricsHistory): Hono {
  const routes = new Hono();
  routes.get('/log', (c) => c.json(c.req.query('format') === 'raw' ? logRing.raw() : logRing.console()));
  routes.get('/metrics', (c) => c.json(metrics.describe()));
  routes.post('/metrics', async (c) =>
    c.json(await metrics.query(metricsQuerySchema.parse(await readJson(c)))),
  );
  return routes;
}
