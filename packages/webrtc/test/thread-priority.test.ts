import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@dragon/test-helpers';
import { afterEach, describe, expect, it } from 'vitest';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Name → nice value of each thread of a process, from /proc (a name may repeat: the lowest wins). */
function threadNices(pid: number): Map<string, number[]> {
  const threads = new Map<string, number[]>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // Fields after the name: state is field 3, nice is field 19 (proc_pid_stat(5)).
      const nice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      threads.set(name, [...(threads.get(name) ?? []), nice]);
    } catch {
      // the thread ended while being read
    }
  }
  return threads;
}

describe.runIf(process.platform === 'linux')('data-plane priority (controlNice)', () => {
  // In a process of its own: a thread's nice value cannot be lowered again without privilege.
  it('lowers every thread of the process but the data plane workers', async () => {
    const index = new URL('../dist/index.js', import.meta.url).href;
    const dir = mkdtempSync(join(tmpdir(), 'dragon-nice-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const script = join(dir, 'nice.mjs');
    writeFileSync(
      script,
      `const { FanoutPlane } = await import(${JSON.stringify(index)});
       const plane = FanoutPlane.open({ engine: 'native', shards: 2, controlNice: 10 });
       if (plane.engine !== 'native') throw new Error('no native data plane');
       setInterval(() => {}, 1000);
       console.log('open');`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => child.kill('SIGKILL'));
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    await waitFor('the plane to open', () => stdout.includes('open'));
    const base = getPriority();
    const lowered = Math.max(base, 10);
    const threads = await waitFor('the threads to be lowered', () => {
      const nices = threadNices(child.pid!);
      return nices.get('MainThread')?.[0] === lowered ? nices : undefined;
    });
    const workers = [...threads].filter(([name]) => name.startsWith('dragon-fanout-'));
    const others = [...threads].filter(([name]) => !name.startsWith('dragon-fanout-'));
    expect(workers.map(([name, nices]) => [name, nices])).toEqual([
      ['dragon-fanout-0', [base]],
      ['dragon-fanout-1', [base]],
    ]);
    // The event loop, V8's platform threads and whatever else Node runs: all of them.
    expect(others.length).toBeGreaterThan(2);
    expect(others.filter(([, nices]) => nices.some((nice) => nice !== lowered))).toEqual([]);
  });
});
