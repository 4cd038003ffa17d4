import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type ErrorBody, errorBody } from './error-body.js';

/** datarhei's body: the code, where there is one, leads the details. */
function bodyOf(
  status: number,
  message: string,
  code: string | undefined,
  details: readonly string[],
): ErrorBody {
  return errorBody(status, message, code === undefined ? details : [code, ...details]);
}

type Issue = { path?: readonly PropertyKey[]; message?: string };

/** Validation issues (zod's shape) as readable lines: `path: message`. */
export function issueLines(issues: readonly Issue[]): string[] {
  return issues.map((issue) => `${(issue.path ?? []).map(String).join('.')}: ${issue.message ?? ''}`.trim());
}

/** The readable lines a typed error carries: its `details`, else its zod-like `issues`. */
export function detailsOf(error: Error): string[] {
  const { details, issues } = error as { details?: unknown; issues?: unknown };
  if (Array.isArray(details)) return details.map(String);
  if (Array.isArray(issues)) return issueLines(issues as Issue[]);
  return [];
}

/** What an {@link HttpError} carries beside its status, message and details. */
export interface HttpErrorOptions {
  /**
   * A machine-readable code (`PROCESS_NOT_FOUND`), the first of the body's `details`.
   * @example 'FS_FILE_NOT_FOUND'
   */
  code?: string | undefined;
  /** Headers the answer needs: `Retry-After`, `WWW-Authenticate`, `Allow`… */
  headers?: Readonly<Record<string, string>> | undefined;
  /** The failure behind this answer; kept for logs, never shown to the client. */
  cause?: unknown;
}

/**
 * An HTTP answer thrown from a route: a Hono `HTTPException`, so the app renders it in its one
 * `onError` ({@link errorResponse}). The message and details are written for the client; internal
 * exception text only ever goes into `cause`. Like Hono's own middleware, it also carries the
 * finished answer in `res`, so an app without an `onError` answers the same through Hono's default
 * handler.
 * @example throw new HttpError(404, 'Process not found', [id]);
 */
export class HttpError extends HTTPException {
  override readonly name: string = 'HttpError';
  /** The status again, typed for `c.json` (HTTPException's own is the wider `StatusCode`). */
  override readonly status: ContentfulStatusCode;
  readonly code: string | undefined;
  /** The readable lines after the code in the body's `details`. */
  readonly details: readonly string[];
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: ContentfulStatusCode,
    message: string,
    details: readonly string[] = [],
    options: HttpErrorOptions = {},
  ) {
    const headers = options.headers ?? {};
    const body = bodyOf(status, message, options.code, details);
    super(status, {
      message,
      res: new Response(JSON.stringify(body), {
        status,
        headers: { ...headers, 'Content-Type': 'application/json' },
      }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.status = status;
    this.code = options.code;
    this.details = details;
    this.headers = headers;
  }

  /** The body this error answers with. */
  body(): ErrorBody {
    return bodyOf(this.status, this.message, this.code, this.details);
  }

  /**
   * The answer to a typed error of a package that knows nothing of HTTP: `status`, the error's own
   * message (a typed error's message is written for its user) and its `details` (or `issues`) lines,
   * the error itself as `cause`.
   * @example HttpError.from(new ProcessNotFoundError('cam'), 404)
   */
  static from(error: Error, status: ContentfulStatusCode): HttpError {
    return new HttpError(status, error.message, detailsOf(error), { cause: error });
  }
}

/**
 * An {@link HttpError} whose `code` is one of a package's string literals: the base of a package's
 * error classes, one class per failure.
 * @example
 * class ProcessNotFoundError extends CodedHttpError<'PROCESS_NOT_FOUND'> {
 *   override readonly name = 'ProcessNotFoundError';
 *   constructor(readonly processId: string) {
 *     super(404, 'PROCESS_NOT_FOUND', 'Process not found');
 *   }
 * }
 */
export abstract class CodedHttpError<C extends string> extends HttpError {
  declare readonly code: C;

  constructor(
    status: ContentfulStatusCode,
    code: C,
    message: string,
    options: { headers?: Record<string, string>; details?: readonly string[]; cause?: unknown } = {},
  ) {
    super(status, message, options.details, { code, headers: options.headers, cause: options.cause });
  }
}
