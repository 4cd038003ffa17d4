import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { FFmpegSpawnError } from './errors.js';
import { progressFd } from './ffmpeg-command.js';
import {
  BannerParser,
  isStatsLine,
  LineSplitter,
  type ProgressBlock,
  ProgressParser,
  type StreamFacts,
} from './ffmpeg-output-parser.js';
import { spawnFFmpeg } from './ffmpeg-spawn.js';

export const execStateSchema = z.enum(['finished', 'starting', 'running', 'finishing', 'failed', 'killed']);
export type ExecState = z.infer<typeof execStateSchema>;

export interface RunExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** datarhei's classification: 0 and 255 (FFmpeg's answer to SIGINT) finish, a signal kills, the rest fail. */
  state: 'finished' | 'failed' | 'killed';
}

export interface LogEntry {
  at: number;
  line: string;
}

/** The log of one start: notes before the spawn, then FFmpeg's lines after its banner, bounded. */
export class RunLog {
  readonly entries: LogEntry[] = [];
  /** The last line seen, banner lines included (datarhei's `last_logline`). */
  last = '';

  constructor(readonly limit: number) {}

  add(line: string): void {
    this.last = line;
    this.entries.push({ at: Date.now(), line });
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
  }
}

export interface RunOptions {
  binary: string;
  args: string[];
  log: RunLog;
  /** The environment FFmpeg gets, and nothing else. */
  env: Record<string, string>;
  cwd: string;
  /** Grace between SIGINT and SIGKILL on stop. @default 5000 */
  stopTimeoutMs?: number;
}

