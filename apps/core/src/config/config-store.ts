import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { type Config, configSchema } from './config-schema.js';
import { applyEnvOverrides } from './env-overrides.js';

/** The configuration could not be read or does not validate; `details` are readable one-liners. */
export class ConfigInvalidError extends Error {
  override readonly name = 'ConfigInvalidError';
  readonly code = 'CONFIG_INVALID' as const;
  constructor(
    readonly details: string[],
    options?: { cause?: unknown },
  ) {
    super(`invalid configuration: ${details.join('; ')}`, options);
  }
}

export interface ConfigView {
  created_at: string;
  loaded_at: string;
  updated_at: string;
  config: Config;
  overrides: string[];
}

/** Values that never leave the server in a response; a PUT that sends this back keeps the stored value. */
export const redacted = '********';
const secretPaths = [
  ['api', 'auth', 'password'],
  ['api', 'auth', 'jwt', 'secret'],
  ['webrtc', 'token'],
] as const;

export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

/**
 * The config file plus `CORE_*` environment variables (the environment wins), validated once.
 * `save` validates and writes the file; `reload` makes the saved file the running config.
 */
export class ConfigStore {
  readonly #file: string;
  readonly #env: NodeJS.ProcessEnv;
  #createdAt: Date;
  #loadedAt = new Date();
  #updatedAt: Date;
  #config: Config;
  #overrides: string[];

  constructor(file: string, env: NodeJS.ProcessEnv = process.env) {
    this.#file = file;
    this.#env = env;
    const { config, overrides } = this.#read();
    this.#config = config;
    this.#overrides = overrides;
    this.#createdAt = new Date();
    this.#updatedAt = this.#createdAt;
  }

  get file(): string {
    return this.#file;
  }

  get config(): Config {
    return this.#config;
  }

  /** The running config with secrets replaced, as `GET /api/v3/config` shows it. */
  view(): ConfigView {
    return {
      created_at: this.#createdAt.toISOString(),
      loaded_at: this.#loadedAt.toISOString(),
      updated_at: this.#updatedAt.toISOString(),
      config: redactSecrets(this.#config),
      overrides: [...this.#overrides],
    };
  }

  /** Validates a new config (with the environment applied on top) and writes it to the file. */
  save(candidate: unknown): Config {
    if (candidate === null || typeof candidate !== 'object' || Array.isArray(candidate)) {
      throw new ConfigInvalidError(['the config must be a JSON object']);
    }
    const withSecrets = restoreSecrets(candidate as Record<string, unknown>, this.#config);
    const fileConfig = this.#validate(withSecrets, []);
    this.#validate(applyEnvOverrides(withSecrets, this.#env).merged, []);
    writeJsonAtomically(this.#file, fileConfig);
    this.#updatedAt = new Date();
    return fileConfig;
  }

  /** Re-reads file and environment; the caller restarts what depends on the config. */
  reload(): Config {
    const { config, overrides } = this.#read();
    this.#config = config;
    this.#overrides = overrides;
    this.#loadedAt = new Date();
    return config;
  }

  #read(): { config: Config; overrides: string[] } {
    let fileConfig: Record<string, unknown> = {};
    if (existsSync(this.#file)) {
      try {
        const parsed: unknown = JSON.parse(readFileSync(this.#file, 'utf8'));
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
          throw new Error('not a JSON object');
        }
        fileConfig = parsed as Record<string, unknown>;
      } catch (error) {
        throw new ConfigInvalidError([`${this.#file}: ${(error as Error).message}`], { cause: error });
      }
    }
    const { merged, overrides, errors } = applyEnvOverrides(fileConfig, this.#env);
    return { config: this.#validate(merged, errors), overrides };
  }

  #validate(candidate: unknown, earlierErrors: string[]): Config {
    const result = configSchema.safeParse(candidate);
    const details = [...earlierErrors, ...(result.success ? [] : describeIssues(result.error))];
    if (details.length > 0 || !result.success) throw new ConfigInvalidError(details);
    return result.data;
  }
}

function redactSecrets(config: Config): Config {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  for (const path of secretPaths) {
    const parent = walk(copy, path.slice(0, -1));
    const key = path.at(-1)!;
    if (parent && typeof parent[key] === 'string' && parent[key] !== '') parent[key] = redacted;
  }
  for (const server of (copy.webrtc as Config['webrtc']).ice_servers) {
    if (server.credential) server.credential = redacted;
  }
  return copy as unknown as Config;
}

function restoreSecrets(candidate: Record<string, unknown>, current: Config): Record<string, unknown> {
  const copy = structuredClone(candidate);
  const currentTree = current as unknown as Record<string, unknown>;
  for (const path of secretPaths) {
    const parent = walk(copy, path.slice(0, -1));
    const key = path.at(-1)!;
    if (parent?.[key] === redacted) parent[key] = walk(currentTree, path.slice(0, -1))?.[key];
  }
  return copy;
}

function walk(tree: Record<string, unknown>, path: readonly string[]): Record<string, unknown> | undefined {
  let node: unknown = tree;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node !== null && typeof node === 'object' ? (node as Record<string, unknown>) : undefined;
}

/** temp file + fsync + rename + fsync of the directory: the file is either old or new, never half. */
export function writeJsonAtomically(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeFileSync(fd, `${JSON.stringify(value, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  const dirFd = openSync(dirname(file), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
