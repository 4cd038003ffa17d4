import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { ChildRegistry } from './child-registry.js';
import {
  type ProcessConfig,
  type ProcessConfigInput,
  processConfigSchema,
  withGeneratedIds,
} from './config-schema.js';
import {
  ManagerClosedError,
  ManagerOptionsInvalidError,
  ProcessConfigInvalidError,
  ProcessExistsError,
  ProcessNotFoundError,
} from './errors.js';
import { FFmpegAccess } from './ffmpeg-access.js';
import { type ProbeResult, probeInputs } from './ffmpeg-probe.js';
import type { ExecState, RunExit } from './ffmpeg-run.js';
import { detectSkills, type Skills } from './ffmpeg-skills.js';
import { parentDeathSetpriv } from './ffmpeg-spawn.js';
import { KeyedLock } from './keyed-lock.js';
import { type ListFilter, listFilterMatcher } from './list-filter.js';
import {
  type ProcessManagerOptions,
  processManagerOptionsSchema,
  type ResolvedManagerOptions,
} from './manager-options.js';
import { MetadataMap } from './metadata-map.js';
import { createPlaceholderResolver, replacePlaceholders } from './placeholders.js';
import { ProcessRunner, type RunnerContext } from './process-runner.js';
import { ProcessStore, type StoreData } from './process-store.js';
import {
  describeReport,
  describeState,
  type ProcessReportJson,
  type ProcessStateJson,
} from './process-views.js';
import { ResourceSampler } from './resource-sampler.js';

export type ProcessCommand = 'start' | 'stop' | 'restart' | 'reload';

export interface ProcessManagerEvents {
  started: [id: string];
  exited: [id: string, exit: RunExit];
  removed: [id: string];
  state: [id: string, exec: ExecState];
  order: [id: string, order: 'start' | 'stop'];
}

/**
 * datarhei Core's restream in TypeScript: the collection of processes and its persistence. Each
 * process runs in its own `ProcessRunner`; adding, removing and renaming hold a lock per id (a
 * rename holds both), so racing requests never lose an entry or an FFmpeg.
 */
export class ProcessManager extends EventEmitter<ProcessManagerEvents> {
  readonly #runners = new Map<string, ProcessRunner>();
  readonly #locks = new KeyedLock();
  readonly #options: ResolvedManagerOptions;
  readonly #store: ProcessStore;
  readonly #children: ChildRegistry;
  readonly #access: FFmpegAccess;
  readonly #runnerContext: RunnerContext;
  readonly #globalMetadata: MetadataMap;
  readonly #ticker: NodeJS.Timeout;
  #skills: Skills | undefined;
  #closed: Promise<void> | undefined;

