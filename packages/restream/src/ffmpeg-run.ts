import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { progressFd } from './ffmpeg-command.js';
import {
  BannerParser,
  isStatsLine,
  LineSplitter,
  type ProgressBlock,
  ProgressParser,
} from './ffmpeg-output-parser.js';

export type ExecState = 'finished' | 'starting' | 'running' | 'finishing' | 'failed' | 'killed';

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

export interface RunOptions {
  binary: string;
  args: string[];
  logLines: number;
  /** Grace between SIGINT and SIGKILL on stop. @default 5000 */
  stopTimeoutMs?: number;
}

const preludeHead = 100;
const preludeTail = 50;

/** One FFmpeg execution: its output parsed as it comes, its exit classified. */
export class FFmpegRun extends EventEmitter<{ exit: [RunExit]; progress: [ProgressBlock] }> {
  readonly startedAt = Date.now();
  readonly banner = new BannerParser();
  readonly log: LogEntry[] = [];
  readonly preludeStart: string[] = [];
  readonly preludeEnd: string[] = [];
  lastLogline = '';
  progress: ProgressBlock | undefined;
  /** When the frame counter last moved (stale detection). */
  lastFrameChangeAt = Date.now();
  /** The last ten seconds of counters, for moving averages. */
  readonly window: { at: number; frame: number; sizeKb: number }[] = [];
  readonly exited: Promise<RunExit>;
  readonly #child: ChildProcess;
  readonly #options: RunOptions;
  #inPrelude = true;
  #exit: RunExit | undefined;

  constructor(options: RunOptions) {
    super();
    this.#options = options;
    this.#child = spawn(options.binary, options.args, {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      detached: false,
    });
    const stderr = new LineSplitter((line) => this.#onStderrLine(line));
    this.#child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    const progressParser = new ProgressParser();
    const progress = new LineSplitter((line) => {
      const block = progressParser.feed(line);
      if (!block) return;
      this.#inPrelude = false;
      if (!this.progress || block.frame !== this.progress.frame) this.lastFrameChangeAt = Date.now();
      this.progress = block;
      this.window.push({ at: Date.now(), frame: block.frame, sizeKb: block.size_kb });
      if (this.window.length > 11) this.window.shift();
      this.emit('progress', block);
    });
    (this.#child.stdio[progressFd] as Readable).on('data', (chunk: Buffer) => progress.push(chunk));
    this.exited = new Promise((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.#exit) return;
        stderr.flush();
        this.#exit = { code, signal, state: classify(code, signal) };
        resolve(this.#exit);
        this.emit('exit', this.#exit);
      };
      this.#child.once('error', (error) => {
        this.#onStderrLine(`failed to start ${options.binary}: ${error.message}`);
        finish(null, null);
      });
      this.#child.once('close', finish);
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** The prelude as datarhei reports it: the first 100 and the last 50 banner lines. */
  get prelude(): string[] {
    return [...this.preludeStart, ...this.preludeEnd];
  }

  /** SIGINT, then SIGKILL if FFmpeg has not exited within the grace period. */
  stop(): Promise<RunExit> {
    if (this.#exit) return this.exited;
    this.#child.kill('SIGINT');
    const timer = setTimeout(() => this.kill(), this.#options.stopTimeoutMs ?? 5000);
    return this.exited.finally(() => clearTimeout(timer));
  }

  kill(): void {
    if (!this.#exit) this.#child.kill('SIGKILL');
  }

  /** Adds a line of our own (why we stopped it, …) to the log. */
  note(line: string): void {
    this.#append(line);
  }

  #onStderrLine(line: string): void {
    if (isStatsLine(line)) {
      this.#inPrelude = false;
      return;
    }
    this.banner.feed(line);
    this.lastLogline = line;
    if (this.#inPrelude) {
      if (this.preludeStart.length < preludeHead) this.preludeStart.push(line);
      else {
        this.preludeEnd.push(line);
        if (this.preludeEnd.length > preludeTail) this.preludeEnd.shift();
      }
      return;
    }
    this.#append(line);
  }

  #append(line: string): void {
    this.lastLogline = line;
    this.log.push({ at: Date.now(), line });
    if (this.log.length > this.#options.logLines)
      this.log.splice(0, this.log.length - this.#options.logLines);
  }
}

function classify(code: number | null, signal: NodeJS.Signals | null): RunExit['state'] {
  if (signal) return 'killed';
  return code === 0 || code === 255 ? 'finished' : 'failed';
}
