/** The ingest server could not listen (port taken, bad address, unreadable certificate). */
export class IngestListenError extends Error {
  override readonly name = 'IngestListenError';
  readonly code = 'INGEST_LISTEN' as const;
  constructor(
    readonly protocol: 'rtmp' | 'rtmps' | 'srt',
    readonly address: string,
    options: { cause: unknown },
  ) {
    super(`the ${protocol} server cannot listen on ${address}`, options);
  }
}

/** No usable libsrt on this machine (the SRT server needs the system's `libsrt`, as FFmpeg does). */
export class SrtUnavailableError extends Error {
  override readonly name = 'SrtUnavailableError';
  readonly code = 'SRT_UNAVAILABLE' as const;
  constructor(
    readonly libraries: string[],
    options: { cause: unknown },
  ) {
    super(`libsrt could not be loaded (tried ${libraries.join(', ')})`, options);
  }
}

/** libsrt refused a call while the SRT server was being set up. */
export class SrtSocketError extends Error {
  override readonly name = 'SrtSocketError';
  readonly code = 'SRT_SOCKET' as const;
  constructor(
    readonly operation: string,
    readonly srtError: string,
  ) {
    super(`srt_${operation} failed: ${srtError}`);
  }
}

/**
 * An RTMP peer broke the protocol (a message that does not parse, a header that contradicts the
 * chunk stream's state, a command out of order): its connection is closed.
 */
export class RtmpProtocolError extends Error {
  override readonly name = 'RtmpProtocolError';
  readonly code = 'RTMP_PROTOCOL' as const;
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
  }
}

/** An RTMP peer went past one of the server's bounds (bytes, chunk streams, a message's length). */
export class RtmpLimitError extends Error {
  override readonly name = 'RtmpLimitError';
  readonly code = 'RTMP_LIMIT' as const;
  constructor(
    readonly limit: string,
    readonly value: number,
    readonly maximum: number,
  ) {
    super(`${limit}: ${value} is over the limit of ${maximum}`);
  }
}

/** A publish or play the server does not allow (token, app, path taken, nothing published). */
export class RtmpRefusedError extends Error {
  override readonly name = 'RtmpRefusedError';
  readonly code = 'RTMP_REFUSED' as const;
  constructor(
    readonly action: 'publish' | 'play',
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${action} refused: ${reason}`);
  }
}

/** An RTMP peer did not finish the handshake, or did not publish or play, in time. */
export class RtmpTimeoutError extends Error {
  override readonly name = 'RtmpTimeoutError';
  readonly code = 'RTMP_TIMEOUT' as const;
  constructor(
    readonly stage: 'handshake' | 'publish or play',
    readonly timeoutMs: number,
  ) {
    super(`no ${stage} within ${timeoutMs} ms`);
  }
}
