import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import type { ProcessManager } from '../src/index.js';
import { cleanup, createManager, fakeFfmpeg, waitFor } from './helpers.js';

/** Each fake FFmpeg writes its pid here, so the test can see every FFmpeg that ever ran. */
const pidDir = mkdtempSync(join(tmpdir(), 'dragon-race-pids-'));
afterEach(async () => {
  await cleanup();
  for (const pid of livePids()) killQuietly(pid);
});
afterAll(() => rmSync(pidDir, { recursive: true, force: true }));

function livePids(): number[] {
  return readdirSync(pidDir)
    .map(Number)
    .filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

const config = (id: string, reference = '') => ({
  id,
  reference,
  input: [{ id: 'in', address: 'rtsp://127.0.0.1/cam' }],
  output: [{ id: 'out', address: '-', options: ['-f', 'null'] }],
  autostart: true,
});

/** The same "random" order on every run: a seeded shuffle. */
function shuffled<T>(items: T[], seed: number): T[] {
  const result = [...items];
  let state = seed * 7919 + 17;
  for (let index = result.length - 1; index > 0; index--) {
    state = (state * 48271) % 2147483647;
    const other = state % (index + 1);
    [result[index], result[other]] = [result[other] as T, result[index] as T];
  }
  return result;
}

it('never loses an entry or leaves an FFmpeg without a handle when a rename races add and remove of both ids', async () => {
  const { binary } = fakeFfmpeg(`echo $$ > ${JSON.stringify(pidDir)}/$$; while true; do sleep 0.05; done`);
  const manager: ProcessManager = await createManager({
    ffmpegBinary: binary,
    skipSkills: true,
    stopTimeoutMs: 2000,
  });
  let expected = 0;
  for (let round = 0; round < 12; round++) {
    const [a, b] = [`a${round}`, `b${round}`];
    await manager.add(config(a));
    expected++;
    await waitFor(`${a} running`, () => manager.getState(a).exec === 'running');
    const operations: [string, () => Promise<unknown>][] = [
      ['rename', () => manager.update(a, config(b, 'renamed'))],
      ['add', () => manager.add(config(b, 'added'))],
      ['remove a', () => manager.remove(a)],
      ['remove b', () => manager.remove(b)],
    ];
    const order = shuffled(operations, round);
    const results = await Promise.allSettled(order.map(([, run]) => run()));
    const succeeded = new Set(
      order.filter((_, index) => results[index]?.status === 'fulfilled').map(([name]) => name),
    );
    if (succeeded.has('add')) expected++;
    if (succeeded.has('remove a')) expected--;
    if (succeeded.has('remove b')) expected--;
    expect(manager.list(), `round ${round}: ${[...succeeded].join(', ')}`).toHaveLength(expected);
    for (const id of manager.list()) {
      await waitFor(`${id} running`, () => manager.getState(id).exec === 'running');
    }
  }
  // Every FFmpeg the manager knows is running; after close none may be left.
  const running = manager.list().filter((id) => manager.getState(id).exec === 'running').length;
  await waitFor('no extra FFmpeg', () => livePids().length === running, 10_000);
  await manager.close();
  await waitFor('every FFmpeg gone', () => livePids().length === 0, 10_000);
});
