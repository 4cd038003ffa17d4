import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { progressFd } from './ffmpeg-command.js';

/**
 * The pids of our FFmpeg children, on disk, so that the FFmpegs a crashed (SIGKILLed) server left
 * behind are found and ended at the next start — and, in-process, killed synchronously when Node exits.
 * The first line of defence is the parent-death signal FFmpeg is started with (`spawnFFmpeg`); this
 * catches what that cannot: a system without it, or a server killed between a spawn and its `prctl`.
 */
export class ChildRegistry {
  readonly #file: string;
  readonly #binaryName: string;
  readonly #pids = new Set<number>();
  readonly #onExit = () => {
    for (const pid of this.#pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };

  constructor(dataDir: string, binary: string) {
    this.#file = join(dataDir, 'ffmpeg.pids');
    this.#binaryName = basename(binary);
    process.on('exit', this.#onExit);
  }

  /** Kills FFmpegs listed by an earlier server that are still ours (same binary, our progress pipe). */
  reapOrphans(onReaped: (pid: number) => void): void {
    if (!existsSync(this.#file)) return;
    const listed = readFileSync(this.#file, 'utf8')
      .split(/\s+/)
      .map(Number)
      .filter((pid) => Number.isInteger(pid) && pid > 1);
    for (const pid of listed) {
      if (!this.#isOurs(pid)) continue;
      try {
        process.kill(pid, 'SIGKILL');
        onReaped(pid);
      } catch {
        // exited meanwhile
      }
    }
    rmSync(this.#file, { force: true });
  }

  add(pid: number): void {
    this.#pids.add(pid);
    this.#write();
  }

  remove(pid: number): void {
    this.#pids.delete(pid);
    this.#write();
  }

  close(): void {
    process.off('exit', this.#onExit);
    this.#write();
  }

  #isOurs(pid: number): boolean {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return basename(cmdline[0] ?? '') === this.#binaryName && cmdline.includes(`pipe:${progressFd}`);
    } catch {
      return false;
    }
  }

  #write(): void {
    if (this.#pids.size === 0) rmSync(this.#file, { force: true });
    else writeFileSync(this.#file, [...this.#pids].join('\n'));
  }
}