const preludeHead = 100;
const preludeTail = 50;
/** After these the banner has listed every input (`-loglevel level` prefixes lines with `[info] `). */
const inputsListed = /^(\[\w+\] )?(Stream mapping:|Output #\d)/;

/** One FFmpeg execution that did spawn: its output parsed as it comes, its exit classified. */
export class FFmpegRun {
  readonly startedAt = Date.now();
  readonly banner = new BannerParser();
  readonly preludeStart: string[] = [];
  readonly preludeEnd: string[] = [];
  progress: ProgressBlock | undefined;
  /** When the frame counter last moved (stale detection). */
  lastFrameChangeAt = Date.now();
  /** The last ten seconds of counters (`time`: FFmpeg's output time, s), for moving averages. */
  readonly window: { at: number; frame: number; sizeKb: number; time: number }[] = [];
  readonly exited: Promise<RunExit>;
  /**
   * The input streams as the banner listed them, once it has (an empty list when the log level
   * hides them); `undefined` when FFmpeg exited before listing any.
   */
  readonly inputs: Promise<StreamFacts[] | undefined>;
  readonly #child: ChildProcess;
  readonly #options: RunOptions;
  readonly #runLog: RunLog;
  #inPrelude = true;
  #exit: RunExit | undefined;
  /** `stop` sent SIGINT. */
  #interrupted = false;
  #listInputs: (facts: StreamFacts[] | undefined) => void = () => {};

  /**
   * Spawns FFmpeg; resolves once the child exists (Node's `spawn` event) and rejects with
   * `FFmpegSpawnError` when it could not be started — a start that failed, not a run that died.
   */
  static start(options: RunOptions): Promise<FFmpegRun> {
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawnFFmpeg(options.binary, options.args, {
          stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
          env: options.env,
          cwd: options.cwd,
        });
      } catch (error) {
        reject(new FFmpegSpawnError(options.binary, { cause: error }));
        return;
      }
      const onError = (error: Error) => reject(new FFmpegSpawnError(options.binary, { cause: error }));
      child.once('error', onError);
      child.once('spawn', () => {
        child.off('error', onError);
        resolve(new FFmpegRun(child, options));
      });
    });
  }

  private constructor(child: ChildProcess, options: RunOptions) {
    this.#child = child;
    this.#options = options;
    this.#runLog = options.log;
    this.inputs = new Promise((resolve) => {
      this.#listInputs = (facts) => {
        this.#listInputs = () => {};
        resolve(facts);
      };
    });
    const stderr = new LineSplitter((line) => this.#onStderrLine(line));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    const progressParser = new ProgressParser();
    const progress = new LineSplitter((line) => {
      const block = progressParser.feed(line);
      if (block) this.#onProgress(block);
    });
    (child.stdio[progressFd] as Readable).on('data', (chunk: Buffer) => progress.push(chunk));
    this.exited = new Promise((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.#exit) return;
        stderr.flush();
        this.#exit = { code, signal, state: classify(code, signal, this.#interrupted) };
        const listed = this.banner.facts.inputs;
        this.#listInputs(listed.length > 0 ? [...listed] : undefined);
        resolve(this.#exit);
      };
      // After a successful spawn an 'error' means a failed kill or pipe; the exit still comes by 'close'.
      child.on('error', (error) => this.#runLog.add(`FFmpeg process error: ${error.message}`));
      child.once('close', finish);
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  get log(): LogEntry[] {
    return this.#runLog.entries;
  }

  get lastLogline(): string {
    return this.#runLog.last;
  }

  /** The prelude as datarhei reports it: the first 100 and the last 50 banner lines. */
  get prelude(): string[] {
    return [...this.preludeStart, ...this.preludeEnd];
  }

  /**
   * Seconds of output per second of wall-clock time over the progress reports of the window, once
   * they span `minSpanMs` of output that has begun (`time` > 0): FFmpeg's own `speed`, but of the
   * last seconds rather than since its start, so that a machine that runs short of CPU after an
   * hour shows at once. Undefined before that. A report comes when FFmpeg gets to write one: one
   * that waits for its input writes none, and the figure stays what it was.
   */
  recentSpeed(): number | undefined {
    return speedOver(this.window);
  }

  /** SIGINT, then SIGKILL if FFmpeg has not exited within the grace period. */
  stop(): Promise<RunExit> {
    if (this.#exit) return this.exited;
    this.#interrupted = true;
    this.#child.kill('SIGINT');
    const timer = setTimeout(() => this.kill(), this.#options.stopTimeoutMs ?? 5000);
    return this.exited.finally(() => clearTimeout(timer));
  }

  kill(): void {
    if (!this.#exit) this.#child.kill('SIGKILL');
  }

  /** Adds a line of our own (why we stopped it, …) to the log. */
  note(line: string): void {
    this.#runLog.add(line);
  }

  #onProgress(block: ProgressBlock): void {
    this.#endPrelude();
    if (!this.progress || block.frame !== this.progress.frame) this.lastFrameChangeAt = Date.now();
    this.progress = block;
    this.window.push({ at: Date.now(), frame: block.frame, sizeKb: block.size_kb, time: block.time });
    if (this.window.length > 11) this.window.shift();
  }

  #endPrelude(): void {
    this.#inPrelude = false;
    this.#listInputs([...this.banner.facts.inputs]);
  }

  #onStderrLine(line: string): void {
    if (isStatsLine(line)) {
      this.#endPrelude();
      return;
    }
    if (inputsListed.test(line)) this.#listInputs([...this.banner.facts.inputs]);
    this.banner.feed(line);
    if (this.#inPrelude) {
      this.#runLog.last = line;
      if (this.preludeStart.length < preludeHead) this.preludeStart.push(line);
      else {
        this.preludeEnd.push(line);
        if (this.preludeEnd.length > preludeTail) this.preludeEnd.shift();
      }
      return;
    }
    this.#runLog.add(line);
  }
}

/**
 * Seconds of output (`time`) per second of arrival time (`at`, ms) from the first to the last of
 * `reports` whose output has begun, once they span `minSpanMs`; undefined before.
 */
export function speedOver(
  reports: readonly { at: number; time: number }[],
  minSpanMs = 2000,
): number | undefined {
  const begun = reports.filter((report) => report.time > 0);
  const first = begun[0];
  const last = begun.at(-1);
  if (!first || !last || last.at - first.at < minSpanMs) return undefined;
  return (last.time - first.time) / ((last.at - first.at) / 1000);
}

/**
 * A run that `stop` interrupted and that died of that SIGINT is finished, as if it had answered it
 * with 255: the signal came before FFmpeg set up its handler (its first milliseconds, or `setpriv`'s
 * before it executes FFmpeg).
 */
function classify(
  code: number | null,
  signal: NodeJS.Signals | null,
  interrupted: boolean,
): RunExit['state'] {
  if (signal === 'SIGINT' && interrupted) return 'finished';
  if (signal) return 'killed';
  return code === 0 || code === 255 ? 'finished' : 'failed';
}
