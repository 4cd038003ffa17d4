import { CodedHttpError } from '@dragon/http-error';
import { IcePortsExhaustedError, InvalidSdpError, NoUsableCodecError } from '@dragon/webrtc';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

// The offer checks here reject malformed SDP with the engine's own class: one failure, one class.
export { InvalidSdpError };

/** The engine failures an offer can meet, each a class of `@dragon/webrtc`. */
export type OfferFailure = InvalidSdpError | NoUsableCodecError | IcePortsExhaustedError;

/** The string codes of the HTTP answers (`details[0]` of the response body). */
export type WhepErrorCode =
  | 'UNAUTHORIZED'
  | 'PROCESS_NOT_FOUND'
  | 'SESSION_NOT_FOUND'
  | 'PROCESS_STARTING'
  | 'PROCESS_STOPPED'
  | 'INPUT_FAILING'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BODY_TOO_LARGE'
  | 'INVALID_SDPFRAG'
  | OfferFailure['code']
  | 'ICE_RESTART_UNSUPPORTED'
  | 'PRECONDITION_REQUIRED'
  | 'PRECONDITION_FAILED'
  | 'VIEWER_LIMIT_REACHED'
  | 'RATE_LIMITED'
  | 'METHOD_NOT_ALLOWED';

/**
 * Base class of the WHEP routes' HTTP answers: an `HttpError` of `@dragon/http-error` (a Hono
 * `HTTPException`), so the app that mounts the routes renders it in its one `onError`, with
 * datarhei's body `{code, message, details}` (`code` the HTTP status, `details[0]` the string
 * `code`). It also carries that response in `res` (headers such as `Retry-After`,
 * `WWW-Authenticate`, `Allow` included), so an app without an `onError` of its own answers the same
 * through Hono's default handler. The message is written for the client; internal exception text
 * only ever goes into `cause`.
 */
export abstract class WhepError<C extends WhepErrorCode = WhepErrorCode> extends CodedHttpError<C> {}

export class UnauthorizedError extends WhepError<'UNAUTHORIZED'> {
  override readonly name = 'UnauthorizedError';
  constructor(readonly reason: 'missing' | 'invalid') {
    super(
      401,
      'UNAUTHORIZED',
      reason === 'missing' ? 'A bearer token is required' : 'The bearer token is not valid',
      {
        headers: {
          'WWW-Authenticate':
            reason === 'missing' ? 'Bearer realm="whep"' : 'Bearer realm="whep", error="invalid_token"',
        },
      },
    );
  }
}

export class ProcessNotFoundError extends WhepError<'PROCESS_NOT_FOUND'> {
  override readonly name = 'ProcessNotFoundError';
  constructor(readonly processId: string) {
    super(404, 'PROCESS_NOT_FOUND', `Process "${processId}" does not exist or does not have WebRTC enabled`);
  }
}

export class SessionNotFoundError extends WhepError<'SESSION_NOT_FOUND'> {
  override readonly name = 'SessionNotFoundError';
  constructor(
    readonly processId: string,
    readonly sessionId: string,
  ) {
    super(404, 'SESSION_NOT_FOUND', `WHEP session "${sessionId}" of process "${processId}" does not exist`);
  }
}

/** The process is starting (or has no media yet): 409 with a short `Retry-After`. */
export class ProcessStartingError extends WhepError<'PROCESS_STARTING'> {
  override readonly name = 'ProcessStartingError';
  constructor(
    readonly processId: string,
    readonly retryAfterSeconds: number,
  ) {
    super(409, 'PROCESS_STARTING', `Process "${processId}" is starting; retry shortly`, {
      headers: { 'Retry-After': String(retryAfterSeconds) },
    });
  }
}

/**
 * The process is ordered to run but its input keeps failing: 503 with a longer `Retry-After`. The
 * message says no more than that: input addresses (RTSP URLs carry passwords) and FFmpeg's log stay
 * on the server.
 */
