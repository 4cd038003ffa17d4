import type { z } from 'zod';

/** No process with this id. */
export class ProcessNotFoundError extends Error {
  override readonly name = 'ProcessNotFoundError';
  readonly code = 'PROCESS_NOT_FOUND' as const;
  constructor(readonly processId: string) {
    super(`no process "${processId}"`);
  }
}

/** A process with this id exists already. */
export class ProcessExistsError extends Error {
  override readonly name = 'ProcessExistsError';
  readonly code = 'PROCESS_EXISTS' as const;
  constructor(readonly processId: string) {
    super(`a process "${processId}" exists already`);
  }
}

/** The config does not validate; `issues` are zod's, `details` one readable line each. */
export class ProcessConfigInvalidError extends Error {
  override readonly name = 'ProcessConfigInvalidError';
  readonly code = 'PROCESS_CONFIG_INVALID' as const;
  readonly details: string[];
  constructor(readonly issues: z.core.$ZodIssue[]) {
    const details = issues.map((issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`);
    super(`invalid process config: ${details.join('; ')}`);
    this.details = details;
  }
}

/** `appendOutput` was called outside an `onStart` hook of that process. */
export class AppendOutputOutsideStartError extends Error {
  override readonly name = 'AppendOutputOutsideStartError';
  readonly code = 'APPEND_OUTPUT_OUTSIDE_START' as const;
  constructor(readonly processId: string) {
    super(`appendOutput("${processId}") is only valid inside that process's onStart hook`);
  }
}

/** An `onStart` hook threw: this start of FFmpeg did not happen. */
export class HookAbortedError extends Error {
  override readonly name = 'HookAbortedError';
  readonly code = 'HOOK_ABORTED' as const;
  constructor(
    readonly processId: string,
    options: { cause: unknown },
  ) {
    super(
      `onStart hook aborted the start of "${processId}": ${String((options.cause as Error)?.message ?? options.cause)}`,
      options,
    );
  }
}

/** FFmpeg is missing, does not run, or is older than what the manager needs. */
export class FFmpegUnavailableError extends Error {
  override readonly name = 'FFmpegUnavailableError';
  readonly code = 'FFMPEG_UNAVAILABLE' as const;
  constructor(
    readonly binary: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`FFmpeg "${binary}" is unusable: ${reason}`, options);
  }
}

/** The process store cannot be read; it was left as it is (and copied aside) for the operator. */
export class StoreCorruptError extends Error {
  override readonly name = 'StoreCorruptError';
  readonly code = 'STORE_CORRUPT' as const;
  constructor(
    readonly file: string,
    readonly backup: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      `the process store ${file} is corrupt${backup ? ` (a copy is at ${backup})` : ''}; fix or remove it to start`,
      options,
    );
  }
}

/** A metadata key must be a short non-empty name. */
export class MetadataKeyInvalidError extends Error {
  override readonly name = 'MetadataKeyInvalidError';
  readonly code = 'METADATA_KEY_INVALID' as const;
  constructor(readonly key: string) {
    super(`invalid metadata key "${key.slice(0, 64)}"`);
  }
}

/** The manager was closed. */
export class ManagerClosedError extends Error {
  override readonly name = 'ManagerClosedError';
  readonly code = 'MANAGER_CLOSED' as const;
  constructor() {
    super('the process manager is closed');
  }
}
