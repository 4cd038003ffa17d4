import type { SessionRegistry } from '@dragon/sessions';
import { Hono } from 'hono';

/** datarhei's `?collectors=a,b`: an absent list is one empty name, answered like any unknown collector. */
const collectorsOf = (query: string | undefined) => (query ?? '').split(',').map((name) => name.trim());

/** `GET /api/v3/session` (summary per collector) and `GET /api/v3/session/active`, as datarhei. */
export function createSessionRoutes(registry: SessionRegistry): Hono {
  const routes = new Hono();
  routes.get('/session', (c) =>
    c.json(
      Object.fromEntries(
        collectorsOf(c.req.query('collectors')).map((name) => [name, registry.summary(name)]),
      ),
    ),
  );
  routes.get('/session/active', (c) =>
    c.json(
      Object.fromEntries(
        collectorsOf(c.req.query('collectors')).map((name) => [name, registry.active(name)]),
      ),
    ),
  );
  return routes;
}
