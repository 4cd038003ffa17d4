import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@dragon/test-helpers';
import { afterEach, describe, expect, it } from 'vitest';
import { FanoutUnavailableError, FanoutWorkerDiedError } from '../errors.js';
import { WorkerLane, type WorkerLaneEvents } from './lanes.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A stand-in for fanout-worker.js at the thread boundary: `body` runs after the usual 'ready'. */
function workerScript(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dragon-lane-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'worker.mjs');
  writeFileSync(
    script,
    `import { parentPort } from 'node:worker_threads';
     parentPort.on('message', (command) => {
       if (command.type === 'close') parentPort.postMessage({ type: 'closed' });
     });
     ${body}`,
  );
  return script;
}

function recordingLane(script: string) {
  const events = { ready: [] as (number | undefined)[], died: [] as FanoutWorkerDiedError[] };
  const handlers: WorkerLaneEvents = {
    relay: () => undefined,
    ready: (threadId) => events.ready.push(threadId),
    died: (error) => events.died.push(error),
  };
  const lane = new WorkerLane(script, 3, handlers);
  cleanups.push(() => lane.close());
  return { lane, events };
}

describe('WorkerLane', () => {
  it('reports a worker whose code throws as died, with the exception as the cause, once', async () => {
    const { lane, events } = recordingLane(
      workerScript(`parentPort.postMessage({ type: 'ready', threadId: 42 });
        setTimeout(() => { throw new Error('a bug in the shard'); }, 20);`),
    );

    await waitFor('the death', () => events.died.length > 0);

    expect(await lane.threadId).toBe(42);
    expect(lane.running).toBe(false);
    const [error] = events.died;
    expect(error).toBeInstanceOf(FanoutWorkerDiedError);
    expect(error).toMatchObject({ code: 'FANOUT_WORKER_DIED', shard: 3, exitCode: 1 });
    expect((error!.cause as Error).message).toBe('a bug in the shard');
    expect(error!.message).toContain('a bug in the shard');
    expect(events.died).toHaveLength(1);
  });

  it('ends a worker that cannot load the addon and reports it as died with that reason', async () => {
    const { events } = recordingLane(
      workerScript(`parentPort.postMessage({ type: 'failed', message: 'no addon here' });
        setInterval(() => undefined, 1000);`),
    );

    await waitFor('the death', () => events.died.length > 0);

    expect(events.died[0]!.cause).toBeInstanceOf(FanoutUnavailableError);
    expect(events.ready).toEqual([]);
  });

  it('starts another worker on respawn, and reports nothing when it is closed', async () => {
    const { lane, events } = recordingLane(
      workerScript(`parentPort.postMessage({ type: 'ready', threadId: 7 });
        setInterval(() => undefined, 1000);`),
    );
    await waitFor('the first worker', () => events.ready.length === 1);
    await lane.terminate();
    await waitFor('the death', () => events.died.length === 1);

    lane.respawn();
    await waitFor('the second worker', () => events.ready.length === 2);
    expect(lane.running).toBe(true);
    await lane.close();

    expect(lane.running).toBe(false);
    expect(events.died).toHaveLength(1);
    expect(events.died[0]!.exitCode).toBe(1);
  });
});
