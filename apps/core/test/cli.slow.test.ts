import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { getPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  childProcesses,
  jsonBody,
  procStatFields,
  type RunningServer,
  runServer,
  startServer,
  stopAllServers,
  testPatternInput,
  testPatternProcess,
  waitFor,
} from '@dragon/test-helpers/server';
import { afterAll, afterEach, expect, it } from 'vitest';
import { serverNodeFlags } from '../src/node-flags.js';

const mainScript = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});
afterAll(stopAllServers);

/** Runs the built server to its exit; returns exit code and output. */
const run = (args: string[], env: Record<string, string> = {}) => runServer({ args, env });

async function occupiedTcpPort(): Promise<number> {
  const server: Server = createServer();
  cleanups.push(() => server.close());
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

async function occupiedUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  cleanups.push(() => socket.close());
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket.address().port)));
}

it('prints its usage for --help', async () => {
  const { code, stdout, stderr } = await run(['--help']);
  expect(code).toBe(0);
  expect(stdout).toMatch(/^Usage: dragon-core/);
  expect(stderr).toBe('');
});

it('names an unknown option and shows the usage, without a stack trace', async () => {
  const { code, stderr } = await run(['--nope']);
  expect(code).toBe(2);
  expect(stderr).toMatch(/--nope/);
  expect(stderr).toMatch(/Usage: dragon-core/);
  expect(stderr).not.toMatch(/\n\s+at /);
});

it('says in one line that the address is in use', async () => {
  const port = await occupiedTcpPort();
  const { code, stderr } = await run([], { CORE_ADDRESS: `127.0.0.1:${port}` });
  expect(code).toBe(1);
  expect(stderr).toBe(`dragon-core: cannot listen on 127.0.0.1:${port}: the address is already in use\n`);
});

it.each([
  [
    'the RTMP port',
    'tcp',
    (port: number) => ({ CORE_RTMP_ENABLE: 'true', CORE_RTMP_ADDRESS: `127.0.0.1:${port}` }),
  ],
  ['the WebRTC UDP port', 'udp', (port: number) => ({ CORE_WEBRTC_UDP_MUX_PORT: String(port) })],
  ['the ICE-TCP port', 'tcp', (port: number) => ({ CORE_WEBRTC_TCP_MUX_PORT: String(port) })],
] as const)('says in one line, without a stack trace, that %s is in use', async (_name, kind, envOf) => {
  const port = kind === 'udp' ? await occupiedUdpPort() : await occupiedTcpPort();

  const { code, stderr } = await run([], { CORE_ADDRESS: '127.0.0.1:0', ...envOf(port) });

  expect(code).toBe(1);
  expect(stderr).toMatch(new RegExp(`^dragon-core: .*${port}.*the address is already in use\\n$`));
  expect(stderr.split('\n')).toHaveLength(2);
});

it('lists each problem of an invalid config, without a stack trace', async () => {
  const { code, stderr } = await run([], {
    CORE_ADDRESS: 'nonsense',
    CORE_FFMPEG_BINARY: '/nonexistent/ffmpeg',
  });
  expect(code).toBe(1);
  expect(stderr).toMatch(/^dragon-core: the configuration \(.*config\.json\) is invalid:\n/);
  expect(stderr).toMatch(/ {2}- address: must be host:port or :port\n/);
  expect(stderr).not.toMatch(/\n\s+at /);
});

it('runs with its node flags when started as a plain `node main.js`, as the same process', async () => {
  // The harness starts `node dist/main.js` with no flag, as the image's ENTRYPOINT does.
  const server = await startServer();

  // The pid the harness spawned now runs node with the flags before the script.
  const argv = readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8').split('\0');
  const script = argv.indexOf(mainScript);
  expect(script).toBeGreaterThan(0);
  for (const flag of serverNodeFlags) {
    expect(argv.indexOf(flag)).toBeGreaterThan(0);
    expect(argv.indexOf(flag)).toBeLessThan(script);
  }
  expect((await server.api('/ping')).status).toBe(200);
});

