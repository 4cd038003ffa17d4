// The built server as a user runs it: its own data directory, pinned to one core, WebRTC on,
// one copy-mode process reading the encode from MPEG-TS over UDP. Viewers join over WHEP.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@dragon/test-helpers/server';
import { request } from '../../packages/webrtc/bench/viewer-ipc.mjs';
import { childrenOf, commandLine } from './proc.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns something other than undefined, or throws after `timeoutMs`. */
export async function waitFor(what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Prometheus text → Map of `name{labels}` → value. */
export function parseMetrics(text) {
  const samples = new Map();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.trim()) continue;
    const cut = line.lastIndexOf(' ');
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return samples;
}

/** `DRAGON_BENCH_SERVER_ENV` (`NAME=value NAME=value`) as an object. */
export function serverEnvironment() {
  return Object.fromEntries(
    (process.env.DRAGON_BENCH_SERVER_ENV ?? '')
      .split(' ')
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
}

/**
 * What the fan-out and memory benchmarks opt in to: their server has a core of its own on a host
 * that runs nothing else, and their published figures were measured with everything but the data
 * plane under SCHED_IDLE (docs/performance.md). Not the server's default, which keeps FFmpeg and the
 * API at normal priority because on a shared machine this gives the stream away;
 * `CORE_WEBRTC_CONTROL_PLANE_IDLE=false CORE_WEBRTC_CONTROL_PLANE_NICE=0` in the benchmark's
 * environment measures the defaults.
 */
export const quietHostSettings = {
  CORE_WEBRTC_CONTROL_PLANE_IDLE: 'true',
  CORE_WEBRTC_CONTROL_PLANE_NICE: '10',
};

/**
 * Starts the built server pinned to `core` (a `taskset -c` list). `nodeArgs` are the benchmark's
 * own (the memory benchmark's inspector); `DRAGON_BENCH_SERVER_NODE_ARGS` adds a run's, e.g. for an
 * A/B. `settings` are the benchmark's `CORE_*` variables; this process's own win over them.
 */
export async function startDragon({ core, nodeArgs: benchNodeArgs = [], settings = {} }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'dragon-e2e-'));
  // e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`: the server's profile of the very run measured.
  const nodeArgs = (process.env.DRAGON_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const server = await startServer({
    cpus: String(core),
    nodeArgs: [...benchNodeArgs, ...nodeArgs],
    dataDir,
    env: {
      // Above the default viewer limit: the largest run has more viewers than a NAS default allows.
      CORE_WEBRTC_MAX_VIEWERS: '0',
      // The benchmark's viewers all come from one address.
      CORE_WEBRTC_MAX_OFFERS_PER_MINUTE: '0',
      ...settings,
      // A run with another setting, e.g. CORE_WEBRTC_CONTROL_PLANE_IDLE=false for the A/B of a change.
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('CORE_'))),
      // The server's process environment only (not this process's, nor the encoder's), e.g.
      // `MALLOC_ARENA_MAX=2 LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2`.
      ...serverEnvironment(),
    },
  });
  const base = server.baseUrl;
  const api = (path, init) => fetch(`${base}${path}`, init);
  const json = async (path, method, body) => {
    const response = await api(path, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${await response.text()}`);
    return response.json();
  };
  return {
    pid: server.pid,
    /** The last 4,000 characters the server wrote to stderr. */
    stderr: server.stderr,
    base,
    api,
    json,
    async metrics() {
      return parseMetrics(await (await api('/metrics')).text());
    },
    async stop() {
      await server.stop({ killAfterMs: 5000 });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A process as a user would create it for this feed: copy mode, WebRTC on, no other output. */
/**
 * Joins `count` viewers of the viewers' process (`viewer-ipc.mjs`) to a process over WHEP: offers
 * made five at a time, each answer handed to its viewer as soon as it comes, as a WHEP client
 * applies it (a server peer left without connectivity checks for seconds fails ICE). `first` is
 * the index of the first new viewer in that process. Returns the sessions' Location URLs.
 */
export async function joinOverWhep({
  dragon,
  viewers,
  processId,
  count,
  first = 0,
  path = `/api/v3/process/${processId}/whep`,
}) {
  const locations = [];
  for (let start = 0; start < count; start += 5) {
    const { sdps } = await request(viewers, { type: 'offers', count: Math.min(5, count - start) }, 'offers');
    for (const [index, sdp] of sdps.entries()) {
      const response = await dragon.api(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: sdp,
      });
      if (response.status !== 201)
        throw new Error(`WHEP offer → ${response.status}: ${await response.text()}`);
      locations.push(response.headers.get('Location'));
      const answer = await response.text();
      await request(viewers, { type: 'answers', start: first + start + index, sdps: [answer] }, 'answered');
    }
  }
  return locations;
}

export function showProcess(id, inputPort, autostart) {
  const address = `udp://127.0.0.1:${inputPort}?overrun_nonfatal=1&fifo_size=50000`;
  return benchProcess(id, { address, options: ['-f', 'mpegts'] }, { autostart });
}

/** A process of one input with WebRTC on and no other output, restarted a second after it ends. */
export function benchProcess(id, input, { autostart = true, webrtc = { enabled: true } } = {}) {
  return {
    id,
    reference: 'bench',
    input: [{ id: 'in', ...input }],
    output: [],
    options: [],
    autostart,
    reconnect: true,
    reconnect_delay_seconds: 1,
    webrtc,
  };
}

/** Starts process `id` and waits for its FFmpeg and for media at the server. */
export async function startProcess(dragon, id) {
  await dragon.json(`/api/v3/process/${id}/command`, 'PUT', { command: 'start' });
  const ffmpeg = await waitFor('the process FFmpeg', async () => {
    const state = await dragon.json(`/api/v3/process/${id}/state`, 'GET');
    if (state.exec !== 'running') return undefined;
    return childrenOf(dragon.pid).find((pid) => /ffmpeg/.test(commandLine(pid)[0] ?? ''));
  });
  await waitFor('packets at the server', async () => {
    const value = (await dragon.metrics()).get(
      `dragon_process_rtp_packets_received_total{process_id="${id}",track="video"}`,
    );
    return value > 0 ? value : undefined;
  });
  return { pid: ffmpeg, argv: commandLine(ffmpeg) };
}

export async function stopProcess(dragon, id) {
  await dragon.json(`/api/v3/process/${id}/command`, 'PUT', { command: 'stop' });
  await waitFor(`${id} stopped`, async () => {
    const state = await dragon.json(`/api/v3/process/${id}/state`, 'GET');
    return state.exec === 'running' || state.exec === 'starting' ? undefined : true;
  });
}

/** Video and audio packets the server has received for `id` (its own counters). */
export function packetsIn(metrics, id) {
  let total = 0;
  for (const track of ['video', 'audio'])
    total +=
      metrics.get(`dragon_process_rtp_packets_received_total{process_id="${id}",track="${track}"}`) ?? 0;
  return total;
}

/** Any event-loop or forwarding figure the server exposes, by sample name. */
export function serverOwnFigures(metrics) {
  return Object.fromEntries([...metrics].filter(([name]) => /event_?loop|forward|lag/i.test(name)));
}
