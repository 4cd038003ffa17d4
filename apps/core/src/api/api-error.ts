import { errorResponse, HttpError } from '@dragon/http-error';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ConfigInvalidError, ConfigMalformedError, ConfigWriteError } from '../config/errors.js';

/**
 * Maps the typed errors of the packages that know nothing of HTTP (by their `code`) to statuses.
 * HTTP-facing errors (WHEP's, the filesystems') are `HttpError`s and carry their status themselves.
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

/** This app's errors, and those of packages that know nothing of HTTP, as their HTTP answers. */
function asHttpError(error: unknown): unknown {
  // datarhei's config answers: 400 "Invalid JSON" for a malformed document.
  if (error instanceof ConfigMalformedError) {
    return new HttpError(400, 'Invalid JSON', error.details, { cause: error });
  }
  if (error instanceof ConfigWriteError)
    return new HttpError(500, 'Failed to store config', [], { cause: error });
  if (error instanceof HTTPException || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  const status = typeof code === 'string' ? statusByCode[code] : undefined;
  return status ? HttpError.from(error, status) : error;
}

/** The app's `onError`: its own errors mapped, then the one renderer of `@dragon/http-error`. */
export function renderError(error: unknown, c: Context): Response {
  // datarhei answers invalid config values with a bare map of field → messages, not an error body.
  if (error instanceof ConfigInvalidError) return c.json(error.fields, 409);
  return errorResponse(asHttpError(error), c);
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
    throw new HttpError(400, 'Invalid JSON', ['the request body is not valid JSON']);
  }
  // Nesting deeper than the limit needs twice as many brackets: short bodies need no scan.
  if (text.length > 2 * maxJsonDepth && nestingDepth(text) > maxJsonDepth) {
    throw new HttpError(400, 'Invalid JSON', [`the request body nests deeper than ${maxJsonDepth} levels`]);
  }
  return value;
}
