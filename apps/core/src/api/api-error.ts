import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { ConfigInvalidError, ConfigMalformedError, ConfigWriteError } from '../config/errors.js';

/** Every error answer's body, datarhei's `api.Error`. */
export const errorBodySchema = z.object({
  code: z.number().int(),
  message: z.string(),
  details: z.array(z.string()),
});
type ErrorBody = z.infer<typeof errorBodySchema>;
const body = (code: number, message: string, details: string[]): ErrorBody => ({ code, message, details });

/** An error that already knows its HTTP answer. Body shape is datarhei's: `{code, message, details}`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly details: string[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * Maps the typed errors of the packages that know nothing of HTTP (by their `code`) to statuses.
 * HTTP-facing errors (WHEP's) are `HTTPException`s and carry their status themselves.
 */
const statusByCode: Record<string, ContentfulStatusCode> = {
  PROCESS_NOT_FOUND: 404,
  PROCESS_EXISTS: 400,
  PROCESS_CONFIG_INVALID: 400,
  METADATA_KEY_INVALID: 400,
  METADATA_TOO_LARGE: 413,
  FFMPEG_ACCESS_DENIED: 400,
  STORE_FULL: 507,
  GLOB_SYNTAX: 400,
  CONFIG_DIRECTORY_UNSAFE: 400,
};

function detailsOf(error: unknown): string[] {
  if (error instanceof z.ZodError)
    return error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  const details = (error as { details?: unknown; issues?: unknown }).details;
  if (Array.isArray(details)) return details.map(String);
  const issues = (error as { issues?: unknown }).issues;
  if (Array.isArray(issues)) {
    return issues.map((issue: { path?: unknown[]; message?: string }) =>
      `${(issue.path ?? []).join('.')}: ${issue.message ?? ''}`.trim(),
    );
  }
  return [];
}

/** The one place errors become HTTP responses. */
export function errorResponse(error: unknown, c: Context): Response {
  if (error instanceof ApiError) {
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    return c.json(body(error.status, error.message, error.details), error.status);
  }
  if (error instanceof HTTPException) {
    // Hono's convention: the headers an answer needs (Retry-After, WWW-Authenticate…) ride in `res`.
    error.res?.headers.forEach((value, name) => {
      if (name !== 'content-type' && name !== 'content-length') c.header(name, value);
    });
    const status = error.status as ContentfulStatusCode;
    const code = (error as { code?: unknown }).code;
    const details = [...(typeof code === 'string' ? [code] : []), ...detailsOf(error)];
    return c.json(body(status, error.message || 'Error', details), status);
  }
  // datarhei's config answers: 400 "Invalid JSON", and for invalid values a bare map of field → messages.
  if (error instanceof ConfigMalformedError) {
    return c.json(body(400, 'Invalid JSON', error.details), 400);
  }
  if (error instanceof ConfigInvalidError) return c.json(error.fields, 409);
  if (error instanceof ConfigWriteError) {
    return c.json(body(500, 'Failed to store config', []), 500);
  }
  if (error instanceof z.ZodError) {
    return c.json(body(400, 'Invalid request', detailsOf(error)), 400);
  }
  const code = (error as { code?: unknown }).code;
  const status = typeof code === 'string' ? statusByCode[code] : undefined;
  if (status) return c.json(body(status, (error as Error).message, detailsOf(error)), status);
  return c.json(body(500, 'Internal server error', []), 500);
}

/**
 * How deep a request body's arrays and objects may nest. JSON.parse takes any depth, but what the
 * server then does with the value recurses — `JSON.stringify` into the store, `structuredClone` of
 * the config — and in Node 24 both overflow the stack between 1,000 and 5,000 levels, which a 1 MiB
 * body reaches easily. Go's encoding/json (datarhei's) stops at 10,000; no real document comes near.
 */
export const maxJsonDepth = 1000;

/** The deepest nesting of arrays and objects in `text`, which must be valid JSON; linear, no recursion. */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c)
        i++; // a backslash: the next character is escaped
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x5b || char === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (char === 0x5d || char === 0x7d) depth--;
  }
  return deepest;
}

/** Reads a JSON body; a body that is not JSON, or nested too deep to handle, is a 400, not a 500. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'Invalid JSON', ['the request body is not valid JSON']);
  }
  // Nesting deeper than the limit needs twice as many brackets: short bodies need no scan.
  if (text.length > 2 * maxJsonDepth && nestingDepth(text) > maxJsonDepth) {
    throw new ApiError(400, 'Invalid JSON', [`the request body nests deeper than ${maxJsonDepth} levels`]);
  }
  return value;
}