it("keeps an operator's own value of a flag instead of the server's", async () => {
  const server = await startServer({ env: { NODE_OPTIONS: '--max-semi-space-size=16' } });

  const argv = readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8').split('\0');
  expect(argv).not.toContain('--max-semi-space-size=4');
  expect((await server.api('/ping')).status).toBe(200);
});

it('keeps as many recent lines for GET /api/v3/log as log.max_lines says', async () => {
  const server = await startServer({ env: { CORE_LOG_MAX_LINES: '1' } });

  // Booting alone logs more lines than that (the data plane, listening, the API's warning).
  const lines = (await (await server.api('/api/v3/log')).json()) as string[];
  expect(lines).toHaveLength(1);
});

/** This process (and so the server it starts) has CAP_SYS_NICE (capabilities(7): bit 23). */
function hasCapSysNice(): boolean {
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return ((BigInt(`0x${capEff}`) >> 23n) & 1n) === 1n;
}

/** The server's FFmpeg child, once it runs. */
/**
 * The server's FFmpeg, once it runs. `timeoutMs`: a server whose control plane is opted in to
 * SCHED_IDLE gets no CPU at all while other programs keep every core busy, so its FFmpeg starts
 * only when they pause (the documented cost of that setting).
 */
function ffmpegOf(server: RunningServer, timeoutMs?: number): Promise<number> {
  return waitFor(
    'an FFmpeg',
    () =>
      childProcesses(server.child.pid!).find((pid) => {
        try {
          return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'ffmpeg';
        } catch {
          return false;
        }
      }),
    timeoutMs,
  );
}

it.runIf(process.platform === 'linux')(
  'runs FFmpeg and the API at normal priority by default, the data plane above them where it may, and says so',
  async () => {
    const server = await startServer();
    const cam = testPatternProcess('cam', { input: [testPatternInput('160x120')] });
    expect((await server.api('/api/v3/process', jsonBody(cam))).status).toBe(200);
    const ffmpeg = await ffmpegOf(server);

    const base = getPriority();
    const [policy, nice] = [38, 16].map((field) => Number(procStatFields(ffmpeg)[field]));
    expect({ policy, nice }).toEqual({ policy: 0, nice: base });
    const threads = readdirSync(`/proc/${server.child.pid}/task`).map((tid) => {
      const comm = readFileSync(`/proc/${server.child.pid}/task/${tid}/comm`, 'utf8').trim();
      const stat = readFileSync(`/proc/${server.child.pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { comm, nice: Number(fields[16]), policy: Number(fields[38]) };
    });
    const raised = hasCapSysNice() ? -10 : base;
    expect(threads.filter(({ comm }) => comm.startsWith('dragon-fanout-')).map(({ nice }) => nice)).toEqual([
      raised,
    ]);
    const others = threads.filter(({ comm }) => !comm.startsWith('dragon-fanout-'));
    expect(others.filter(({ nice, policy }) => nice !== base || policy !== 0)).toEqual([]);
    // The boot log says what the data plane got and why.
    const line = server.logLines.map((text) => JSON.parse(text)).find((entry) => entry.dataPlane);
    expect(line).toMatchObject({ level: 30, dataPlane: { nice: raised, requested: -10 } });
    expect(line.msg).toMatch(/^media data plane at nice /);
  },
);

it.runIf(process.platform === 'linux')(
  'starts the FFmpeg of a process restored at boot below the data plane, when SCHED_IDLE is opted in',
  async () => {
    const env = { CORE_WEBRTC_CONTROL_PLANE_IDLE: 'true' };
    const server = await startServer({ env });
    const cam = testPatternProcess('cam', { input: [testPatternInput('160x120')] });
    expect((await server.api('/api/v3/process', jsonBody(cam))).status).toBe(200);
    expect(await server.stop()).toBe(0);

    // At boot the process starts at once, racing the data plane's threads to report their ids.
    const restarted = await startServer({ dataDir: server.dataDir, env });
    const ffmpeg = await ffmpegOf(restarted, 240_000);
    const schedIdle = 5;
    expect(Number(procStatFields(ffmpeg)[38])).toBe(schedIdle);
  },
  // SCHED_IDLE opted in: on a machine with other work the server runs only when the cores idle.
  360_000,
);
