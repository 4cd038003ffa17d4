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

/**
 * Why a probe gave no facts:
 * - `listening`: the input waits for a publisher; probing it would take the publisher's connection;
 * - `spawn`: ffprobe could not be started (not installed, not executable);
 * - `timeout`: no answer within the time limit (the probe was killed);
 * - `aborted`: the caller's signal fired;
 * - `exit`: ffprobe failed (unreachable input, refused, unknown format, a bad option);
 * - `output`: ffprobe's answer was not the JSON expected.
 */
export type ProbeFailure = 'listening' | 'spawn' | 'timeout' | 'aborted' | 'exit' | 'output';

/**
 * A probe of an input gave no facts. The message and `reason` never carry credentials of the
 * input's address (they are redacted), so both may be logged and shown to the process's owner.
 */
export class ProbeFailedError extends Error {
  override readonly name = 'ProbeFailedError';
  readonly code = 'PROBE_FAILED' as const;
  constructor(
    readonly failure: ProbeFailure,
    /** What went wrong, credentials redacted: ffprobe's last message, the limit hit… */
    readonly reason: string,
    readonly context: { exitCode?: number | null; signal?: string | null; timeoutMs?: number } = {},
    options?: { cause?: unknown },
  ) {
    super(`probe failed (${failure}): ${reason}`, options);
  }
}
