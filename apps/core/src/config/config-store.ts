import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { AtomicJsonFile, verifyFFmpeg } from '@dragon/restream';
import { z } from 'zod';
import { type Config, configSchema, generatedPaths } from './config-schema.js';
import { isTree, mergeInto, setAt, type Tree, valueAt } from './config-tree.js';
import { applyEnvOverrides } from './env-overrides.js';
import { checkEnvironment } from './environment-checks.js';
import {
  ConfigInvalidError,
  ConfigMalformedError,
  ConfigWriteError,
  DirectoryUnsafeError,
  type FieldErrors,
  fieldErrorsOf,
  mergeFieldErrors,
} from './errors.js';
import { publishedDirectoryProblems } from './published-directories.js';
import { placeholderErrors, redactSecrets, restoreSecrets } from './secrets.js';

/** `GET /api/v3/config`, datarhei's shape. */
export const configViewSchema = z.object({
  created_at: z.string(),
  loaded_at: z.string(),
  updated_at: z.string(),
  config: configSchema,
  overrides: z.array(z.string()),
});
export type ConfigView = z.infer<typeof configViewSchema>;

export interface ConfigStoreOptions {
  /** Machine checks before a config is accepted (FFmpeg found, directories made). @default checkEnvironment */
  checkEnvironment?: (config: Config, env: NodeJS.ProcessEnv) => FieldErrors;
  /**
   * Runs an FFmpeg binary a `PUT` changes to, and rejects when it is not a usable FFmpeg.
   * @default restream's `verifyFFmpeg` (the check `ProcessManager.create` makes at start)
   */
  verifyFFmpeg?: (binary: string) => Promise<unknown>;
}

/**
 * The config file plus `CORE_*` environment variables (the environment wins), as datarhei's store:
 * the file layer is what is saved, the merged config is what `GET` shows, and the running config
 * is what the server was built from — it changes only when the owner applies a reload that worked.
 */
export class ConfigStore {
  readonly #file: AtomicJsonFile;
  readonly #env: NodeJS.ProcessEnv;
  readonly #check: (config: Config, env: NodeJS.ProcessEnv) => FieldErrors;
  readonly #verifyFFmpeg: (binary: string) => Promise<unknown>;
  #fileConfig: Config;
  #active: Config;
  #overrides: string[];
  #running: Config;
  #loadedAt = new Date();
  #updatedAt: Date;
  #missingGenerated: boolean;
  /** Updates run one after another: each merges into what the one before it saved. */
  #updates: Promise<unknown> = Promise.resolve();

  /**
   * @throws ConfigInvalidError when the file or the environment does not make a valid config,
   *   DirectoryUnsafeError when it would publish a system directory or the server's own files.
   */
  constructor(file: string, env: NodeJS.ProcessEnv = process.env, options: ConfigStoreOptions = {}) {
    this.#file = new AtomicJsonFile(file);
    this.#env = env;
    this.#check = options.checkEnvironment ?? checkEnvironment;
    this.#verifyFFmpeg = options.verifyFFmpeg ?? verifyFFmpeg;
    const read = this.#read();
    this.#fileConfig = read.fileConfig;
    this.#active = read.active;
    this.#overrides = read.overrides;
    this.#missingGenerated = read.missingGenerated;
    this.#running = read.active;
    this.#updatedAt = this.#loadedAt;
  }

  get file(): string {
    return this.#file.path;
  }

  /** The config the server is running with. */
  get config(): Config {
    return this.#running;
  }

  /** The saved config with the environment applied: what `GET` shows and a reload would run. */
  get active(): Config {
    return this.#active;
  }

