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

/** The options given to `ProcessManager.create` do not validate. */
export class ManagerOptionsInvalidError extends Error {
  override readonly name = 'ManagerOptionsInvalidError';
  readonly code = 'MANAGER_OPTIONS_INVALID' as const;
  readonly details: string[];
  constructor(readonly issues: z.core.$ZodIssue[]) {
    const details = issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`);
    super(`invalid process manager options: ${details.join('; ')}`);
    this.details = details;
  }
}

/** `appendOutput` (or `addInputOptions`) was called after the `onStart` that received it had settled. */
export class AppendOutputOutsideStartError extends Error {
  override readonly name = 'AppendOutputOutsideStartError';
  readonly code = 'APPEND_OUTPUT_OUTSIDE_START' as const;
  constructor(
    readonly processId: string,
    readonly method: 'appendOutput' | 'addInputOptions' = 'appendOutput',
  ) {
    super(`${method} for "${processId}" is only valid until the onStart that received it has settled`);
  }
}

/** `addInputOptions` named an input the process's config does not have. */
export class NoSuchInputError extends Error {
  override readonly name = 'NoSuchInputError';
  readonly code = 'NO_SUCH_INPUT' as const;
  constructor(
    readonly processId: string,
    readonly index: number,
  ) {
    super(`process "${processId}" has no input ${index}`);
  }
}

/** An `onStart` hook threw: this start of FFmpeg did not happen; `cause` is what the hook threw. */
export class HookAbortedError extends Error {
  override readonly name = 'HookAbortedError';
  readonly code = 'HOOK_ABORTED' as const;
  constructor(
    readonly processId: string,
    options: { cause: unknown },
  ) {
    super(`the onStart hook aborted the start: ${messageOf(options.cause)}`, options);
  }
}

/** FFmpeg could not be spawned (missing binary, no permission, …): the start failed, nothing ran. */
export class FFmpegSpawnError extends Error {
  override readonly name = 'FFmpegSpawnError';
  readonly code = 'FFMPEG_SPAWN_FAILED' as const;
  constructor(
    readonly binary: string,
    options: { cause: unknown },
  ) {
    super(`FFmpeg "${binary}" could not be started: ${messageOf(options.cause)}`, options);
  }
}

/**
 * An address or option of a process reaches something FFmpeg may not touch (a protected path,
 * a file output outside the allowed directories, or an address the access lists refuse).
 */
export class FFmpegAccessDeniedError extends Error {
  override readonly name = 'FFmpegAccessDeniedError';
  readonly code = 'FFMPEG_ACCESS_DENIED' as const;
  /** One readable line, as `ProcessConfigInvalidError` has them. */
  readonly details: string[];
  constructor(
    readonly processId: string,
    /** Where: `input in`, `output out`, `options`, … */
    readonly where: string,
    readonly reason: string,
  ) {
    super(`${where}: ${reason}`);
    this.details = [`${where}: ${reason}`];
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

/** A metadata value is larger than the manager allows. */
export class MetadataTooLargeError extends Error {
  override readonly name = 'MetadataTooLargeError';
  readonly code = 'METADATA_TOO_LARGE' as const;
  constructor(
    readonly key: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`metadata "${key.slice(0, 64)}" has ${bytes} bytes of JSON; the limit is ${limit}`);
  }
}

/** The change would make the process store larger than the manager allows. */
export class StoreFullError extends Error {
  override readonly name = 'StoreFullError';
  readonly code = 'STORE_FULL' as const;
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`the process store would hold ${bytes} bytes; the limit is ${limit}`);
  }
}

/** The store could not be written (disk full, permissions); the change stays in memory and the next write retries. */
export class StoreWriteError extends Error {
  override readonly name = 'StoreWriteError';
  readonly code = 'STORE_WRITE_FAILED' as const;
  constructor(
    readonly file: string,
    options: { cause: unknown },
  ) {
    super(`could not write ${file}: ${messageOf(options.cause)}`, options);
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

function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** A malformed glob (an unclosed `[` or `{`, a trailing `\`, too long, too many alternatives). */
export class GlobSyntaxError extends Error {
  override readonly name = 'GlobSyntaxError';
  readonly code = 'GLOB_SYNTAX' as const;
  readonly details: string[];
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`Invalid glob pattern: ${reason}`);
    this.details = [reason];
  }
}
