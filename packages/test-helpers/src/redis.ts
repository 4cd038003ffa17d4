import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from './ports.js';
import { tiedToParent } from './proc.js';

/** A throwaway `redis-server` on loopback: no persistence, so a restart loses everything, as a crash would. */
export interface RunningRedis {
  readonly url: string;
  readonly port: number;
  /** SIGKILL. */
  kill(): Promise<void>;
  /** Kill and start again on the same port, empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function launch(port: number, dir: string): Promise<ChildProcess | undefined> {
  const [command, args] = tiedToParent('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.includes('Ready to accept connections')) resolve(child);
    });
    child.once('exit', () => resolve(undefined));
    child.once('error', () => resolve(undefined));
  });
}

function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export async function startRedis(): Promise<RunningRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'dragon-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  for (let attempt = 0; attempt < 10 && !child; attempt++) {
    // Redis cannot listen on port 0 and tell which port it got: a free one is picked, and retried if
    // taken meanwhile.
    port = await freePort('tcp');
    child = await launch(port, dir);
  }
  if (!child)
    throw new Error('redis-server did not start (is it installed? scripts/bootstrap.sh --with-redis)');
  let current: ChildProcess = child;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => killed(current),
    restart: async () => {
      await killed(current);
      const next = await launch(port, dir);
      if (!next) throw new Error(`redis-server did not start again on port ${port}`);
      current = next;
    },
    stop: async () => {
      await killed(current);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
