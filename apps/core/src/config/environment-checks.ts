import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Config } from './config-schema.js';
import type { FieldErrors } from './errors.js';

/** The executable `binary` names (a path, or a name looked up in `PATH`), or undefined. */
export function findExecutable(binary: string, path: string | undefined): string | undefined {
  const candidates = binary.includes('/')
    ? [binary]
    : (path ?? '')
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(dir, binary));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function isFile(path: string): boolean | undefined {
  try {
    return statSync(path).isFile();
  } catch {
    return undefined;
  }
}

/**
 * What datarhei checks on the machine before it accepts a config (its `Exec`, `MustDir`, `Dir` and
 * `File` values): the config would otherwise be saved fine and fail only when it is applied. Directories
 * that must exist are created, as datarhei does.
 */
export function checkEnvironment(config: Config, env: NodeJS.ProcessEnv): FieldErrors {
  const errors: FieldErrors = {};
  const add = (field: string, message: string) => {
    errors[field] ??= [];
    errors[field].push(message);
  };

  if (!findExecutable(config.ffmpeg.binary, env.PATH)) {
    add('ffmpeg.binary', `${config.ffmpeg.binary} not found or is not executable`);
  }
  for (const [field, dir] of [
    ['db.dir', config.db.dir],
    ['storage.disk.dir', config.storage.disk.dir],
  ] as const) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o750 });
      if (!statSync(dir).isDirectory()) add(field, `${dir} is not a directory`);
    } catch (error) {
      add(field, `${dir} can't be created (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  for (const [field, file] of [
    ['tls.cert_file', config.tls.cert_file],
    ['tls.key_file', config.tls.key_file],
  ] as const) {
    if (file === '') continue;
    const regular = isFile(file);
    if (regular === undefined) add(field, `${file} does not exist`);
    else if (!regular) add(field, `${file} is not a regular file`);
  }
  // A missing mime.types is fine: the built-in table covers the media types served.
  if (config.storage.mimetypes_file !== '' && isFile(config.storage.mimetypes_file) === false) {
    add('storage.mimetypes_file', `${config.storage.mimetypes_file} is not a regular file`);
  }
  if (config.router.ui_path !== '') {
    try {
      if (!statSync(config.router.ui_path).isDirectory())
        add('router.ui_path', `${config.router.ui_path} is not a directory`);
    } catch {
      add('router.ui_path', `${config.router.ui_path} does not exist`);
    }
  }
  return errors;
}
