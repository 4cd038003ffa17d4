/** Options a collector cannot work with (a negative timeout, an ignore-list entry that is no CIDR). */
export class SessionOptionsError extends Error {
  override readonly name = 'SessionOptionsError';
  readonly code = 'SESSION_OPTIONS' as const;
  constructor(
    readonly collector: string,
    options: { cause: unknown },
  ) {
    super(`invalid options for the ${collector} session collector`, options);
  }
}
