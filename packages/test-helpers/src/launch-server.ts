import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { childProcesses, running, tiedToParent } from './proc.js';
import { waitFor } from './wait-for.js';

/** The built server of this repository (`pnpm build` makes it). */
const builtServer = fileURLToPath(new URL('../../../apps/core/dist/main.js', import.meta.url));

/** What `startServer` starts: the built server as a user runs it, with the caller's settings. */
export interface ServerOptions {
  /** `CORE_*` (and other) variables of the server's environment, over the defaults. */
  env?: Record<string, string>;
  /** Reuse a data directory (restart tests); a new temp one otherwise, removed by `stopAllServers`. */
  dataDir?: string;
  /** Arguments after the script (the CLI's own, e.g. `--version`). */
  args?: string[];
  /** Node's arguments before the script (a profiler, an inspector). */
  nodeArgs?: string[];
  /** A `taskset -c` CPU list (`'1'`, `'0-1'`) the server is pinned to; benchmarks give it a core of its own. */
  cpus?: string;
  /** Another build of the server to start; the repository's `apps/core/dist/main.js` by default. */
  main?: string;
}

export interface RunningServer {
  readonly baseUrl: string;
  readonly port: number;
  /** The server's own pid (pinning and the parent-death wrapper exec into it). */
  readonly pid: number;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Every line the server wrote to stdout (its structured log), in order. */
  readonly logLines: string[];
  /** The last 4,000 characters the server wrote to stderr. */
  stderr(): string;
  api(path: string, init?: RequestInit): Promise<Response>;
  /** A JSON answer; throws with the status and body when the answer is not 2xx. */
  json<T = unknown>(path: string, init?: RequestInit): Promise<T>;
  /**
   * SIGTERM and wait for the exit; returns the exit code. With `killAfterMs`, a server still
   * running then is killed as by `kill()` (and the exit code is `null`).
   */
  stop(options?: { killAfterMs?: number }): Promise<number | null>;
  /** SIGKILL, as a crash would; fails if the server's FFmpegs do not end with it. */
  kill(): Promise<void>;
}

const started: RunningServer[] = [];
const tempDirs: string[] = [];

/** Spawns the built server with the defaults under `options`; its stdout and stderr are pipes. */
function spawnServer(options: ServerOptions): { child: ChildProcess; dataDir: string } {
  const main = options.main ?? builtServer;
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (pnpm build)`);
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'dragon-core-'));
  const node: [string, string[]] = [
    process.execPath,
    [...(options.nodeArgs ?? []), main, ...(options.args ?? [])],
  ];
  const pinned: [string, string[]] =
    options.cpus === undefined ? node : ['taskset', ['-c', options.cpus, node[0], ...node[1]]];
  const [command, args] = tiedToParent(...pinned);
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
      ...(process.env.DRAGON_FANOUT_ENGINE ? { DRAGON_FANOUT_ENGINE: process.env.DRAGON_FANOUT_ENGINE } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, dataDir };
}

/** The port of a `listening` log line, if `line` is one. */
function listeningPort(line: string): number | undefined {
  if (!line.includes('"listening"')) return undefined;
  try {
    const entry = JSON.parse(line) as { msg?: string; port?: number };
    return entry.msg === 'listening' && entry.port ? entry.port : undefined;
  } catch {
    return undefined; // not a log line
  }
}

/** How a run of the server that was meant to end by itself ended. */
export interface ServerRun {
  code: number | null;
  /** It got as far as listening (and was then killed). */
  listened: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built server to its exit, for what ends before serving: `--help`, a bad flag, a
 * configuration refused at boot. A server that listens after all is killed at once and reported
 * with `listened: true`. Its temp data directory (unless `dataDir` is given) is removed.
 */
export async function runServer(options: ServerOptions = {}): Promise<ServerRun> {
  const { child, dataDir } = spawnServer(options);
  let stdout = '';
  let stderr = '';
  let listened = false;
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdout += `${line}\n`;
    if (!listened && listeningPort(line) !== undefined) {
      listened = true;
      child.kill('SIGKILL');
    }
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => resolve(exitCode));
  });
  if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  return { code, listened, stdout, stderr };
}

/**
 * Starts the built server on a random loopback port with its own data directory, Prometheus
 * metrics on and WebRTC on loopback, and resolves once it logs `listening`. The server dies with
 * this process (a parent-death signal), so an aborted run leaves no server and no FFmpeg behind.
 * `DRAGON_FANOUT_ENGINE` of this process is passed on (the suite runs once with each data plane).
 *
 * @example const server = await startServer({ env: { CORE_WEBRTC_MAX_VIEWERS: '0' } });
 * @throws Error when the build is missing or the server exits before it listens (with its stderr).
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const { child, dataDir } = spawnServer(options);
  if (!options.dataDir) tempDirs.push(dataDir);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logLines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logLines.push(line);
      const listening = listeningPort(line);
      if (listening !== undefined) resolve(listening);
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening: ${stderr}`)));
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const server: RunningServer = {
    baseUrl,
    port,
    pid: child.pid!,
    dataDir,
    child,
    logLines,
    stderr: () => stderr,
    api: (path, init) => fetch(`${baseUrl}${path}`, init),
    json: async <T>(path: string, init?: RequestInit) => {
      const response = await fetch(`${baseUrl}${path}`, init);
      if (!response.ok)
        throw new Error(`${init?.method ?? 'GET'} ${path} → ${response.status}: ${await response.text()}`);
      return (await response.json()) as T;
    },
    stop: async ({ killAfterMs } = {}) => {
      if (!gone()) child.kill('SIGTERM');
      if (killAfterMs === undefined) return exited;
      let killing: Promise<void> | undefined;
      const timer = setTimeout(() => {
        killing = server.kill();
      }, killAfterMs);
      const code = await exited;
      clearTimeout(timer);
      await killing;
      return code;
    },
    kill: async () => {
      if (gone()) return;
      const ffmpegs = childProcesses(child.pid!);
      child.kill('SIGKILL');
      await exited;
      await endedWithServer(ffmpegs);
    },
  };
  started.push(server);
  return server;
}

/**
 * The FFmpegs of a killed server must end with it (restream starts them with a parent-death signal).
 * Any that do not are killed here — left running, they would encode for ever and slow everything
 * after — and the caller fails.
 */
async function endedWithServer(ffmpegs: number[]): Promise<void> {
  try {
    await waitFor('the FFmpegs of the killed server to end with it', () => !ffmpegs.some(running));
  } catch (error) {
    for (const pid of ffmpegs.filter(running)) process.kill(pid, 'SIGKILL');
    throw error;
  }
}

/**
 * Stops every server started here (gracefully, so they stop their FFmpegs; killed with them if
 * that takes over 10 s) and removes their temp data directories.
 */
export async function stopAllServers(): Promise<void> {
  const failures: unknown[] = [];
  await Promise.all(
    started
      .splice(0)
      .map((server) =>
        server.stop({ killAfterMs: 10_000 }).catch((error: unknown) => void failures.push(error)),
      ),
  );
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  if (failures.length > 0) throw failures[0];
}
