import type { ProcessConfig } from './config-schema.js';
import { AppendOutputOutsideStartError, NoSuchInputError } from './errors.js';
import type { AppendedOutput } from './ffmpeg-command.js';
import type { StreamFacts } from './ffmpeg-output-parser.js';
import { type FFmpegRun, type RunExit, RunLog } from './ffmpeg-run.js';

/** What `onStart` gets: everything about this one start of FFmpeg, valid for it only. */
export interface StartContext {
  readonly id: string;
  /** The stored config (a copy). */
  readonly config: ProcessConfig;
  /** The config with placeholders replaced, as FFmpeg will get it (a copy). */
  readonly expanded: ProcessConfig;
  /**
   * Adds an output to this start of FFmpeg only; it never enters the stored config. Throws
   * `AppendOutputOutsideStartError` once `onStart` has settled.
   */
  appendOutput(output: AppendedOutput): void;
  /**
   * Puts options before input `index`'s own options, for this start of FFmpeg only (e.g. `-re`);
   * they never enter the stored config, and the input's own options, coming after, win where both
   * set one. Throws `NoSuchInputError` for an index the config does not have, and
   * `AppendOutputOutsideStartError` once `onStart` has settled.
   */
  addInputOptions(index: number, options: readonly string[]): void;
  /** A line in this start's log (the report's `log`). */
  note(line: string): void;
  /** Aborted when this start is called off before FFmpeg spawns (stop, remove, shutdown). */
  readonly signal: AbortSignal;
  /**
   * The input streams once FFmpeg's banner has listed them (an empty list when its log level hides
   * them); `undefined` when this start ends before that (FFmpeg never spawned or exited first).
   */
  readonly inputs: Promise<StreamFacts[] | undefined>;
  /**
   * Asks for this process to be started again now, because this start cannot do its job (e.g. the
   * outputs the hook added do not fit the input FFmpeg found): the run is stopped (`reason`
   * `hook-restart`, coming back) and a new start follows, with a new `onStart`. `why` goes into the
   * log. Does nothing once this start is no longer the process's latest, or the process is no
   * longer ordered to run; returns whether the restart was queued. Restarting on every start loops:
   * the caller must only ask when the next start will decide differently.
   */
  restart(why: string): boolean;
  /**
   * How fast this start's FFmpeg runs: seconds of output per second of wall-clock time over its
   * last progress reports (up to ten seconds of them). About 1 for an input read in real time
   * (a camera, `-re`); below that FFmpeg falls behind, for want of CPU. Undefined before FFmpeg has
   * reported for two seconds, and once this start has ended.
   */
  speed(): number | undefined;
}

/**
 * Why a run ended. `exit`: FFmpeg exited by itself; `stale`/`limits`: the manager killed it;
 * `start-failed`: it never ran (see `error`); `start-cancelled`: the start was called off after
 * `onStart`; `hook-restart`: a hook asked for another start (`StartContext.restart`); the rest name
 * the command that ended it.
 */
export type StopReason =
  | 'stop'
  | 'restart'
  | 'reload'
  | 'update'
  | 'rename'
  | 'remove'
  | 'close'
  | 'exit'
  | 'stale'
  | 'limits'
  | 'hook-restart'
  | 'start-failed'
  | 'start-cancelled';

/** What `onStop` gets. */
export interface StopContext {
  readonly id: string;
  /** The stored config this start ran with (a copy). */
  readonly config: ProcessConfig;
  /** How FFmpeg exited; `null` when it did not run (a failed or cancelled start, a withdrawn comeback). */
  readonly exit: RunExit | null;
  /**
   * The manager will start this process again under this id without being asked (restart, reload,
   * update, reconnect). When `true`, another `onStart` follows — or, if that comeback is called
   * off (stop, remove, rename, shutdown), an `onStop` with `exit: null` and `comingBack: false`.
   */
  readonly comingBack: boolean;
  readonly reason: StopReason;
  /** Why the start failed (`HookAbortedError`, `FFmpegSpawnError`), for `start-failed`. */
  readonly error?: Error;
}

/**
 * Given at `ProcessManager.create()`, so restored processes start with them. Every `onStart` is
 * followed by one `onStop` for that start, and a promised comeback that is called off by one more
 * (see `StopContext.comingBack`). Starts of one process never overlap; starts of different
 * processes may, each with its own context.
 */
export interface ProcessHooks {
  /** After placeholders and access checks, before FFmpeg is spawned; throwing aborts this start. */
  onStart?(context: StartContext): void | Promise<void>;
  /** After that start ended: FFmpeg exited (any way), or the start failed or was called off. */
  onStop?(context: StopContext): void | Promise<void>;
}