export class InputFailingError extends WhepError<'INPUT_FAILING'> {
  override readonly name = 'InputFailingError';
  constructor(
    readonly processId: string,
    readonly retryAfterSeconds: number,
  ) {
    super(503, 'INPUT_FAILING', `The input of process "${processId}" is failing; retry later`, {
      headers: { 'Retry-After': String(retryAfterSeconds) },
    });
  }
}

/**
 * The process exists and is stopped: 409 without `Retry-After`, since only its operator can start
 * it. Only clients that passed the token check learn this.
 */
export class ProcessStoppedError extends WhepError<'PROCESS_STOPPED'> {
  override readonly name = 'ProcessStoppedError';
  constructor(readonly processId: string) {
    super(409, 'PROCESS_STOPPED', `Process "${processId}" is stopped`);
  }
}

export class UnsupportedMediaTypeError extends WhepError<'UNSUPPORTED_MEDIA_TYPE'> {
  override readonly name = 'UnsupportedMediaTypeError';
  constructor(
    readonly contentType: string | undefined,
    readonly expected: 'application/sdp' | 'application/trickle-ice-sdpfrag',
  ) {
    super(415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Type must be ${expected}, got ${contentType ?? 'none'}`, {
      headers: { [expected === 'application/sdp' ? 'Accept-Post' : 'Accept-Patch']: expected },
    });
  }
}

export class BodyTooLargeError extends WhepError<'BODY_TOO_LARGE'> {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly limitBytes: number) {
    super(413, 'BODY_TOO_LARGE', `The request body is larger than ${limitBytes} bytes`);
  }
}

export class InvalidSdpFragmentError extends WhepError<'INVALID_SDPFRAG'> {
  override readonly name = 'InvalidSdpFragmentError';
  constructor(reason: string) {
    super(400, 'INVALID_SDPFRAG', `Malformed trickle-ice-sdpfrag: ${reason}`);
  }
}

/**
 * Who sent a refused offer: a viewer (these routes) or a publisher (`@dragon/whip-http`, RFC 9725).
 * The failures and their statuses are the same; the words say which way the media would flow.
 */
export type OfferRole = 'viewer' | 'publisher';

const offerStatus = {
  INVALID_SDP: 400,
  // 422, never 406: WHEP reserves 406 for a server counter-offer.
  NO_USABLE_CODEC: 422,
  ICE_PORTS_EXHAUSTED: 503,
} as const satisfies Record<OfferFailure['code'], ContentfulStatusCode>;

/** The codecs each side takes, as a client reads them in a refusal. */
const roleCodecs = {
  viewer: { verb: 'sends', codecs: 'H.264 packetization-mode=1, Opus' },
  publisher: { verb: 'receives', codecs: 'H.264 packetization-mode=1, VP8, Opus' },
} as const satisfies Record<OfferRole, { verb: string; codecs: string }>;

function refusalMessage(failure: OfferFailure, role: OfferRole): string {
  switch (failure.code) {
    case 'INVALID_SDP':
      return `The SDP offer cannot be used: ${failure.reason}`;
    case 'NO_USABLE_CODEC': {
      const { verb, codecs } = roleCodecs[role];
      const offered = failure.offered.join(', ') || 'nothing';
      return `The offer has no codec this server ${verb} (${codecs}; offered: ${offered})`;
    }
    case 'ICE_PORTS_EXHAUSTED':
      return `No ICE port is free for a new ${role}`;
  }
}

/**
 * The engine (or the cheap offer check) refused the offer: the HTTP answer to an
 * {@link OfferFailure}, which stays the `cause`, for a viewer's offer or (`role: 'publisher'`) a
 * publisher's. `code` is the engine error's code; the message is this class's own text plus the
 * engine's reason where that reason was written for the client (`InvalidSdpError.reason`,
 * `NoUsableCodecError.offered`) — never a library's exception text.
 */
export class OfferRefusedError extends WhepError<OfferFailure['code']> {
  override readonly name = 'OfferRefusedError';
  constructor(
    readonly failure: OfferFailure,
    retryAfterSeconds: number,
    readonly role: OfferRole = 'viewer',
  ) {
    super(offerStatus[failure.code], failure.code, refusalMessage(failure, role), {
      cause: failure,
      ...(failure.code === 'ICE_PORTS_EXHAUSTED'
        ? { headers: { 'Retry-After': String(retryAfterSeconds) } }
        : {}),
    });
  }

  /** The answer to `error` when it is one of the engine's offer failures, else `undefined`. */
  static of(
    error: unknown,
    retryAfterSeconds: number,
    role: OfferRole = 'viewer',
  ): OfferRefusedError | undefined {
    const failed =
      error instanceof InvalidSdpError ||
      error instanceof NoUsableCodecError ||
      error instanceof IcePortsExhaustedError;
    return failed ? new OfferRefusedError(error, retryAfterSeconds, role) : undefined;
  }
}

/** WHEP §4.4.1: a session that supports trickle ICE but not ICE restarts answers restarts with 422. */
export class IceRestartUnsupportedError extends WhepError<'ICE_RESTART_UNSUPPORTED'> {
  override readonly name = 'IceRestartUnsupportedError';
  constructor(readonly sessionId: string) {
    super(
      422,
      'ICE_RESTART_UNSUPPORTED',
      'ICE restart is not supported by this server; the existing ICE session is kept',
    );
  }
}

export class PreconditionRequiredError extends WhepError<'PRECONDITION_REQUIRED'> {
  override readonly name = 'PreconditionRequiredError';
  constructor(readonly sessionId: string) {
    super(
      428,
      'PRECONDITION_REQUIRED',
      'This PATCH needs an If-Match header (the session ETag, or "*" for an ICE restart)',
    );
  }
}

export class PreconditionFailedError extends WhepError<'PRECONDITION_FAILED'> {
  override readonly name = 'PreconditionFailedError';
  constructor(
    readonly sessionId: string,
    readonly ifMatch: string,
  ) {
    super(412, 'PRECONDITION_FAILED', 'If-Match does not match the current ICE session of this WHEP session');
  }
}

export class ViewerLimitError extends WhepError<'VIEWER_LIMIT_REACHED'> {
  override readonly name = 'ViewerLimitError';
  constructor(
    readonly scope: 'process' | 'server',
    readonly limit: number,
    retryAfterSeconds: number,
  ) {
    super(503, 'VIEWER_LIMIT_REACHED', `The ${scope} viewer limit of ${limit} is reached`, {
      headers: { 'Retry-After': String(retryAfterSeconds) },
    });
  }
}

/** Too many offers, or too many refused tokens, from one client address: 429 with `Retry-After`. */
export class RateLimitedError extends WhepError<'RATE_LIMITED'> {
  override readonly name = 'RateLimitedError';
  constructor(
    readonly limit: 'offers' | 'token-failures',
    readonly clientAddress: string,
    readonly retryAfterSeconds: number,
  ) {
    super(
      429,
      'RATE_LIMITED',
      limit === 'offers'
        ? 'Too many offers from this address; retry later'
        : 'Too many refused tokens from this address; retry later',
      { headers: { 'Retry-After': String(retryAfterSeconds) } },
    );
  }
}

export class MethodNotAllowedError extends WhepError<'METHOD_NOT_ALLOWED'> {
  override readonly name = 'MethodNotAllowedError';
  constructor(
    readonly method: string,
    readonly allow: string,
  ) {
    super(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here`, { headers: { Allow: allow } });
  }
}

/** `createWhepRoutes` was called with options that do not validate (a programming error, not HTTP). */
export class InvalidWhepOptionsError extends Error {
  override readonly name = 'InvalidWhepOptionsError';
  readonly code = 'INVALID_OPTIONS' as const;
  constructor(
    readonly issues: string[],
    options?: ErrorOptions,
  ) {
    super(`Invalid WHEP route options: ${issues.join('; ')}`, options);
  }
}
