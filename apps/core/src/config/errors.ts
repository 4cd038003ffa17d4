import { z } from 'zod';

/** Messages per config field (`api.auth.enable` → [...]), datarhei's 409 body for a rejected config. */
export const fieldErrorsSchema = z.record(z.string(), z.array(z.string()));
export type FieldErrors = z.infer<typeof fieldErrorsSchema>;

/** zod issues as datarhei names them: the field path up to the first list index, then the rest in the message. */
export function fieldErrorsOf(error: z.ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const index = issue.path.findIndex((segment) => typeof segment === 'number');
    const fieldPath = index === -1 ? issue.path : issue.path.slice(0, index);
    const rest = index === -1 ? [] : issue.path.slice(index);
    const field = fieldPath.join('.') || '(root)';
    const where =
      rest.length > 0
        ? `${rest.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('')}: `
        : '';
    errors[field] ??= [];
    errors[field].push(`${where}${issue.message}`);
  }
  return errors;
}

export function mergeFieldErrors(...all: FieldErrors[]): FieldErrors {
  const result: FieldErrors = {};
  for (const errors of all) {
    for (const [field, messages] of Object.entries(errors))
      result[field] = [...(result[field] ?? []), ...messages];
  }
  return result;
}

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

/**
 * A directory the config would publish — `storage.disk.dir` (served anonymously over HTTP) or one of
 * `ffmpeg.access.output.directories` (written by any process) — is or contains something that must
 * stay private: a system directory, the data directory, the config file, the TLS key.
 */
export class DirectoryUnsafeError extends Error {
  override readonly name = 'DirectoryUnsafeError';
  readonly code = 'CONFIG_DIRECTORY_UNSAFE' as const;
  constructor(readonly details: string[]) {
    super(`a directory the configuration would publish is unsafe: ${details.join('; ')}`);
  }
}