  /** `GET /api/v3/config`: the saved config, environment applied, secrets redacted. */
  view(): ConfigView {
    return {
      created_at: this.#active.created_at,
      loaded_at: this.#loadedAt.toISOString(),
      updated_at: this.#updatedAt.toISOString(),
      config: redactSecrets(this.#active),
      overrides: [...this.#overrides],
    };
  }

  /**
   * At boot: removes the temp files a killed server left beside the config file, and writes the
   * generated values (id, name, secrets) into the file the first time, as datarhei does, so the
   * instance keeps its id and tokens across restarts.
   * @throws ConfigWriteError
   */
  async persistGenerated(): Promise<void> {
    await this.#file.removeStaleTemps();
    if (!this.#missingGenerated) return;
    await this.#write(this.#fileConfig);
    this.#missingGenerated = false;
  }

  /**
   * `PUT /api/v3/config`: merges a complete or partial config into the saved one, validates it with the
   * environment applied and checks it against this machine, then writes the file (atomically, off the
   * event loop's critical path). The running server is unchanged until a reload. Secrets sent back as
   * `********` keep their stored value; a value sent back unchanged for a field the environment sets
   * keeps the file's value. Concurrent updates apply one after another.
   * @throws ConfigMalformedError (datarhei's 400), ConfigInvalidError (its 409), DirectoryUnsafeError
   *   (400: a published directory would expose a system directory or the server's own files), ConfigWriteError
   */
  update(body: unknown): Promise<Config> {
    const next = this.#updates.then(() => this.#update(body));
    this.#updates = next.catch(() => undefined);
    return next;
  }

  async #update(body: unknown): Promise<Config> {
    if (!isTree(body)) throw new ConfigMalformedError(['the config must be a JSON object']);
    if (body.version !== undefined && body.version !== 3) {
      throw new ConfigMalformedError([
        `version ${JSON.stringify(body.version)}: only layout version 3 is accepted`,
      ]);
    }
    const candidate = mergeInto(this.#fileConfig as unknown as Tree, body);
    restoreSecrets(candidate, this.#fileConfig);
    for (const path of this.#overrides) {
      const sent = valueAt(body, path);
      if (sent !== undefined && isDeepStrictEqual(sent, valueAt(this.#active, path))) {
        setAt(candidate, path, structuredClone(valueAt(this.#fileConfig, path)));
      }
    }
    const parsed = configSchema.safeParse(candidate);
    if (!parsed.success) {
      const typeErrors = parsed.error.issues.filter((issue) => issue.code === 'invalid_type');
      if (typeErrors.length > 0) {
        throw new ConfigMalformedError(
          typeErrors.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
        );
      }
      throw new ConfigInvalidError(fieldErrorsOf(parsed.error));
    }
    const fileConfig: Config = { ...parsed.data, created_at: new Date().toISOString() };
    const placeholders = placeholderErrors(fileConfig);
    if (Object.keys(placeholders).length > 0) throw new ConfigInvalidError(placeholders);
    // The file's own values too: an environment variable may hide them now, and be gone next boot.
    this.#assertPublishable(fileConfig);
    const { active, overrides } = this.#withEnvironment(fileConfig);
    await this.#checkFFmpeg(fileConfig, active);
    await this.#write(fileConfig);
    this.#fileConfig = fileConfig;
    this.#active = active;
    this.#overrides = overrides;
    this.#missingGenerated = false;
    this.#updatedAt = new Date();
    return active;
  }

  /**
   * Re-reads file and environment and returns the config to apply; `GET` shows it from now on.
   * Nothing runs with it until the owner calls {@link applied}.
   * @throws ConfigInvalidError
   */
  reload(): Config {
    const read = this.#read();
    this.#fileConfig = read.fileConfig;
    this.#active = read.active;
    this.#overrides = read.overrides;
    return read.active;
  }

  /** The owner now runs `config` (a reload worked). */
  applied(config: Config): void {
    this.#running = config;
    this.#loadedAt = new Date();
  }

  #read(): { fileConfig: Config; active: Config; overrides: string[]; missingGenerated: boolean } {
    let raw: Tree = {};
    if (existsSync(this.#file.path)) {
      try {
        const text = readFileSync(this.#file.path, 'utf8');
        const parsed: unknown = text.trim() === '' ? {} : JSON.parse(text);
        if (!isTree(parsed)) throw new Error('not a JSON object');
        raw = parsed;
      } catch (error) {
        throw new ConfigInvalidError({ [this.#file.path]: [(error as Error).message] }, { cause: error });
      }
    }
    if (raw.version !== undefined && raw.version !== 3) {
      throw new ConfigInvalidError({
        version: [
          `unknown configuration layout version (found version ${JSON.stringify(raw.version)}, expecting version 3)`,
        ],
      });
    }
    // The file layer is completed first, so generated values (id, secrets) are made once, not per layer.
    const parsed = configSchema.safeParse(raw);
    const envErrors = applyEnvOverrides({}, this.#env).errors;
    if (!parsed.success) {
      throw new ConfigInvalidError(
        mergeFieldErrors(fieldErrorsOf(parsed.error), envErrors.length ? { environment: envErrors } : {}),
      );
    }
    const missingGenerated = generatedPaths.some((path) => valueAt(raw, path) === undefined);
    return { fileConfig: parsed.data, ...this.#withEnvironment(parsed.data), missingGenerated };
  }

  /** The file config with the environment applied, validated and checked against this machine. */
  #withEnvironment(fileConfig: Config): { active: Config; overrides: string[] } {
    const { merged, overrides, errors } = applyEnvOverrides(fileConfig as unknown as Tree, this.#env);
    if (errors.length > 0) throw new ConfigInvalidError({ environment: errors });
    const parsed = configSchema.safeParse(merged);
    if (!parsed.success) throw new ConfigInvalidError(fieldErrorsOf(parsed.error));
    const problems = mergeFieldErrors(placeholderErrors(parsed.data), this.#check(parsed.data, this.#env));
    if (Object.keys(problems).length > 0) throw new ConfigInvalidError(problems);
    this.#assertPublishable(parsed.data);
    return { active: parsed.data, overrides };
  }

  #assertPublishable(config: Config): void {
    const unsafe = publishedDirectoryProblems(config, this.#file.path);
    if (unsafe.length > 0) throw new DirectoryUnsafeError(unsafe);
  }

  /**
   * A binary that exists but is not FFmpeg (`/bin/true`) passes the environment check; saved, it would
   * make the next start exit. So a binary a `PUT` changes to — in the file or, through it, the one that
   * would run — is run first, as the manager runs it at start. One FFmpeg run per changed binary.
   * @throws ConfigInvalidError naming `ffmpeg.binary`
   */
  async #checkFFmpeg(fileConfig: Config, active: Config): Promise<void> {
    const changed = new Set<string>();
    if (fileConfig.ffmpeg.binary !== this.#fileConfig.ffmpeg.binary) changed.add(fileConfig.ffmpeg.binary);
    if (active.ffmpeg.binary !== this.#active.ffmpeg.binary) changed.add(active.ffmpeg.binary);
    for (const binary of changed) {
      try {
        await this.#verifyFFmpeg(binary);
      } catch (error) {
        throw new ConfigInvalidError({ 'ffmpeg.binary': [(error as Error).message] }, { cause: error });
      }
    }
  }

  /** Through restream's atomic JSON writer: temp file, fsync, rename, directory fsync. */
  async #write(value: Config): Promise<void> {
    try {
      await mkdir(dirname(this.#file.path), { recursive: true });
      await this.#file.write(value);
    } catch (error) {
      throw new ConfigWriteError(this.#file.path, { cause: error });
    }
  }
}
