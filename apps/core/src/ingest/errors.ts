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
