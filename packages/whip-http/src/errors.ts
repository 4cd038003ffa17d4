import { CodedHttpError } from '@dragon/http-error';

/**
 * The string codes of the WHIP-only HTTP answers (`details[0]` of the response body). A refused
 * offer is `@dragon/whep-http`'s `OfferRefusedError` with `role: 'publisher'`.
 */
export type WhipErrorCode =
  | 'UNAUTHORIZED'
  | 'INVALID_STREAM_NAME'
  | 'PUBLICATION_CONFLICT'
  | 'PUBLICATION_LIMIT_REACHED'
  | 'PUBLISHER_SESSION_NOT_FOUND';

/**
 * Base class of the answers only WHIP gives (the generic ones — 413, 415, 429, 405, 412, 428 — are
 * `@dragon/whep-http`'s): an `HttpError` of `@dragon/http-error`, datarhei's body
 * `{code, message, details}` with the headers the answer needs, rendered by the app's one `onError`.
 * The message is written for the client; an engine's exception text only ever goes into `cause`.
 */
export abstract class WhipError<C extends WhipErrorCode = WhipErrorCode> extends CodedHttpError<C> {}

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
