import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { errorBody } from './error-body.js';
import { detailsOf, HttpError, issueLines } from './errors.js';

/**
 * The one place errors become HTTP answers, for `app.onError(errorResponse)`. Every answer has the
 * body `{code, message, details}`:
 * - an {@link HttpError}: its status, message, code + details and headers;
 * - any other Hono `HTTPException` (a middleware's): its status and message (`Error` when empty),
 *   a string `code` property, then a `details` (or zod-like `issues`) array, as the details, and the
 *   headers of its `res` (`Retry-After`…);
 * - a `ZodError` (a request that did not parse): 400 `Invalid request` with one line per issue;
 * - anything else: 500 `Internal server error` and nothing more — exception text stays on the server.
 */
export function errorResponse(error: unknown, c: Context): Response {
  if (error instanceof HttpError) {
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    return c.json(error.body(), error.status);
  }
  if (error instanceof HTTPException) {
    // Hono's convention: the headers an answer needs (Retry-After, WWW-Authenticate…) ride in `res`.
    error.res?.headers.forEach((value, name) => {
      if (name !== 'content-type' && name !== 'content-length') c.header(name, value);
    });
    const status = error.status as ContentfulStatusCode;
    const code = (error as { code?: unknown }).code;
    const details = [...(typeof code === 'string' ? [code] : []), ...detailsOf(error)];
    return c.json(errorBody(status, error.message || 'Error', details), status);
  }
  if (error instanceof z.ZodError) {
    return c.json(errorBody(400, 'Invalid request', issueLines(error.issues)), 400);
  }
  return c.json(errorBody(500, 'Internal server error'), 500);
}
