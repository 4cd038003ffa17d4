import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';

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

/** Maps the typed errors of the packages (by their `code`) to HTTP statuses. */
const statusByCode: Record<string, ContentfulStatusCode> = {
  PROCESS_NOT_FOUND: 404,
  PROCESS_EXISTS: 400,
  PROCESS_CONFIG_INVALID: 400,
  METADATA_KEY_INVALID: 400,
  METADATA_TOO_LARGE: 413,
  FFMPEG_ACCESS_DENIED: 400,
  STORE_FULL: 507,
  CONFIG_INVALID: 409,
  INVALID_SDP: 400,
  NO_USABLE_CODEC: 422,
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
    return c.json({ code: error.status, message: error.message, details: error.details }, error.status);
  }
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    return c.json({ code: status, message: error.message || 'Error', details: [] }, status);
  }
  if (error instanceof z.ZodError) {
    return c.json({ code: 400, message: 'Invalid request', details: detailsOf(error) }, 400);
  }
  const code = (error as { code?: unknown }).code;
  const status = typeof code === 'string' ? statusByCode[code] : undefined;
  if (status)
    return c.json({ code: status, message: (error as Error).message, details: detailsOf(error) }, status);
  return c.json({ code: 500, message: 'Internal server error', details: [] }, 500);
}

/** Reads a JSON body; a body that is not JSON is a 400, not a 500. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'Invalid JSON', ['the request body is not valid JSON']);
  }
}
