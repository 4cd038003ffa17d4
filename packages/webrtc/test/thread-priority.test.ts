import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@dragon/test-helpers';
import { afterEach, describe, expect, it } from 'vitest';
import { nicePermission } from '../src/fanout/thread-priority.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const schedIdle = 5;

/** A thread's name, nice value and scheduling policy, from /proc (proc_pid_stat(5)). */
function readThread(path: string): { name: string; nice: number; policy: number } {
  const stat = readFileSync(path, 'utf8');
  const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  // Fields after the name, from state (field 3): nice is field 19, policy field 41.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { name, nice: Number(fields[16]), policy: Number(fields[38]) };
}

/** Name → one value of each thread of a process of that name (`pick`: nice or policy). */
function threadValues(pid: number, pick: 'nice' | 'policy'): Map<string, number[]> {
  const threads = new Map<string, number[]>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const thread = readThread(`/proc/${pid}/task/${task}/stat`);
      threads.set(thread.name, [...(threads.get(thread.name) ?? []), thread[pick]]);
    } catch {
      // the thread ended while being read
    }
  }
  return threads;
}

/**
 * Runs `body` (an ES module's code, `FanoutPlane` in scope) in a node of its own until the test
 * ends; `prefix` is a command that runs node (setpriv, to drop a capability).
 */
async function planeProcess(
  body: string,
  prefix: string[] = [],
): Promise<{ pid: number; stdout: () => string }> {
  const index = new URL('../dist/index.js', import.meta.url).href;
  const dir = mkdtempSync(join(tmpdir(), 'dragon-priority-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'plane.mjs');
  writeFileSync(script, `const { FanoutPlane } = await import(${JSON.stringify(index)});\n${body}`);
  const [command, ...args] = [...prefix, process.execPath, script];
  const child = spawn(command!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => child.kill('SIGKILL'));
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  await waitFor('the plane to open', () => stdout.includes('open'));
  return { pid: child.pid!, stdout: () => stdout };
}

/** The nice values of the workers and of every other thread, and what `prioritized` said. */
async function openedPlane(options: string, prefix: string[] = []) {
  const child = await planeProcess(
    `const plane = FanoutPlane.open({ engine: 'native', shards: 2${options} });
     if (plane.engine !== 'native') throw new Error('no native data plane');
     setInterval(() => {}, 1000);
     console.log('open ' + JSON.stringify(await plane.prioritized));`,
    prefix,
  );
  const said = await waitFor('the priorities applied', () => /open (\{.*\})/.exec(child.stdout())?.[1]);
  const threads = threadValues(child.pid, 'nice');
  const named = (worker: boolean) =>
    [...threads].filter(([name]) => name.startsWith('dragon-fanout-') === worker);
  return { child, priority: JSON.parse(said), workers: named(true), others: named(false) };
}

const linux = process.platform === 'linux';
const mayRaise = linux && nicePermission()?.capSysNice === true;
const setpriv = '/usr/bin/setpriv';

describe.runIf(linux)('data-plane priority (dataPlaneNice)', () => {
  it.runIf(mayRaise)(
    'raises the workers above every other thread with CAP_SYS_NICE, and lowers nothing',
    async () => {
      const base = getPriority();

      const { priority, workers, others } = await openedPlane('');

      expect(priority).toMatchObject({ nice: -10, requested: -10, outcome: 'raised' });
      expect(priority.permission).toMatchObject({ capSysNice: true });
      expect(workers).toEqual([
        ['dragon-fanout-0', [-10]],
        ['dragon-fanout-1', [-10]],
      ]);
      // The event loop, V8's and libuv's helpers, and so FFmpeg: where they were.
      expect(others.length).toBeGreaterThan(2);
      expect(others.filter(([, nices]) => nices.some((nice) => nice !== base))).toEqual([]);
    },
  );

  it.runIf(mayRaise && existsSync(setpriv))(
    'without CAP_SYS_NICE (and RLIMIT_NICE 0), leaves every thread where it was and says why',
    async () => {
      const base = getPriority();

      const { priority, workers, others } = await openedPlane('', [
        setpriv,
        '--bounding-set=-sys_nice',
        '--',
      ]);

      expect(priority).toMatchObject({ nice: base, requested: -10, outcome: 'not-permitted' });
      expect(priority.permission).toMatchObject({ capSysNice: false });
      expect([...workers, ...others].filter(([, nices]) => nices.some((nice) => nice !== base))).toEqual([]);
    },
  );
});

describe.runIf(linux)('control-plane priority, opted in (controlNice, controlIdle)', () => {
  // In a process of its own: a thread's nice value cannot be lowered again without privilege.
  it('lowers every thread of the process but the data plane workers', async () => {
    const base = getPriority();
    const lowered = Math.max(base, 10);
    const raised = mayRaise ? -10 : base;

    const { workers, others } = await openedPlane(', controlNice: 10');

    expect(workers).toEqual([
      ['dragon-fanout-0', [raised]],
      ['dragon-fanout-1', [raised]],
    ]);
    // The event loop, V8's platform threads and whatever else Node runs: all of them.
    expect(others.length).toBeGreaterThan(2);
    expect(others.filter(([, nices]) => nices.some((nice) => nice !== lowered))).toEqual([]);
  });

  it('with controlIdle, runs them and the processes they start under SCHED_IDLE, V8 helpers at nice', async () => {
    // The child starts a process once the plane says it has lowered its threads: FFmpeg's case.
    const child = await planeProcess(
      `const { spawn } = await import('node:child_process');
       const plane = FanoutPlane.open({ engine: 'native', shards: 2, controlIdle: true, controlNice: 10 });
       if (plane.engine !== 'native') throw new Error('no native data plane');
       setInterval(() => {}, 1000);
       console.log('open');
       // What the server does before it starts its processes.
       await plane.prioritized;
       const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
       console.log('spawned ' + sleeper.pid);`,
    );
    const spawned = await waitFor('a process to be started', () => /spawned (\d+)/.exec(child.stdout())?.[1]);
    cleanups.push(() => {
      try {
        process.kill(Number(spawned), 'SIGKILL');
      } catch {
        // already gone
      }
    });
    const threads = threadValues(child.pid, 'policy');
    const workers = [...threads].filter(([name]) => name.startsWith('dragon-fanout-'));
    const others = [...threads].filter(([name]) => !name.startsWith('dragon-fanout-') && name !== 'V8Worker');
    expect(workers).toEqual([
      ['dragon-fanout-0', [0]],
      ['dragon-fanout-1', [0]],
    ]);
    expect(others.length).toBeGreaterThan(2);
    expect(others.filter(([, policies]) => policies.some((policy) => policy !== schedIdle))).toEqual([]);
    // V8's platform threads also collect the workers' garbage: lowered, but not idle.
    const helpers = threads.get('V8Worker') ?? [];
    expect(helpers.length).toBeGreaterThan(0);
    expect(helpers.every((policy) => policy === 0)).toBe(true);
    expect(threadValues(child.pid, 'nice').get('V8Worker')).toEqual(
      helpers.map(() => Math.max(getPriority(), 10)),
    );
    expect(readThread(`/proc/${spawned}/stat`).policy).toBe(schedIdle);
  });
});
