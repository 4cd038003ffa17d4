import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ChildRegistry } from './child-registry.js';
import {
  type ProcessConfig,
  type ProcessConfigInput,
  processConfigSchema,
  withGeneratedIds,
} from './config-schema.js';
import {
  AppendOutputOutsideStartError,
  HookAbortedError,
  ManagerClosedError,
  MetadataKeyInvalidError,
  ProcessConfigInvalidError,
  ProcessExistsError,
  ProcessNotFoundError,
} from './errors.js';
import { type AppendedOutput, buildCommand } from './ffmpeg-command.js';
import { type ProbeResult, probeInputs } from './ffmpeg-probe.js';
import { type ExecState, FFmpegRun, type RunExit } from './ffmpeg-run.js';
import { detectSkills, type Skills } from './ffmpeg-skills.js';
import {
  createPlaceholderResolver,
  globToRegExp,
  type PlaceholderResolver,
  type PlaceholderTemplates,
  replacePlaceholders,
} from './placeholders.js';
import { ProcessStore } from './process-store.js';
import {
  describeReport,
  describeState,
  type ProcessReportJson,
  type ProcessStateJson,
  type RunRecord,
} from './process-views.js';
import { ResourceSampler } from './resource-sampler.js';

export type ProcessCommand = 'start' | 'stop' | 'restart' | 'reload';

export interface ProcessHooks {
  /** After the command is assembled, before FFmpeg is spawned; may `appendOutput`; throwing aborts this start. */
  onStart?(id: string, config: ProcessConfig): void | Promise<void>;
  /** After FFmpeg exited, on every exit (stop, crash, stale kill, before a reconnect). */
  onStop?(
    id: string,
    config: ProcessConfig,
    exit: { code: number | null; signal: string | null },
  ): void | Promise<void>;
}

/** pino-compatible, optional. */
export interface ManagerLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface ProcessManagerOptions {
  dataDir: string;
  /** @default 'ffmpeg' */
  ffmpegBinary?: string;
  /** Log lines kept per run. @default 50 */
  logLines?: number;
  /** Earlier runs kept in the report. @default 3 */
  historyRuns?: number;
  hooks?: ProcessHooks;
  logger?: ManagerLogger;
  /** The server's placeholders (`diskfs`, `memfs`, `fs:name`, `rtmp`, `srt`), e.g. `{ diskfs: '/data' }`. */
  placeholders?: PlaceholderTemplates;
  /** Skip the FFmpeg capability check (tests that run a fake FFmpeg). */
  skipSkills?: boolean;
  /** Grace between SIGINT and SIGKILL. @default 5000 */
  stopTimeoutMs?: number;
}

export interface ListFilter {
  ids?: string[];
  idPattern?: string;
  reference?: string;
  referencePattern?: string;
}

interface ProcessEntry {
  config: ProcessConfig;
  createdAt: number;
  order: 'start' | 'stop';
  metadata: Record<string, unknown>;
  exec: ExecState;
  run: FFmpegRun | undefined;
  command: string[];
  history: RunRecord[];
  reconnectTimer: NodeJS.Timeout | undefined;
  reconnectAt: number | undefined;
  /** Serialises start/stop/update of this process. */
  queue: Promise<unknown>;
  /** The run was stopped on purpose: no reconnect after it. */
  intentionalStop: boolean;
  limitExceededSince: number | undefined;
}

const silentLogger: ManagerLogger = { info() {}, warn() {}, error() {} };

/**
 * datarhei Core's restream in TypeScript: process configs, FFmpeg supervision, progress, logs,
 * persistence, and lifecycle hooks through which other subsystems add outputs.
 */
