import { z } from 'zod';
import type { Filesystem } from './filesystem.js';
import { compileFileGlob } from './fs-path.js';

/** One output's `cleanup` entry, as datarhei's process config has it. */
export const cleanupRuleSchema = z.object({
  /** `memfs:/…` or `diskfs:/…` (also `mem:`/`disk:`) and a glob over the file names. */
  pattern: z.string().min(1),
  max_files: z.number().int().min(0).default(0),
  max_file_age_seconds: z.number().int().min(0).default(0),
  purge_on_delete: z.boolean().default(false),
});
export type CleanupRule = z.infer<typeof cleanupRuleSchema>;

export const cleanupManagerOptionsSchema = z.object({
  /** How often `max_files` and `max_file_age_seconds` are enforced (datarhei: every second). @default 1000 */
  intervalMs: z.number().int().min(10).default(1000),
});
export type CleanupManagerOptions = z.input<typeof cleanupManagerOptionsSchema>;

/** pino-compatible. */
export interface CleanupLogger {
  warn(object: object, message: string): void;
  debug(object: object, message: string): void;
}

interface BoundRule {
  filesystem: Filesystem;
  glob: string;
  matches: (name: string) => boolean;
  maxFiles: number;
  maxFileAgeMs: number;
  purgeOnDelete: boolean;
}

/** datarhei's legacy prefixes name the same filesystems. */
const filesystemAlias: Record<string, string> = { diskfs: 'disk', memfs: 'mem' };

/**
 * Enforces datarhei's per-output cleanup rules on the filesystems: at most `max_files` matching files
 * (oldest removed first), none older than `max_file_age_seconds`, and every matching file removed when
 * the process goes away with `purge_on_delete`.
 *
 * @example
 * const cleanup = new CleanupManager([memfs, diskfs], logger);
 * cleanup.add('cam1', [{ pattern: 'memfs:/cam1_*.ts', max_files: 12, max_file_age_seconds: 0, purge_on_delete: true }]);
 * await cleanup.remove('cam1', { purge: true });
 */
export class CleanupManager {
  readonly #filesystems: Map<string, Filesystem>;
  readonly #rules = new Map<string, BoundRule[]>();
  readonly #logger: CleanupLogger;
  readonly #timer: NodeJS.Timeout;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(filesystems: Filesystem[], logger: CleanupLogger, options: CleanupManagerOptions = {}) {
    const { intervalMs } = cleanupManagerOptionsSchema.parse(options);
    this.#filesystems = new Map(filesystems.map((filesystem) => [filesystem.name, filesystem]));
    this.#logger = logger;
    this.#timer = setInterval(() => void this.enforce(), intervalMs);
    this.#timer.unref();
  }

  /** Sets (replaces) a process's rules. Rules naming no known filesystem are skipped, as datarhei does. */
  add(processId: string, rules: CleanupRule[]): void {
    const bound: BoundRule[] = [];
    for (const rule of rules) {
      const prefix = /^([a-z]+):/.exec(rule.pattern);
      const name = prefix ? (filesystemAlias[prefix[1]!] ?? prefix[1]!) : undefined;
      const filesystem = name ? this.#filesystems.get(name) : undefined;
      if (!prefix || !filesystem) {
        this.#logger.warn({ processId, pattern: rule.pattern }, 'cleanup rule names no filesystem; ignored');
        continue;
      }
      const glob = rule.pattern.slice(prefix[0].length);
      let matches: (name: string) => boolean;
      try {
        matches = compileFileGlob(glob);
      } catch (error) {
        // New configs are checked at the API; one stored before the check may still hold a bad glob.
        this.#logger.warn(
          { processId, pattern: rule.pattern, err: error },
          'cleanup rule glob invalid; ignored',
        );
        continue;
      }
      bound.push({
        filesystem,
        glob,
        matches,
        maxFiles: rule.max_files,
        maxFileAgeMs: rule.max_file_age_seconds * 1000,
        purgeOnDelete: rule.purge_on_delete,
      });
    }
    if (bound.length > 0) this.#rules.set(processId, bound);
    else this.#rules.delete(processId);
  }

  /** Forgets a process's rules; with `purge`, removes the files of its `purge_on_delete` rules. Returns how many. */
  async remove(processId: string, options: { purge: boolean }): Promise<number> {
    const rules = this.#rules.get(processId) ?? [];
    this.#rules.delete(processId);
    if (!options.purge) return 0;
    let removed = 0;
    for (const rule of rules) {
      if (!rule.purgeOnDelete) continue;
      for (const file of await rule.filesystem.list(rule.matches)) {
        if ((await rule.filesystem.remove(file.name)) >= 0) removed++;
      }
    }
    if (removed > 0) this.#logger.debug({ processId, files: removed }, 'purged files on delete');
    return removed;
  }

  /** One enforcement pass over every rule (the timer runs it; exposed for tests and shutdown). */
  enforce(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    // A slow disk listing must not pile up passes.
    this.#running ??= this.#enforce().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }

  async #enforce(): Promise<void> {
    for (const [processId, rules] of [...this.#rules]) {
      for (const rule of rules) {
        if (rule.maxFiles === 0 && rule.maxFileAgeMs === 0) continue;
        try {
          await this.#enforceRule(rule);
        } catch (error) {
          this.#logger.warn({ processId, pattern: rule.glob, err: error }, 'cleanup pass failed');
        }
      }
    }
  }

  async #enforceRule(rule: BoundRule): Promise<void> {
    const files = (await rule.filesystem.list(rule.matches)).sort((a, b) => a.lastModified - b.lastModified);
    const removed = new Set<string>();
    if (rule.maxFiles > 0 && files.length > rule.maxFiles) {
      for (const file of files.slice(0, files.length - rule.maxFiles)) {
        await rule.filesystem.remove(file.name);
        removed.add(file.name);
      }
    }
    if (rule.maxFileAgeMs > 0) {
      const bestBefore = Date.now() - rule.maxFileAgeMs;
      for (const file of files) {
        if (file.lastModified < bestBefore && !removed.has(file.name))
          await rule.filesystem.remove(file.name);
      }
    }
  }
}
