import { HttpError } from '@dragon/http-error';
import { Hono } from 'hono';
import type { ConfigStore } from '../config/config-store.js';
import { readJson } from './api-error.js';

export interface ConfigRoutesOptions {
  configStore: ConfigStore;
  /** Applies the saved config; datarhei restarts its core here. Absent: reload answers 501. */
  requestReload?: (() => void) | undefined;
}

/**
 * datarhei's `/api/v3/config` routes (`http/handler/api/config.go`), mounted behind the API guard:
 * `GET` the saved config with the environment applied (secrets redacted), `PUT` a complete or partial
 * config (merged, validated, checked, saved; `"OK"`; 400 for malformed JSON, a per-field 409 map for
 * invalid values), `GET /reload` to apply it.
 */
export function createConfigRoutes(options: ConfigRoutesOptions): Hono {
  const routes = new Hono();
  routes.get('/config', (c) => c.json(options.configStore.view()));
  routes.put('/config', async (c) => {
    await options.configStore.update(await readJson(c));
    return c.json('OK');
  });
  routes.get('/config/reload', (c) => {
    const reload = options.requestReload;
    if (!reload) throw new HttpError(501, 'Not Implemented', ['this server cannot reload its configuration']);
    // Answered first: the reload replaces the server that is answering.
    setImmediate(reload);
    return c.json('OK');
  });
  return routes;
}