export class ProcessManager extends EventEmitter<{
  started: [id: string];
  exited: [id: string, exit: RunExit];
  removed: [id: string];
  state: [id: string, exec: ExecState];
  order: [id: string, order: 'start' | 'stop'];
}> {
  readonly #entries = new Map<string, ProcessEntry>();
  readonly #store: ProcessStore;
  readonly #options: Required<Omit<ProcessManagerOptions, 'hooks' | 'logger' | 'placeholders'>>;
  readonly #logger: ManagerLogger;
  readonly #placeholders: PlaceholderResolver;
  readonly #children: ChildRegistry;
  readonly #sampler = new ResourceSampler();
  #hooks: ProcessHooks;
  #globalMetadata: Record<string, unknown> = {};
  #skills: Skills | undefined;
  #appendWindow: { id: string; outputs: AppendedOutput[] } | undefined;
  #ticker: NodeJS.Timeout;
  #closed = false;

  private constructor(options: ProcessManagerOptions) {
    super();
    this.#options = {
      dataDir: options.dataDir,
      ffmpegBinary: options.ffmpegBinary ?? 'ffmpeg',
      logLines: options.logLines ?? 50,
      historyRuns: options.historyRuns ?? 3,
      skipSkills: options.skipSkills ?? false,
      stopTimeoutMs: options.stopTimeoutMs ?? 5000,
    };
    this.#hooks = options.hooks ?? {};
    this.#logger = options.logger ?? silentLogger;
    this.#placeholders = createPlaceholderResolver(options.placeholders ?? {});
    this.#store = new ProcessStore(options.dataDir);
    this.#children = new ChildRegistry(options.dataDir, this.#options.ffmpegBinary);
    this.#ticker = setInterval(() => this.#tick(), 1000);
    this.#ticker.unref();
  }

  /** Checks FFmpeg, loads the store, reaps FFmpegs a crashed predecessor left, starts what was running. */
  static async create(options: ProcessManagerOptions): Promise<ProcessManager> {
    const manager = new ProcessManager(options);
    try {
      if (!manager.#options.skipSkills) manager.#skills = await detectSkills(manager.#options.ffmpegBinary);
      const data = manager.#store.load();
      manager.#children.reapOrphans((pid) =>
        manager.#logger.warn({ pid }, 'killed an FFmpeg left by an earlier run'),
      );
      manager.#globalMetadata = data.metadata;
      for (const stored of data.processes) {
        manager.#entries.set(
          stored.config.id,
          manager.#newEntry(stored.config, stored.order, stored.metadata, stored.created_at),
        );
      }
    } catch (error) {
      clearInterval(manager.#ticker);
      throw error;
    }
    for (const [id, entry] of manager.#entries) {
      if (entry.order === 'start') manager.#enqueue(entry, () => manager.#startRun(id, entry));
    }
    return manager;
  }

  setHooks(hooks: ProcessHooks): void {
    this.#hooks = hooks;
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  async add(input: ProcessConfigInput): Promise<ProcessConfig> {
    this.#assertOpen();
    const config = withGeneratedIds(parseConfig(input), randomUUID);
    if (this.#entries.has(config.id)) throw new ProcessExistsError(config.id);
    const entry = this.#newEntry(
      config,
      config.autostart ? 'start' : 'stop',
      {},
      Math.floor(Date.now() / 1000),
    );
    this.#entries.set(config.id, entry);
    this.#persist();
    if (entry.order === 'start') this.#enqueue(entry, () => this.#startRun(config.id, entry));
    return config;
  }

  /** Replaces the config (the id may change); a running process restarts with it, keeping order, metadata and history. */
  async update(id: string, input: ProcessConfigInput): Promise<ProcessConfig> {
    this.#assertOpen();
    const entry = this.#entry(id);
    const parsed = parseConfig(input);
    const config = withGeneratedIds({ ...parsed, id: parsed.id || id }, randomUUID);
    if (config.id !== id && this.#entries.has(config.id)) throw new ProcessExistsError(config.id);
    await this.#enqueue(entry, async () => {
      const wasRunning = entry.run?.running ?? false;
      if (wasRunning) await this.#stopRun(id, entry, 'config updated');
      entry.config = config;
      if (config.id !== id) {
        this.#entries.delete(id);
        this.#entries.set(config.id, entry);
      }
      this.#persist();
      if (entry.order === 'start') await this.#startRun(config.id, entry);
    });
    return config;
  }

  async remove(id: string): Promise<void> {
    const entry = this.#entry(id);
    this.#setOrder(id, entry, 'stop');
    await this.#enqueue(entry, () => this.#stopRun(id, entry, 'process removed'));
    this.#entries.delete(id);
    this.#persist();
    this.emit('removed', id);
  }

  getConfig(id: string): ProcessConfig {
    return structuredClone(this.#entry(id).config);
  }

  /** Unix seconds when the process was added. */
  getCreatedAt(id: string): number {
    return this.#entry(id).createdAt;
  }

  getState(id: string): ProcessStateJson {
    const entry = this.#entry(id);
    const sample = entry.run?.pid ? this.#sampler.last(entry.run.pid) : undefined;
    return describeState(entry, sample);
  }

  getReport(id: string): ProcessReportJson {
    const entry = this.#entry(id);
    return describeReport(entry.run, entry.history);
  }

  list(filter: ListFilter = {}): string[] {
    const idPattern = filter.idPattern ? globToRegExp(filter.idPattern) : undefined;
    const referencePattern = filter.referencePattern ? globToRegExp(filter.referencePattern) : undefined;
    const ids = filter.ids ? new Set(filter.ids) : undefined;
    return [...this.#entries]
      .filter(([id, entry]) => {
        if (ids && !ids.has(id)) return false;
        if (idPattern && !idPattern.test(id)) return false;
        if (filter.reference !== undefined && entry.config.reference !== filter.reference) return false;
        return !referencePattern || referencePattern.test(entry.config.reference);
      })
      .map(([id]) => id)
      .sort();
  }

  async command(id: string, command: ProcessCommand): Promise<void> {
    this.#assertOpen();
    const entry = this.#entry(id);
    switch (command) {
      case 'start':
        this.#setOrder(id, entry, 'start');
        await this.#enqueue(entry, () => this.#startRun(id, entry));
        return;
      case 'stop':
        this.#setOrder(id, entry, 'stop');
        await this.#enqueue(entry, () => this.#stopRun(id, entry, 'stop command'));
        return;
      case 'restart':
        // Unlike datarhei, a restart always ends running, whatever `reconnect` says.
        this.#setOrder(id, entry, 'start');
        await this.#enqueue(entry, async () => {
          await this.#stopRun(id, entry, 'restart command');
          await this.#startRun(id, entry);
        });
        return;
      case 'reload':
        // Re-reads the config into a new command: restarts a running process, leaves a stopped one.
        await this.#enqueue(entry, async () => {
          if (entry.order !== 'start') return;
          await this.#stopRun(id, entry, 'reload command');
          await this.#startRun(id, entry);
        });
        return;
    }
  }

  async probe(id: string, options: { timeoutMs?: number } = {}): Promise<ProbeResult> {
    const config = replacePlaceholders(this.#entry(id).config, this.#placeholders);
    return probeInputs(this.#options.ffmpegBinary, config, options.timeoutMs ?? 20_000);
  }

  getMetadata(id: string, key?: string): unknown {
    const metadata = this.#entry(id).metadata;
    return key === undefined ? structuredClone(metadata) : structuredClone(metadata[key]);
  }

  async setMetadata(id: string, key: string, value: unknown): Promise<void> {
    setKey(this.#entry(id).metadata, key, value);
    this.#persist();
  }

  getGlobalMetadata(key?: string): unknown {
    return key === undefined
      ? structuredClone(this.#globalMetadata)
      : structuredClone(this.#globalMetadata[key]);
  }

  async setGlobalMetadata(key: string, value: unknown): Promise<void> {
    setKey(this.#globalMetadata, key, value);
    this.#persist();
  }

  /** What FFmpeg can do, detected at boot. */
  skills(): Skills | Record<string, never> {
    return this.#skills ?? {};
  }

  async reloadSkills(): Promise<Skills> {
    this.#skills = await detectSkills(this.#options.ffmpegBinary);
    return this.#skills;
  }

  /** Adds an output to the FFmpeg about to start; valid only inside that process's `onStart`. */
  appendOutput(id: string, output: AppendedOutput): void {
    if (this.#appendWindow?.id !== id) throw new AppendOutputOutsideStartError(id);
    this.#appendWindow.outputs.push({ ...output, options: [...output.options] });
  }

  /** Stops every FFmpeg (stored orders are kept, so the next start brings them back) and flushes the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#ticker);
    await Promise.all(
      [...this.#entries].map(([id, entry]) => {
        clearTimeout(entry.reconnectTimer);
        entry.reconnectTimer = undefined;
        return this.#enqueue(entry, () => this.#stopRun(id, entry, 'server shutting down'));
      }),
    );
    this.#persist();
    this.#children.close();
  }

  #newEntry(
    config: ProcessConfig,
    order: 'start' | 'stop',
    metadata: Record<string, unknown>,
    createdAt: number,
  ): ProcessEntry {
    return {
      config,
      createdAt,
      order,
      metadata,
      exec: 'finished',
      run: undefined,
      command: [],
      history: [],
      reconnectTimer: undefined,
      reconnectAt: undefined,
      queue: Promise.resolve(),
      intentionalStop: false,
      limitExceededSince: undefined,
    };
  }

  #entry(id: string): ProcessEntry {
    const entry = this.#entries.get(id);
    if (!entry) throw new ProcessNotFoundError(id);
    return entry;
  }

  #enqueue<T>(entry: ProcessEntry, task: () => Promise<T>): Promise<T> {
    const next = entry.queue.then(task, task);
    entry.queue = next.catch(() => undefined);
    return next;
  }

  #setOrder(id: string, entry: ProcessEntry, order: 'start' | 'stop'): void {
    if (entry.order === order) return;
    entry.order = order;
    this.#persist();
    this.emit('order', id, order);
  }

  #setExec(id: string, entry: ProcessEntry, exec: ExecState): void {
    entry.exec = exec;
    this.emit('state', id, exec);
  }

  async #startRun(id: string, entry: ProcessEntry): Promise<void> {
    if (this.#closed || entry.order !== 'start' || entry.run?.running) return;
    clearTimeout(entry.reconnectTimer);
    entry.reconnectTimer = undefined;
    entry.reconnectAt = undefined;
    this.#setExec(id, entry, 'starting');
    const config = replacePlaceholders(entry.config, this.#placeholders);
    const window = { id, outputs: [] as AppendedOutput[] };
    this.#appendWindow = window;
    try {
      await this.#hooks.onStart?.(id, structuredClone(entry.config));
    } catch (error) {
      const aborted = new HookAbortedError(id, { cause: error });
      this.#logger.error({ processId: id, err: error }, 'onStart hook aborted the start');
      entry.history.push({
        createdAt: Date.now(),
        prelude: [],
        log: [{ at: Date.now(), line: aborted.message }],
        exit: undefined,
      });
      this.#trimHistory(entry);
      this.#setExec(id, entry, 'failed');
      this.#scheduleReconnect(id, entry);
      return;
    } finally {
      if (this.#appendWindow === window) this.#appendWindow = undefined;
    }
    if (entry.order !== 'start' || this.#closed) {
      this.#setExec(id, entry, 'finished');
      return;
    }
    entry.command = buildCommand(config, window.outputs);
    entry.intentionalStop = false;
    entry.limitExceededSince = undefined;
    const run = new FFmpegRun({
      binary: this.#options.ffmpegBinary,
      args: entry.command,
      logLines: this.#options.logLines,
      stopTimeoutMs: this.#options.stopTimeoutMs,
    });
    entry.run = run;
    if (run.pid) this.#children.add(run.pid);
    this.#setExec(id, entry, 'running');
    this.#logger.info({ processId: id, pid: run.pid }, 'ffmpeg started');
    this.emit('started', id);
    void run.exited.then((exit) => this.#onExit(id, entry, run, exit));
  }

  async #onExit(initialId: string, entry: ProcessEntry, run: FFmpegRun, exit: RunExit): Promise<void> {
    if (run.pid) {
      this.#children.remove(run.pid);
      this.#sampler.forget(run.pid);
    }
    const id = this.#entries.get(initialId) === entry ? initialId : entry.config.id;
    entry.history.push({ createdAt: run.startedAt, prelude: run.prelude, log: run.log, exit, run });
    this.#trimHistory(entry);
    const exec = entry.intentionalStop && exit.state !== 'failed' ? 'finished' : exit.state;
    this.#setExec(id, entry, exec);
    this.#logger.info({ processId: id, code: exit.code, signal: exit.signal, exec }, 'ffmpeg exited');
    this.emit('exited', id, exit);
    try {
      await this.#hooks.onStop?.(id, structuredClone(entry.config), { code: exit.code, signal: exit.signal });
    } catch (error) {
      this.#logger.warn({ processId: id, err: error }, 'onStop hook failed');
    }
    if (!entry.intentionalStop) this.#scheduleReconnect(id, entry);
  }

  #scheduleReconnect(id: string, entry: ProcessEntry): void {
    if (this.#closed || entry.order !== 'start' || !entry.config.reconnect || !this.#entries.has(id)) return;
    const delayMs = entry.config.reconnect_delay_seconds * 1000;
    entry.reconnectAt = Date.now() + delayMs;
    entry.reconnectTimer = setTimeout(() => {
      entry.reconnectTimer = undefined;
      void this.#enqueue(entry, () => this.#startRun(entry.config.id, entry));
    }, delayMs);
  }

  async #stopRun(id: string, entry: ProcessEntry, reason: string): Promise<void> {
    clearTimeout(entry.reconnectTimer);
    entry.reconnectTimer = undefined;
    entry.reconnectAt = undefined;
    const run = entry.run;
    if (!run?.running) {
      if (entry.exec === 'starting') this.#setExec(id, entry, 'finished');
      return;
    }
    entry.intentionalStop = true;
    run.note(`stopping: ${reason}`);
    this.#setExec(id, entry, 'finishing');
    await run.stop();
    // The exit handler (hooks included) runs from the exit event; wait for it to settle.
    await new Promise((resolve) => setImmediate(resolve));
  }

  #trimHistory(entry: ProcessEntry): void {
    // The current run's log lives in `run`; history keeps the previous runs.
    const keep = this.#options.historyRuns + 1;
    if (entry.history.length > keep) entry.history.splice(0, entry.history.length - keep);
  }

  /** Once a second: CPU and memory of each FFmpeg, stale detection, limits. */
  #tick(): void {
    const now = Date.now();
    for (const [id, entry] of this.#entries) {
      const run = entry.run;
      if (!run?.running || !run.pid || entry.exec !== 'running') continue;
      const sample = this.#sampler.sample(run.pid, now);
      const stale = entry.config.stale_timeout_seconds;
      if (stale > 0 && now - run.lastFrameChangeAt > stale * 1000) {
        this.#killForCause(id, entry, run, `no progress for ${stale} s: stale, killing FFmpeg`);
        continue;
      }
      const limits = entry.config.limits;
      const overCpu = limits.cpu_usage > 0 && sample !== undefined && sample.cpuPercent > limits.cpu_usage;
      const overMemory =
        limits.memory_mbytes > 0 &&
        sample !== undefined &&
        sample.memoryBytes > limits.memory_mbytes * 1024 * 1024;
      if (!overCpu && !overMemory) {
        entry.limitExceededSince = undefined;
        continue;
      }
      entry.limitExceededSince ??= now;
      if (now - entry.limitExceededSince >= limits.waitfor_seconds * 1000) {
        const what = overCpu
          ? `CPU ${sample?.cpuPercent.toFixed(1)} % > ${limits.cpu_usage} %`
          : `memory ${sample?.memoryBytes} bytes > ${limits.memory_mbytes} MiB`;
        this.#killForCause(
          id,
          entry,
          run,
          `limit exceeded (${what}) for ${limits.waitfor_seconds} s: stopping FFmpeg`,
        );
      }
    }
  }

  #killForCause(id: string, entry: ProcessEntry, run: FFmpegRun, line: string): void {
    run.note(line);
    this.#logger.warn({ processId: id }, line);
    entry.limitExceededSince = undefined;
    run.kill();
  }

  #persist(): void {
    this.#store.save({
      version: 1,
      processes: [...this.#entries.values()].map((entry) => ({
        config: entry.config,
        order: entry.order,
        metadata: entry.metadata,
        created_at: entry.createdAt,
      })),
      metadata: this.#globalMetadata,
    });
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

function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(key)) throw new MetadataKeyInvalidError(key);
  if (value === null || value === undefined) delete target[key];
  else target[key] = structuredClone(value);
}
