import { HttpError } from '@dragon/http-error';
import { DeclaredRoutes, errorAnswer, jsonAnswer, named, okAnswer } from '@dragon/http-routes';
import { z } from 'zod';
import { type ConfigStore, configViewSchema } from '../config/config-store.js';
import { fieldErrorsSchema } from '../config/errors.js';
import { readJson } from './api-error.js';

/** What `PUT /api/v3/config` takes: the store merges, validates and answers per field. */
const configUpdateSchema = z
  .record(z.string(), z.unknown())
  .describe('A complete or partial config (see ConfigView.config): named fields change, the rest stays');

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
export function createConfigRoutes(options: ConfigRoutesOptions): DeclaredRoutes {
  return new DeclaredRoutes()
    .declare(
      {
        method: 'get',
        path: '/config',
        summary:
          'The saved config with the environment applied (secrets redacted), which keys the environment overrides',
        responses: { 200: jsonAnswer('Config', named('ConfigView', configViewSchema)) },
      },
      (c) => c.json(options.configStore.view()),
    )
    .declare(
      {
        method: 'put',
        path: '/config',
        summary: 'Merge a complete or partial config into the saved one (applied by reload)',
        body: named('ConfigUpdate', configUpdateSchema),
        responses: {
          200: okAnswer('Saved'),
          400: errorAnswer('Malformed JSON or a wrong type'),
          409: jsonAnswer('Invalid values: messages per field', named('FieldErrors', fieldErrorsSchema)),
        },
      },
      async (c) => {
        // The store parses the update (datarhei's 400 and per-field 409 answers are its errors).
        await options.configStore.update(await readJson(c));
        return c.json('OK');
      },
    )
    .declare(
      {
        method: 'get',
        path: '/config/reload',
        summary: 'Apply the saved config; one that cannot start is rolled back to the last that ran',
        responses: { 200: okAnswer('OK'), 501: errorAnswer('This server cannot reload') },
      },
      (c) => {
        const reload = options.requestReload;
        if (!reload)
          throw new HttpError(501, 'Not Implemented', ['this server cannot reload its configuration']);
        // Answered first: the reload replaces the server that is answering.
        setImmediate(reload);
        return c.json('OK');
      },
    );
}
