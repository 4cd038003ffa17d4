import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@dragon/test-helpers';

const mainScript = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const setpriv = '/usr/bin/setpriv';

/**
 * `command args` run so that it dies with the test process (util-linux `setpriv --pdeathsig KILL`):
 * a test run that is aborted or crashes leaves no server behind — and through the server's own
 * parent-death signal on FFmpeg, no encoder either.
 */
export function tiedToTests(command: string, args: string[]): [string, string[]] {
  return existsSync(setpriv) ? [setpriv, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, args];
}

export interface RunningServer {
  readonly baseUrl: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  readonly logLines: string[];
  api(path: string, init?: RequestInit): Promise<Response>;
  json<T = unknown>(path: string, init?: RequestInit): Promise<T>;
  /** SIGTERM and wait for a clean exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

export interface ServerOptions {
  env?: Record<string, string>;
  /** Reuse a data directory (for restart tests); a new temp one otherwise. */
  dataDir?: string;
  args?: string[];
}

const started: RunningServer[] = [];
const tempDirs: string[] = [];

/** Starts the built server on a random loopback port with its own data directory. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'dragon-core-'));
  if (!options.dataDir) tempDirs.push(dataDir);
  const [command, args] = tiedToTests(process.execPath, [mainScript, ...(options.args ?? [])]);
  const child = spawn(command, args, {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      CORE_ADDRESS: '127.0.0.1:0',
      CORE_DB_DIR: dataDir,
      CORE_STORAGE_DISK_DIR: join(dataDir, 'disk'),
      CORE_METRICS_ENABLE_PROMETHEUS: 'true',
      CORE_WEBRTC_INTERFACES: '127.0.0.1',
      CORE_LOG_LEVEL: 'info',
      // The suite runs once more with the JavaScript data plane (the vitest project core-js-plane).
      ...(process.env.DRAGON_FANOUT_ENGINE ? { DRAGON_FANOUT_ENGINE: process.env.DRAGON_FANOUT_ENGINE } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logLines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      logLines.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'listening' && entry.port) resolve(entry.port);
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening: ${stderr}`)));
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const server: RunningServer = {
    baseUrl,
    dataDir,
    child,
    logLines,
    api: (path, init) => fetch(`${baseUrl}${path}`, init),
    json: async <T>(path: string, init?: RequestInit) => {
      const response = await fetch(`${baseUrl}${path}`, init);
      if (!response.ok)
        throw new Error(`${init?.method ?? 'GET'} ${path} → ${response.status}: ${await response.text()}`);
      return (await response.json()) as T;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const ffmpegs = childProcesses(child.pid!);
      child.kill('SIGKILL');
      await exited;
      await endedWithServer(ffmpegs);
    },
  };
  started.push(server);
  return server;
}

/** One sample of a Prometheus metric from `/metrics`, e.g. `metric(server, 'dragon_process_viewers', 'process_id="cam"')`. */
export async function metric(
  server: RunningServer,
  name: string,
  labels: string,
): Promise<number | undefined> {
  const text = await (await server.api('/metrics')).text();
  const line = text.split('\n').find((entry) => entry.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

/**
 * The fields of `/proc/<pid>/stat` after the name (proc_pid_stat(5)): `[0]` is field 3 (state),
 * `[1]` the parent's pid, `[38]` the scheduling policy. Throws if the process has gone.
 */
export function procStatFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A process that ended is gone, or a zombie waiting for init to reap it. */
function running(pid: number): boolean {
  try {
    const state = procStatFields(pid)[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * The FFmpegs of a killed server must end with it (restream starts them with a parent-death signal).
 * Any that do not are killed here — left running, they would encode for ever and slow the rest of
 * the suite — and the test fails.
 */
async function endedWithServer(ffmpegs: number[]): Promise<void> {
  try {
    await waitFor('the FFmpegs of the killed server to end with it', () => !ffmpegs.some(running));
  } catch (error) {
    for (const pid of ffmpegs.filter(running)) process.kill(pid, 'SIGKILL');
    throw error;
  }
}

/** The direct children of `pid` (the server's FFmpegs), read from /proc. */
export function childProcesses(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(procStatFields(entry)[1]) === pid) children.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return children;
}

/**
 * Stops every server the tests started (gracefully, so they stop their FFmpegs; killed with
 * them if that takes over 10 s) and removes their temp directories.
 */
export async function stopAllServers(): Promise<void> {
  const failures: unknown[] = [];
  await Promise.all(
    started.splice(0).map(async (server) => {
      let killing: Promise<void> | undefined;
      const timer = setTimeout(() => {
        killing = server.kill().catch((error: unknown) => void failures.push(error));
      }, 10_000);
      await server.stop();
      clearTimeout(timer);
      await killing;
    }),
  );
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  if (failures.length > 0) throw failures[0];
}

/** A port free right now on loopback (the server, FFmpeg or a publisher binds it a moment later). */
export async function freePort(kind: 'udp' | 'tcp'): Promise<number> {
  if (kind === 'udp') {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    return port;
  }
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function jsonBody(value: unknown, method = 'POST'): RequestInit {
  return { method, body: JSON.stringify(value), headers: { 'Content-Type': 'application/json' } };
}

export { waitFor };

/** A lavfi test pattern + tone input of `size`, at 25 fps. */
export function testPatternInput(size = '640x360') {
  return {
    id: 'in',
    address: `testsrc2=size=${size}:rate=25[out0];sine=frequency=440[out1]`,
    options: ['-re', '-f', 'lavfi'],
  };
}

/** A lavfi test pattern + tone process with WebRTC on, as a user would create it. */
export function testPatternProcess(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    reference: 'e2e',
    input: [testPatternInput()],
    output: [],
    options: [],
    autostart: true,
    reconnect: true,
    reconnect_delay_seconds: 1,
    webrtc: { enabled: true, force_transcode: true },
    ...extra,
  };
}
