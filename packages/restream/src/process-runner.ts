import type { ChildRegistry } from './child-registry.js';
import type { ProcessConfig } from './config-schema.js';
import { HookAbortedError } from './errors.js';
import type { FFmpegAccess } from './ffmpeg-access.js';
import { buildCommand } from './ffmpeg-command.js';
import { type ExecState, FFmpegRun, type RunExit } from './ffmpeg-run.js';
import type { ManagerLogger } from './manager-options.js';
import type { MetadataMap } from './metadata-map.js';
import { processJson } from './process-store.js';
import type { RunRecord } from './process-views.js';
import { ReconnectTimer } from './reconnect-timer.js';
import type { ResourceSampler } from './resource-sampler.js';
import { RunWatchdog } from './run-watchdog.js';
import { HookContract, type ProcessHooks, StartAttempt, type StopReason } from './start-context.js';

/** What every runner of one manager shares. */
export interface RunnerContext {
  binary: string;
  logLines: number;
  historyRuns: number;
  stopTimeoutMs: number;
  hooks: ProcessHooks;
  logger: ManagerLogger;
  access: FFmpegAccess;
  children: ChildRegistry;
  sampler: ResourceSampler;
  expand(config: ProcessConfig): ProcessConfig;
  observer: {
    state(runner: ProcessRunner, exec: ExecState): void;
    order(runner: ProcessRunner, order: 'start' | 'stop'): void;
    started(runner: ProcessRunner): void;
    exited(runner: ProcessRunner, exit: RunExit): void;
    /** Something the store keeps changed. */
    changed(runner: ProcessRunner): void;
  };
}

const stopReasonText: Partial<Record<StopReason, string>> = {
  stop: 'stop command',
  restart: 'restart command',
  reload: 'reload command',
  update: 'config updated',
  rename: 'process renamed',
  'hook-restart': 'restart asked for by a hook',
  remove: 'process removed',
  close: 'server shutting down',
};

/**
 * One process's run state machine: starts (placeholders, access check, `onStart`, spawn), exits,
 * reconnects, stops, and what the hooks are told. Everything that changes the run goes through
 * one queue, so starts, stops and exit handling of a process never interleave.
 */
export class ProcessRunner {
  id: string;
  config: ProcessConfig;
  order: 'start' | 'stop';
  exec: ExecState = 'finished';
  readonly createdAt: number;
  updatedAt: number;
  readonly metadata: MetadataMap;
  readonly history: RunRecord[] = [];
  /** The argument list of the latest start. */
  command: string[] = [];
  readonly #context: RunnerContext;
  readonly #watchdog = new RunWatchdog();
  #attempt: StartAttempt | undefined;
  #lastRun: FFmpegRun | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #reconnect = new ReconnectTimer();
  readonly #hooks: HookContract;
  #disposed = false;
  #stored: { text: string; bytes: number } | undefined;

  constructor(
    context: RunnerContext,
    init: {
      config: ProcessConfig;
      order: 'start' | 'stop';
      metadata: MetadataMap;
      createdAt: number;
      updatedAt: number;
    },
  ) {
    this.#context = context;
    this.#hooks = new HookContract(context.hooks, context.logger);
    this.id = init.config.id;
    this.config = init.config;
    this.order = init.order;
    this.metadata = init.metadata;
    this.createdAt = init.createdAt;
    this.updatedAt = init.updatedAt;
  }

  /** The latest FFmpeg that ran (or runs). */
  get run(): FFmpegRun | undefined {
    return this.#lastRun;
  }

  get lastLogline(): string {
    return this.#attempt?.log.last ?? '';
  }

  get reconnectAt(): number | undefined {
    return this.#reconnect.at;
  }

  /** This process as a line of the store, cached until something in it changes. */
  get stored(): { text: string; bytes: number } {
    if (!this.#stored) {
      const text = processJson({
        config: this.config,
        order: this.order,
        metadataJson: this.metadata.json,
        createdAt: this.createdAt,
        updatedAt: this.updatedAt,
      });
      this.#stored = { text, bytes: Buffer.byteLength(text) };
    }
    return this.#stored;
  }

  /** Call after changing `metadata`. */
  changed(): void {
    this.#stored = undefined;
    this.#context.observer.changed(this);
  }

