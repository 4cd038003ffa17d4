import { z } from 'zod';

/** Messages per config field (`api.auth.enable` → [...]), datarhei's 409 body for a rejected config. */
export const fieldErrorsSchema = z.record(z.string(), z.array(z.string()));
export type FieldErrors = z.infer<typeof fieldErrorsSchema>;

function flatten(fields: FieldErrors): string[] {
  return Object.entries(fields).flatMap(([field, messages]) =>
    messages.map((message) => `${field}: ${message}`),
  );
}

/** The configuration does not validate, or would not run here (a missing FFmpeg, a directory that cannot be made). */
export class ConfigInvalidError extends Error {
  override readonly name = 'ConfigInvalidError';
  readonly code = 'CONFIG_INVALID' as const;
  constructor(
    readonly fields: FieldErrors,
    options?: { cause?: unknown },
  ) {
    super(`invalid configuration: ${flatten(fields).join('; ')}`, options);
  }

  /** One readable line per problem, `field: message`. */
  get details(): string[] {
    return flatten(this.fields);
  }
}

/** The config document is not a JSON object of the right types (datarhei answers these with 400 "Invalid JSON"). */
export class ConfigMalformedError extends Error {
  override readonly name = 'ConfigMalformedError';
  readonly code = 'CONFIG_MALFORMED' as const;
  constructor(
    readonly details: string[],
    options?: { cause?: unknown },
  ) {
    super(`malformed configuration: ${details.join('; ')}`, options);
  }
}

/** The config file could not be written; the previous file is unchanged. */
export class ConfigWriteError extends Error {
  override readonly name = 'ConfigWriteError';
  readonly code = 'CONFIG_WRITE_FAILED' as const;
  constructor(
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(`could not write ${file}`, options);
  }
}

/** `storage.disk.dir` would serve `db.dir` (the config file, the process store) over HTTP. */
export class DiskDirExposesDataError extends Error {
  override readonly name = 'DiskDirExposesDataError';
  readonly code = 'CONFIG_INVALID' as const;
  readonly details: string[];
  constructor(
    readonly diskDir: string,
    readonly dbDir: string,
  ) {
    super('storage.disk.dir would publish db.dir');
    this.details = [
      `storage.disk.dir (${diskDir}) must not contain db.dir (${dbDir}): it is served over HTTP`,
    ];
  }
}
