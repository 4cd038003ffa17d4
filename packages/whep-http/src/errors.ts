/**
 * Typed failures of the WHEP routes. Each one knows its HTTP status; `app.onError` in
 * `whep-routes.ts` is the one place they become responses (`{code, message, details}`,
 * datarhei style, where `code` is the HTTP status and `details[0]` the string `code` below).
 */
export type WhepErrorCode =
  | 'UNAUTHORIZED'
  | 'PROCESS_NOT_FOUND'
  | 'SESSION_NOT_FOUND'
  | 'PROCESS_NOT_RUNNING'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BODY_TOO_LARGE'
  | 'INVALID_SDP'
  | 'INVALID_SDPFRAG'
  | 'NO_USABLE_CODEC'
  | 'ICE_RESTART_UNSUPPORTED'
  | 'PRECONDITION_REQUIRED'
  | 'PRECONDITION_FAILED'
  | 'VIEWER_LIMIT_REACHED'
  | 'ICE_PORTS_EXHAUSTED'
  | 'RATE_LIMITED'
  | 'METHOD_NOT_ALLOWED'
  | 'INVALID_OPTIONS';

/** Base class: an error that already knows its HTTP answer. */
export abstract class WhepError extends Error {
  abstract readonly code: WhepErrorCode;
  abstract readonly status: 400 | 401 | 404 | 405 | 409 | 412 | 413 | 415 | 422 | 428 | 429 | 500 | 503;
  /** Extra response headers (`Retry-After`, `WWW-Authenticate`, `Accept-Post`…). */
  readonly headers: Record<string, string> = {};
  /** Readable one-liners appended after the code in the response `details`. */
  readonly details: string[] = [];
}

export class UnauthorizedError extends WhepError {
  override readonly name = 'UnauthorizedError';
  readonly code = 'UNAUTHORIZED';
  readonly status = 401;
  constructor(readonly reason: 'missing' | 'invalid') {
    super(reason === 'missing' ? 'A bearer token is required' : 'The bearer token is not valid');
    this.headers['WWW-Authenticate'] =
      reason === 'missing' ? 'Bearer realm="whep"' : 'Bearer realm="whep", error="invalid_token"';
  }
}

export class ProcessNotFoundError extends WhepError {
  override readonly name = 'ProcessNotFoundError';
  readonly code = 'PROCESS_NOT_FOUND';
  readonly status = 404;
  constructor(readonly processId: string) {
    super(`Process "${processId}" does not exist or does not have WebRTC enabled`);
  }
}

export class SessionNotFoundError extends WhepError {
  override readonly name = 'SessionNotFoundError';
  readonly code = 'SESSION_NOT_FOUND';
  readonly status = 404;
  constructor(
    readonly processId: string,
    readonly sessionId: string,
  ) {
    super(`WHEP session "${sessionId}" of process "${processId}" does not exist`);
  }
}

/** WHEP §4.3 "Session Management": 409 with Retry-After while there is nothing to watch. */
export class ProcessNotRunningError extends WhepError {
  override readonly name = 'ProcessNotRunningError';
  readonly code = 'PROCESS_NOT_RUNNING';
  readonly status = 409;
  constructor(
    readonly processId: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`Process "${processId}" is not running or has no media yet`);
    this.headers['Retry-After'] = String(retryAfterSeconds);
  }
}

export class UnsupportedMediaTypeError extends WhepError {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  readonly status = 415;
  constructor(
    readonly contentType: string | undefined,
    readonly expected: 'application/sdp' | 'application/trickle-ice-sdpfrag',
  ) {
    super(`Content-Type must be ${expected}, got ${contentType ?? 'none'}`);
    this.headers[expected === 'application/sdp' ? 'Accept-Post' : 'Accept-Patch'] = expected;
  }
}

export class BodyTooLargeError extends WhepError {
  override readonly name = 'BodyTooLargeError';
  readonly code = 'BODY_TOO_LARGE';
  readonly status = 413;
  constructor(readonly limitBytes: number) {
    super(`The request body is larger than ${limitBytes} bytes`);
  }
}