/** One start of a process, from `starting` until its exit has been handled. */
export class StartAttempt {
  readonly startedAt = Date.now();
  readonly log: RunLog;
  readonly outputs: AppendedOutput[] = [];
  /** Options `onStart` put before an input's own, by input index. */
  readonly inputOptions = new Map<number, string[]>();
  readonly config: ProcessConfig;
  readonly id: string;
  run: FFmpegRun | undefined;
  /** `onStart` was reached: the hooks get an `onStop` for this start. */
  hooked = false;
  exitHandled = false;
  /** Set when the manager kills the run for a cause (stale, limits). */
  killReason: 'stale' | 'limits' | undefined;
  readonly #controller = new AbortController();
  readonly inputs: Promise<StreamFacts[] | undefined>;
  #open = true;
  #listInputs!: (facts: StreamFacts[] | undefined) => void;
  readonly #restart: (why: string) => boolean;

  /** `restart` is the runner's: it queues a restart of this attempt, if it is still the latest. */
  constructor(id: string, config: ProcessConfig, logLines: number, restart: (why: string) => boolean) {
    this.id = id;
    this.config = config;
    this.#restart = restart;
    this.log = new RunLog(logLines);
    this.inputs = new Promise((resolve) => {
      this.#listInputs = resolve;
    });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  context(expanded: ProcessConfig): StartContext {
    return {
      id: this.id,
      config: structuredClone(this.config),
      expanded: structuredClone(expanded),
      appendOutput: (output) => {
        if (!this.#open) throw new AppendOutputOutsideStartError(this.id);
        this.outputs.push({ ...output, options: [...output.options] });
      },
      addInputOptions: (index, options) => {
        if (!this.#open) throw new AppendOutputOutsideStartError(this.id, 'addInputOptions');
        if (!Number.isInteger(index) || index < 0 || index >= expanded.input.length) {
          throw new NoSuchInputError(this.id, index);
        }
        this.inputOptions.set(index, [...(this.inputOptions.get(index) ?? []), ...options]);
      },
      note: (line) => this.log.add(line),
      signal: this.#controller.signal,
      inputs: this.inputs,
      restart: (why) => this.#restart(why),
      speed: () => (this.run?.running ? this.run.recentSpeed() : undefined),
    };
  }

  /** `onStart` has not settled yet. */
  get open(): boolean {
    return this.#open;
  }

  /** `onStart` settled: no more outputs. */
  close(): void {
    this.#open = false;
  }

  abort(reason: string): void {
    this.#controller.abort(new Error(reason));
  }

  /** Forwards the run's input facts (or `undefined` when there will be none). */
  listInputs(facts: Promise<StreamFacts[] | undefined> | undefined): void {
    if (facts) void facts.then(this.#listInputs);
    else this.#listInputs(undefined);
  }
}

interface HookLogger {
  warn(object: object, message: string): void;
}

/**
 * Keeps the promises the hooks rely on for one process: one `onStop` per `onStart`, and a promised
 * comeback (`comingBack: true`) either kept by the next `onStart` or withdrawn by an `onStop` with
 * `comingBack: false`. A throwing `onStop` is logged; it cannot undo a stop.
 */
export class HookContract {
  readonly #hooks: ProcessHooks;
  readonly #logger: HookLogger;
  /** An `onStop` said `comingBack: true` and neither an `onStart` nor a withdrawal followed yet. */
  #promised = false;

  constructor(hooks: ProcessHooks, logger: HookLogger) {
    this.#hooks = hooks;
    this.#logger = logger;
  }

  /** Calls `onStart`; from here on the start is owed an `onStop`. Throws what the hook threw. */
  async start(attempt: StartAttempt, expanded: ProcessConfig): Promise<void> {
    attempt.hooked = true;
    this.#promised = false;
    await this.#hooks.onStart?.(attempt.context(expanded));
  }

  /** A start ended (or never got to `onStart`). */
  async stopped(
    attempt: StartAttempt,
    stop: { exit: RunExit | null; reason: StopReason; comingBack: boolean; error?: Error },
  ): Promise<void> {
    if (attempt.hooked) {
      this.#promised = stop.comingBack;
      await this.#call({ id: attempt.id, config: structuredClone(attempt.config), ...stop });
    } else if (!stop.comingBack) await this.notComingBack(attempt.id, attempt.config, stop.reason);
  }

  /** The process will not come back under `id`: withdraws a comeback promised earlier, if any. */
  async notComingBack(id: string, config: ProcessConfig, reason: StopReason): Promise<void> {
    if (!this.#promised) return;
    this.#promised = false;
    await this.#call({ id, config: structuredClone(config), exit: null, comingBack: false, reason });
  }

  async #call(stop: StopContext): Promise<void> {
    try {
      await this.#hooks.onStop?.(stop);
    } catch (error) {
      this.#logger.warn({ processId: stop.id, err: error }, 'onStop hook failed');
    }
  }
}
