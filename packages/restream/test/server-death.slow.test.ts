import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, tempDir, waitFor } from './helpers.js';

/**
 * A real manager in a process of its own, killed with SIGKILL as a crash or the OOM killer would:
 * its FFmpeg must end with it, not run on re-parented to init. The child imports the built package.
 */

const childScript = fileURLToPath(new URL('./fixtures/manager-child.mjs', import.meta.url));
const spawned: ChildProcess[] = [];
const ffmpegs: number[] = [];

afterEach(async () => {
  for (const child of spawned.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  // Should the test fail, the FFmpeg it left must not run on after it.
  for (const pid of ffmpegs.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await cleanup();
});

/** `/proc/<pid>/stat`: its state letter and parent pid, or undefined once the process is gone. */
function stat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state = '', ppid = '0'] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** Running, sleeping or stopped; a zombie has ended (it only waits for its new parent to reap it). */
function alive(pid: number): boolean {
  const now = stat(pid);
  return now !== undefined && now.state !== 'Z' && now.state !== 'X';
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((candidate) => stat(candidate)?.ppid === pid);
}

describe('a manager killed with SIGKILL', () => {
  it('takes its FFmpeg with it', async () => {
    const child = spawn(process.execPath, [childScript, tempDir()], { stdio: ['ignore', 'pipe', 'inherit'] });
    spawned.push(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const running = new Promise<void>((resolve) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.includes('"running"')) resolve();
      });
    });
    await running;
    const [ffmpeg] = childrenOf(child.pid!);
    expect(ffmpeg).toBeDefined();
    ffmpegs.push(ffmpeg!);
    expect(readFileSync(`/proc/${ffmpeg}/cmdline`, 'utf8').split('\0')[0]).toMatch(/ffmpeg$/);

    child.kill('SIGKILL');
    await exited;

    await waitFor('the FFmpeg of the killed manager to end', () => !alive(ffmpeg!));
  });
});