export class InvalidSdpError extends WhepError {
  override readonly name = 'InvalidSdpError';
  readonly code = 'INVALID_SDP';
  readonly status = 400;
  constructor(reason: string, options?: ErrorOptions) {
    super(`Malformed SDP offer: ${reason}`, options);
  }
}

export class InvalidSdpFragmentError extends WhepError {
  override readonly name = 'InvalidSdpFragmentError';
  readonly code = 'INVALID_SDPFRAG';
  readonly status = 400;
  constructor(reason: string) {
    super(`Malformed trickle-ice-sdpfrag: ${reason}`);
  }
}

/** 422, never 406: WHEP reserves 406 for a server counter-offer. */
export class NoUsableCodecError extends WhepError {
  override readonly name = 'NoUsableCodecError';
  readonly code = 'NO_USABLE_CODEC';
  readonly status = 422;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** WHEP §4.4.1: a session supporting trickle but not ICE restart answers restarts with 422. */
export class IceRestartUnsupportedError extends WhepError {
  override readonly name = 'IceRestartUnsupportedError';
  readonly code = 'ICE_RESTART_UNSUPPORTED';
  readonly status = 422;
  constructor(readonly sessionId: string) {
    super('ICE restart is not supported by this server; the existing ICE session is kept');
  }
}

export class PreconditionRequiredError extends WhepError {
  override readonly name = 'PreconditionRequiredError';
  readonly code = 'PRECONDITION_REQUIRED';
  readonly status = 428;
  constructor(readonly sessionId: string) {
    super('This PATCH needs an If-Match header (the session ETag, or "*" for an ICE restart)');
  }
}

export class PreconditionFailedError extends WhepError {
  override readonly name = 'PreconditionFailedError';
  readonly code = 'PRECONDITION_FAILED';
  readonly status = 412;
  constructor(
    readonly sessionId: string,
    readonly ifMatch: string,
  ) {
    super('If-Match does not match the current ICE session of this WHEP session');
  }
}

export class ViewerLimitError extends WhepError {
  override readonly name = 'ViewerLimitError';
  readonly code = 'VIEWER_LIMIT_REACHED';
  readonly status = 503;
  constructor(
    readonly scope: 'process' | 'server',
    readonly limit: number,
    retryAfterSeconds: number,
  ) {
    super(`The ${scope === 'process' ? 'process' : 'server'} viewer limit of ${limit} is reached`);
    this.headers['Retry-After'] = String(retryAfterSeconds);
  }
}

export class IcePortsExhaustedError extends WhepError {
  override readonly name = 'IcePortsExhaustedError';
  readonly code = 'ICE_PORTS_EXHAUSTED';
  readonly status = 503;
  constructor(retryAfterSeconds: number, options?: ErrorOptions) {
    super('No ICE port is free for a new viewer', options);
    this.headers['Retry-After'] = String(retryAfterSeconds);
  }
}

export class RateLimitedError extends WhepError {
  override readonly name = 'RateLimitedError';
  readonly code = 'RATE_LIMITED';
  readonly status = 429;
  constructor(
    readonly clientAddress: string,
    readonly retryAfterSeconds: number,
  ) {
    super('Too many offers from this address; retry later');
    this.headers['Retry-After'] = String(retryAfterSeconds);
  }
}

export class MethodNotAllowedError extends WhepError {
  override readonly name = 'MethodNotAllowedError';
  readonly code = 'METHOD_NOT_ALLOWED';
  readonly status = 405;
  constructor(
    readonly method: string,
    readonly allow: string,
  ) {
    super(`${method} is not allowed here`);
    this.headers.Allow = allow;
  }
}

/** `createWhepRoutes` was called with options that do not validate. */
export class InvalidWhepOptionsError extends WhepError {
  override readonly name = 'InvalidWhepOptionsError';
  readonly code = 'INVALID_OPTIONS';
  readonly status = 500;
  constructor(issues: string[], options?: ErrorOptions) {
    super(`Invalid WHEP route options: ${issues.join('; ')}`, options);
    this.details.push(...issues);
  }
}