  /** Sets the order (before the matching command is queued); a stop calls off a start in progress. */
  setOrder(order: 'start' | 'stop'): void {
    if (this.order === order) return;
    this.order = order;
    if (order === 'stop') this.#callOff('stop');
    this.changed();
    this.#context.observer.order(this, order);
  }

  start(): Promise<void> {
    return this.#enqueue(() => this.#start());
  }

  stop(): Promise<void> {
    return this.#enqueue(() => this.#stop('stop', false));
  }

  /** `restart` always runs again (whatever `reconnect` says); `reload` only a process ordered to run. */
  restart(reason: 'restart' | 'reload'): Promise<void> {
    return this.#enqueue(async () => {
      if (this.order !== 'start') return;
      await this.#stop(reason, true);
      await this.#start();
    });
  }

  /**
   * Stops a running process for a new config (and maybe id) and swaps it in; the caller starts it
   * again (`start`), once the collection knows the new id.
   */
  replace(config: ProcessConfig): Promise<void> {
    return this.#enqueue(async () => {
      const renamed = config.id !== this.id;
      // Under a new id the process does not come back as far as the old id is concerned.
      await this.#stop(renamed ? 'rename' : 'update', !renamed && this.order === 'start');
      this.config = config;
      this.id = config.id;
      this.updatedAt = Math.floor(Date.now() / 1000);
      this.changed();
    });
  }

  /** Stops for good (remove, shutdown); nothing starts it again. */
  dispose(reason: 'remove' | 'close'): Promise<void> {
    this.#disposed = true;
    this.#reconnect.cancel();
    this.#callOff(reason);
    return this.#enqueue(() => this.#stop(reason, false));
  }

  /** Once a second: CPU and memory of FFmpeg, stale detection, limits. */
  tick(now: number): void {
    const attempt = this.#attempt;
    const run = attempt?.run;
    if (!attempt || !run?.running || !run.pid || this.exec !== 'running') return;
    const sample = this.#context.sampler.sample(run.pid, now);
    const verdict = this.#watchdog.check(this.config, run, sample, now);
    if (!verdict) return;
    run.note(verdict.line);
    this.#context.logger.warn({ processId: this.id }, verdict.line);
    attempt.killReason = verdict.cause;
    run.kill();
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(task);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** For work nobody awaits (exit handling, reconnects): a failure is logged, not lost. */
  #background(task: () => Promise<void>): void {
    this.#enqueue(task).catch((error: unknown) =>
      this.#context.logger.error({ processId: this.id, err: error }, 'process task failed'),
    );
  }

  /** Aborts the signal of an `onStart` still running; after it, the order check calls the start off. */
  #callOff(reason: string): void {
    if (this.#attempt?.open) this.#attempt.abort(reason);
  }

  async #start(): Promise<void> {
    const previous = this.#attempt;
    if (previous?.run && !previous.exitHandled) {
      if (previous.run.running) return;
      // It exited and its handler is still queued behind us: settle that run first.
      await this.#handleExit(previous, await previous.run.exited);
    }
    if (this.#disposed || this.order !== 'start') return;
    this.#reconnect.cancel();
    this.#setExec('starting');
    const context = this.#context;
    const attempt: StartAttempt = new StartAttempt(this.id, this.config, context.logLines, (why) =>
      this.#restartAttempt(attempt, why),
    );
    this.#attempt = attempt;
    this.#watchdog.reset();
    let expanded: ProcessConfig;
    try {
      expanded = context.expand(this.config);
      context.access.check(this.id, expanded);
    } catch (error) {
      return this.#failStart(attempt, error as Error);
    }
    try {
      await this.#hooks.start(attempt, expanded);
    } catch (cause) {
      attempt.close();
      return this.#failStart(attempt, new HookAbortedError(this.id, { cause }));
    }
    attempt.close();
    if (attempt.signal.aborted || this.#disposed || this.order !== 'start') {
      attempt.log.add('the start was called off before FFmpeg was spawned');
      this.#record(attempt, null);
      this.#setExec('finished');
      attempt.listInputs(undefined);
      return this.#hooks.stopped(attempt, { exit: null, reason: 'start-cancelled', comingBack: false });
    }
    this.command = buildCommand(expanded, attempt.outputs, attempt.inputOptions);
    let run: FFmpegRun;
    try {
      run = await FFmpegRun.start({
        binary: context.binary,
        args: this.command,
        log: attempt.log,
        env: context.access.environment,
        cwd: context.access.cwd,
        stopTimeoutMs: context.stopTimeoutMs,
      });
    } catch (error) {
      return this.#failStart(attempt, error as Error);
    }
    attempt.run = run;
    this.#lastRun = run;
    this.#reconnect.startSucceeded();
    if (run.pid) context.children.add(run.pid);
    attempt.listInputs(run.inputs);
    this.#setExec('running');
    context.logger.info({ processId: this.id, pid: run.pid }, 'ffmpeg started');
    context.observer.started(this);
    void run.exited.then((exit) => this.#background(() => this.#handleExit(attempt, exit)));
  }

  /**
   * `StartContext.restart`: queues a stop and a new start of the process, provided `attempt` is
   * still its latest start and it is ordered to run (checked again when the task runs, since a
   * stop, an update or another restart may come first).
   */
  #restartAttempt(attempt: StartAttempt, why: string): boolean {
    const current = () => this.#attempt === attempt && !this.#disposed && this.order === 'start';
    if (!current()) return false;
    this.#background(async () => {
      if (!current()) return;
      attempt.log.add(`restarting: ${why}`);
      this.#context.logger.info({ processId: this.id, why }, 'restart asked for by a hook');
      await this.#stop('hook-restart', true);
      await this.#start();
    });
    return true;
  }

  /** A start that never ran FFmpeg: the access check, `onStart` or the spawn failed. */
  async #failStart(attempt: StartAttempt, error: Error): Promise<void> {
    attempt.close();
    attempt.log.add(error.message);
    this.#record(attempt, null);
    this.#setExec('failed');
    this.#context.logger.error({ processId: this.id, err: error }, 'start failed');
    this.#reconnect.startFailed();
    attempt.listInputs(undefined);
    const comingBack = this.#scheduleReconnect(true);
    await this.#hooks.stopped(attempt, { exit: null, reason: 'start-failed', comingBack, error });
  }

  async #stop(reason: StopReason, comingBack: boolean): Promise<void> {
    this.#reconnect.cancel();
    const attempt = this.#attempt;
    const run = attempt?.run;
    if (attempt && run && !attempt.exitHandled) {
      if (run.running) {
        run.note(`stopping: ${stopReasonText[reason] ?? reason}`);
        this.#setExec('finishing');
      }
      await this.#handleExit(attempt, await run.stop(), { reason, comingBack });
      return;
    }
    if (!comingBack) await this.#hooks.notComingBack(this.id, this.config, reason);
  }

  async #handleExit(
    attempt: StartAttempt,
    exit: RunExit,
    intended?: { reason: StopReason; comingBack: boolean },
  ): Promise<void> {
    if (attempt.exitHandled || !attempt.run) return;
    attempt.exitHandled = true;
    const run = attempt.run;
    const context = this.#context;
    if (run.pid) {
      context.children.remove(run.pid);
      context.sampler.forget(run.pid);
    }
    this.#record(attempt, exit);
    const exec = intended && exit.state !== 'failed' ? 'finished' : exit.state;
    this.#setExec(exec);
    context.logger.info({ processId: this.id, code: exit.code, signal: exit.signal, exec }, 'ffmpeg exited');
    context.observer.exited(this, exit);
    const reason = intended?.reason ?? attempt.killReason ?? 'exit';
    const comingBack = intended ? intended.comingBack : this.#scheduleReconnect(false);
    await this.#hooks.stopped(attempt, { exit, reason, comingBack });
  }

  /** Arms the reconnect timer when the process should come back by itself; says whether it will. */
  #scheduleReconnect(afterFailedStart: boolean): boolean {
    if (this.#disposed || this.order !== 'start' || !this.config.reconnect) return false;
    this.#reconnect.arm(this.config.reconnect_delay_seconds, afterFailedStart, () =>
      this.#background(() => this.#start()),
    );
    return true;
  }

  #record(attempt: StartAttempt, exit: RunExit | null): void {
    const run = attempt.run;
    this.history.push({
      createdAt: run?.startedAt ?? attempt.startedAt,
      prelude: run?.prelude ?? [],
      log: attempt.log.entries,
      exit: exit ?? undefined,
      ...(run ? { run } : {}),
    });
    // The current run's log lives in `run`; history keeps the runs before it.
    const keep = this.#context.historyRuns + 1;
    if (this.history.length > keep) this.history.splice(0, this.history.length - keep);
  }

  #setExec(exec: ExecState): void {
    this.exec = exec;
    this.#context.observer.state(this, exec);
  }
}