  private constructor(
    options: ResolvedManagerOptions,
    store: ProcessStore,
    data: StoreData,
    skills: Skills | undefined,
  ) {
    super();
    this.#options = options;
    this.#store = store;
    this.#skills = skills;
    const { logger, dataDir } = options;
    const placeholders = createPlaceholderResolver(options.placeholders);
    const diskfs = placeholders('diskfs', {}, { section: 'output', processId: '', reference: '', ioId: '' });
    this.#access = new FFmpegAccess(options.access, {
      cwd: process.cwd(),
      storeFile: store.path,
      defaultOutputDirectory: resolve(diskfs ?? dataDir),
    });
    this.#children = new ChildRegistry(dataDir, options.ffmpegBinary);
    this.#children.reapOrphans((pid) => logger.warn({ pid }, 'killed an FFmpeg left by an earlier run'));
    if (parentDeathSetpriv() === undefined) {
      logger.warn(
        {},
        'setpriv --pdeathsig is not available: FFmpegs of a killed server run on until a server starts again on this data directory',
      );
    }
    this.#runnerContext = {
      binary: options.ffmpegBinary,
      logLines: options.logLines,
      historyRuns: options.historyRuns,
      stopTimeoutMs: options.stopTimeoutMs,
      hooks: options.hooks,
      logger,
      access: this.#access,
      children: this.#children,
      sampler: new ResourceSampler(),
      expand: (config) => replacePlaceholders(config, placeholders),
      observer: {
        state: (runner, exec) => this.emit('state', runner.id, exec),
        order: (runner, order) => this.emit('order', runner.id, order),
        started: (runner) => this.emit('started', runner.id),
        exited: (runner, exit) => this.emit('exited', runner.id, exit),
        changed: (runner) => {
          // A runner being renamed or removed is written (or deleted) by that operation.
          if (this.#runners.get(runner.id) !== runner) return;
          void this.#store
            .writeProcess(runner)
            .catch((error: unknown) =>
              logger.error({ processId: runner.id, err: error }, 'could not write the process store'),
            );
        },
      },
    };
    this.#globalMetadata = new MetadataMap(options.maxMetadataBytes, data.metadata);
    for (const stored of data.processes) {
      const today = processConfigSchema.safeParse(stored.config);
      if (!today.success) {
        // Loaded as stored, so an upgrade never strands the store; new configs meet today's rules.
        logger.warn(
          {
            processId: stored.config.id,
            problems: today.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
          },
          'a stored process breaks rules added since it was saved; it is kept, but change it (an id "." or ".." cannot be addressed over HTTP: rename it in its file under store/processes while the server is stopped)',
        );
      }
      const runner = new ProcessRunner(this.#runnerContext, {
        config: stored.config,
        order: stored.order,
        metadata: new MetadataMap(options.maxMetadataBytes, stored.metadata),
        createdAt: stored.created_at,
        updatedAt: stored.updated_at,
      });
      this.#runners.set(stored.config.id, runner);
    }
    this.#ticker = setInterval(() => {
      const now = Date.now();
      for (const runner of this.#runners.values()) runner.tick(now);
    }, 1000);
    this.#ticker.unref();
  }

  /**
   * Checks FFmpeg, loads the store, reaps FFmpegs a crashed predecessor left, and starts what was
   * running — with the hooks given here, so a restored process starts exactly like a new one.
   */
  static async create(options: ProcessManagerOptions): Promise<ProcessManager> {
    const parsed = processManagerOptionsSchema.safeParse(options);
    if (!parsed.success) throw new ManagerOptionsInvalidError(parsed.error.issues);
    const resolved = parsed.data;
    const skills = resolved.skipSkills ? undefined : await detectSkills(resolved.ffmpegBinary);
    const store = new ProcessStore(resolved.dataDir, resolved.maxStoreBytes);
    const data = await store.load();
    const manager = new ProcessManager(resolved, store, data, skills);
    for (const runner of manager.#runners.values()) {
      if (runner.order === 'start') manager.#startInBackground(runner);
    }
    return manager;
  }

  has(id: string): boolean {
    return this.#runners.has(id);
  }

  async add(input: ProcessConfigInput): Promise<ProcessConfig> {
    this.#assertOpen();
    const config = withGeneratedIds(parseConfig(input), randomUUID);
    this.#access.check(config.id, this.#runnerContext.expand(config));
    return this.#locks.run([config.id], async () => {
      this.#assertOpen();
      if (this.#runners.has(config.id)) throw new ProcessExistsError(config.id);
      const now = Math.floor(Date.now() / 1000);
      const runner = new ProcessRunner(this.#runnerContext, {
        config,
        order: config.autostart ? 'start' : 'stop',
        metadata: new MetadataMap(this.#options.maxMetadataBytes),
        createdAt: now,
        updatedAt: now,
      });
      this.#assertStoreRoom(runner.stored.bytes);
      this.#runners.set(config.id, runner);
      await this.#store.writeProcess(runner);
      if (runner.order === 'start') this.#startInBackground(runner);
      return structuredClone(config);
    });
  }

  /**
   * Replaces the config (the id may change); a running process restarts with it, keeping order,
   * metadata and history. Holds the old and the new id while it runs.
   */
  async update(id: string, input: ProcessConfigInput): Promise<ProcessConfig> {
    this.#assertOpen();
    const parsed = parseConfig(input);
    const config = withGeneratedIds({ ...parsed, id: parsed.id || id }, randomUUID);
    this.#access.check(config.id, this.#runnerContext.expand(config));
    return this.#locks.run([id, config.id], async () => {
      this.#assertOpen();
      const runner = this.#runner(id);
      if (config.id !== id && this.#runners.has(config.id)) throw new ProcessExistsError(config.id);
      this.#assertStoreRoom(
        Buffer.byteLength(JSON.stringify(config)) - Buffer.byteLength(JSON.stringify(runner.config)),
      );
      await runner.replace(config);
      if (config.id !== id) {
        this.#runners.delete(id);
        this.#runners.set(config.id, runner);
        await this.#store.renameProcess(id, runner);
      } else {
        await this.#store.writeProcess(runner);
      }
      await runner.start();
      return structuredClone(config);
    });
  }

  async remove(id: string): Promise<void> {
    this.#assertOpen();
    await this.#locks.run([id], async () => {
      const runner = this.#runner(id);
      runner.setOrder('stop');
      await runner.dispose('remove');
      this.#runners.delete(id);
      await this.#store.removeProcess(id);
      this.emit('removed', id);
    });
  }

  getConfig(id: string): ProcessConfig {
    return structuredClone(this.#runner(id).config);
  }

  /** Unix seconds when the process was added. */
  getCreatedAt(id: string): number {
    return this.#runner(id).createdAt;
  }

  /** Unix seconds when its config was last replaced (datarhei's `updated_at`; `created_at` until then). */
  getUpdatedAt(id: string): number {
    return this.#runner(id).updatedAt;
  }

  getState(id: string): ProcessStateJson {
    const runner = this.#runner(id);
    const pid = runner.run?.pid;
    return describeState(runner, pid ? this.#runnerContext.sampler.last(pid) : undefined);
  }

  getReport(id: string): ProcessReportJson {
    const runner = this.#runner(id);
    return describeReport(runner.run, runner.history);
  }

  list(filter: ListFilter = {}): string[] {
    const matches = listFilterMatcher(filter);
    return [...this.#runners]
      .filter(([id, runner]) => matches({ id, reference: runner.config.reference }))
      .map(([id]) => id)
      .sort();
  }

  async command(id: string, command: ProcessCommand): Promise<void> {
    this.#assertOpen();
    const runner = this.#runner(id);
    switch (command) {
      case 'start':
        runner.setOrder('start');
        await this.#store.writeProcess(runner);
        return runner.start();
      case 'stop':
        runner.setOrder('stop');
        await this.#store.writeProcess(runner);
        return runner.stop();
      case 'restart':
        // Unlike datarhei, a restart always ends running, whatever `reconnect` says.
        runner.setOrder('start');
        await this.#store.writeProcess(runner);
        return runner.restart('restart');
      case 'reload':
        // Re-reads the config into a new command: restarts a running process, leaves a stopped one.
        return runner.restart('reload');
    }
  }

  /** Runs FFmpeg on the process's inputs only, to list their streams. */
  async probe(id: string, options: { timeoutMs?: number } = {}): Promise<ProbeResult> {
    const config = this.#runnerContext.expand(this.#runner(id).config);
    this.#access.check(id, config);
    return probeInputs(this.#options.ffmpegBinary, config, options.timeoutMs ?? 20_000, {
      env: this.#access.environment,
      cwd: this.#access.cwd,
    });
  }

  getMetadata(id: string, key?: string): unknown {
    return this.#runner(id).metadata.get(key);
  }

  /** Sets a metadata value (`null` deletes it); resolves once the store has it. */
  async setMetadata(id: string, key: string, value: unknown): Promise<void> {
    this.#assertOpen();
    const runner = this.#runner(id);
    const { text, delta } = runner.metadata.prepare(key, value);
    this.#assertStoreRoom(delta);
    runner.metadata.commit(key, text);
    runner.changed();
    // That process's file, and nothing else: the cost of a change does not grow with the store.
    await this.#store.writeProcess(runner);
  }

  getGlobalMetadata(key?: string): unknown {
    return this.#globalMetadata.get(key);
  }

  async setGlobalMetadata(key: string, value: unknown): Promise<void> {
    this.#assertOpen();
    const { text, delta } = this.#globalMetadata.prepare(key, value);
    this.#assertStoreRoom(delta);
    this.#globalMetadata.commit(key, text);
    await this.#store.writeMetadata(this.#globalMetadata);
  }

  /** What FFmpeg can do, detected at boot. */
  skills(): Skills | Record<string, never> {
    return this.#skills ?? {};
  }

  async reloadSkills(): Promise<Skills> {
    this.#skills = await detectSkills(this.#options.ffmpegBinary);
    return this.#skills;
  }

  /** Stops every FFmpeg (stored orders are kept, so the next start brings them back) and flushes the store. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#ticker);
      await Promise.all([...this.#runners.values()].map((runner) => runner.dispose('close')));
      await this.#store.flush();
      this.#children.close();
    })();
    return this.#closed;
  }

  #runner(id: string): ProcessRunner {
    const runner = this.#runners.get(id);
    if (!runner) throw new ProcessNotFoundError(id);
    return runner;
  }

  #startInBackground(runner: ProcessRunner): void {
    runner
      .start()
      .catch((error: unknown) =>
        this.#options.logger.error({ processId: runner.id, err: error }, 'could not start the process'),
      );
  }

  #assertStoreRoom(growth: number): void {
    this.#store.assertRoom(growth, this.#runners.values(), this.#globalMetadata);
  }

  #assertOpen(): void {
    if (this.#closed) throw new ManagerClosedError();
  }
}

function parseConfig(input: unknown): ProcessConfig {
  const result = processConfigSchema.safeParse(input);
  if (!result.success) throw new ProcessConfigInvalidError(result.error.issues);
  return result.data;
}
