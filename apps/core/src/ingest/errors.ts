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
