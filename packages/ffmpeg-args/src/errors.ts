/** The leg options cannot produce a working RTP output (bad port, packet size, or payload type). */
export class InvalidLegOptionsError extends Error {
  override readonly name = 'InvalidLegOptionsError';
  readonly code = 'INVALID_LEG_OPTIONS' as const;
  constructor(
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`invalid ${field} ${JSON.stringify(value)}: ${reason}`);
  }
}
