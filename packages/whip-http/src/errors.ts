import { HttpError } from '@dragon/http-error';
import type { IcePortsExhaustedError, InvalidSdpError, NoUsableCodecError } from '@dragon/webrtc';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The engine failures an offer can meet, each a class of `@dragon/webrtc`. */
export type PublishFailure = InvalidSdpError | NoUsableCodecError | IcePortsExhaustedError;

/** The string codes of the WHIP-only HTTP answers (`details[0]` of the response body). */
export type WhipErrorCode =
  | 'UNAUTHORIZED'
  | 'INVALID_STREAM_NAME'
  | 'PUBLICATION_CONFLICT'
  | 'PUBLICATION_LIMIT_REACHED'
  | 'PUBLISHER_SESSION_NOT_FOUND'
  | PublishFailure['code'];

/**
 * Base class of the answers only WHIP gives (the generic ones — 413, 415, 429, 405, 412, 428 — are
 * `@dragon/whep-http`'s): an `HttpError` of `@dragon/http-error`, datarhei's body
 * `{code, message, details}` with the headers the answer needs, rendered by the app's one `onError`.
 * The message is written for the client; an engine's exception text only ever goes into `cause`.
 */
export abstract class WhipError<C extends WhipErrorCode = WhipErrorCode> extends HttpError {
  declare readonly code: C;

  constructor(
    status: ContentfulStatusCode,
    code: C,
    message: string,
    options: { headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(status, message, [], { code, headers: options.headers, cause: options.cause });
  }
}

/** No token, a wrong one, or another stream's (RFC 9725 §4.5; RFC 6750 §3 for the header). */
export class PublishUnauthorizedError extends WhipError<'UNAUTHORIZED'> {
  override readonly name = 'PublishUnauthorizedError';
  constructor(readonly reason: 'missing' | 'invalid') {
    super(
      401,
      'UNAUTHORIZED',
      reason === 'missing' ? 'A bearer token is required to publish' : 'The bearer token is not valid',
      {
        headers: {
          'WWW-Authenticate':
            reason === 'missing' ? 'Bearer realm="whip"' : 'Bearer realm="whip", error="invalid_token"',
        },
      },
    );
  }
}

export class InvalidStreamNameError extends WhipError<'INVALID_STREAM_NAME'> {
  override readonly name = 'InvalidStreamNameError';
  constructor() {
    super(400, 'INVALID_STREAM_NAME', 'A stream name is 1–64 letters, digits, ".", "_" or "-"');
  }
}

/** A live publisher holds the name and the server is set to reject a second one. */
export class PublicationConflictError extends WhipError<'PUBLICATION_CONFLICT'> {
  override readonly name = 'PublicationConflictError';
  constructor(readonly streamName: string) {
    super(409, 'PUBLICATION_CONFLICT', `Stream "${streamName}" already has a live publisher`);
  }
}

export class PublicationLimitError extends WhipError<'PUBLICATION_LIMIT_REACHED'> {
  override readonly name = 'PublicationLimitError';
  constructor(
    readonly limit: number,
    retryAfterSeconds: number,
  ) {
    super(503, 'PUBLICATION_LIMIT_REACHED', `The server's limit of ${limit} publications is reached`, {
      headers: { 'Retry-After': String(retryAfterSeconds) },
    });
  }
}

export class PublisherSessionNotFoundError extends WhipError<'PUBLISHER_SESSION_NOT_FOUND'> {
  override readonly name = 'PublisherSessionNotFoundError';
  constructor(
    readonly streamName: string,
    readonly sessionId: string,
  ) {
    super(
      404,
      'PUBLISHER_SESSION_NOT_FOUND',
      `Stream "${streamName}" has no publisher session "${sessionId}"`,
    );
  }
}

const offerAnswers = {
  INVALID_SDP: { status: 400, message: 'The SDP offer cannot be used' },
  NO_USABLE_CODEC: { status: 422, message: 'The offer has no codec this server receives' },
  ICE_PORTS_EXHAUSTED: { status: 503, message: 'No ICE port is free for a new publisher' },
} as const satisfies Record<PublishFailure['code'], { status: ContentfulStatusCode; message: string }>;

/**
 * The engine refused the offer: its class stays the `cause`; the client reads this class's text
 * plus the engine's reason where that was written for clients (`InvalidSdpError.reason`).
 */
export class PublishRefusedError extends WhipError<PublishFailure['code']> {
  override readonly name = 'PublishRefusedError';
  constructor(
    readonly failure: PublishFailure,
    retryAfterSeconds: number,
  ) {
    const answer = offerAnswers[failure.code];
    const detail =
      failure.code === 'INVALID_SDP'
        ? `: ${failure.reason}`
        : failure.code === 'NO_USABLE_CODEC'
          ? ` (H.264 packetization-mode=1, VP8, Opus; offered: ${failure.offered.join(', ') || 'nothing'})`
          : '';
    super(answer.status, failure.code, `${answer.message}${detail}`, {
      cause: failure,
      ...(failure.code === 'ICE_PORTS_EXHAUSTED'
        ? { headers: { 'Retry-After': String(retryAfterSeconds) } }
        : {}),
    });
  }
}

/** `createWhipRoutes` was called with options that do not validate (a programming error, not HTTP). */
export class InvalidWhipOptionsError extends Error {
  override readonly name = 'InvalidWhipOptionsError';
  readonly code = 'INVALID_OPTIONS' as const;
  constructor(
    readonly issues: string[],
    options?: ErrorOptions,
  ) {
    super(`Invalid WHIP route options: ${issues.join('; ')}`, options);
  }
}
