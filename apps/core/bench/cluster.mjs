// Cluster benchmark: a redis-server and three built Dragon nodes on loopback (A runs a transcoded
// test pattern; B and C are edges). Numbers, not assertions:
//   - the latency one origin→edge hop adds (the same packets seen by a viewer of A and one of B);
//   - how long an edge takes to serve a stream it does not pull yet, against the origin itself;
//   - CPU per viewer on an edge against the origin, with werift viewers in a separate process;
//   - recovery: the media gap an FFmpeg crash on the origin leaves at an edge viewer, the gap a
//     failover leaves (origin killed, process restarted on another node), and how long the cluster
//     view takes to come back after Redis restarts empty.
//   node bench/cluster.mjs [--viewers 10,25,50] [--seconds 10] [--starts 5] [--out file.json]
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startRedis } from '@dragon/test-helpers/redis';
import { childProcesses, startServer, stopAllServers, waitFor } from '@dragon/test-helpers/server';
import { cpuSeconds as cpuTimes } from '../../../bench/e2e/proc.mjs';
import { request, stopViewers } from '../../../packages/webrtc/bench/viewer-ipc.mjs';
import { longestGap, watch } from './cluster-viewer.mjs';

const { values } = parseArgs({
  options: {
    viewers: { type: 'string', default: '10,25,50' },
    seconds: { type: 'string', default: '10' },
    starts: { type: 'string', default: '5' },
    out: { type: 'string', default: new URL('./results/cluster.json', import.meta.url).pathname },
  },
});
const viewerSteps = values.viewers.split(',').map(Number);
const seconds = Number(values.seconds);
const starts = Number(values.starts);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (list) => (list.length ? [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] : null);
const percentile = (list, p) => {
  if (!list.length) return null;
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const round = (value, digits = 1) => (value === null ? null : Number(value.toFixed(digits)));

const work = mkdtempSync(join(tmpdir(), 'dragon-cluster-bench-'));
const children = new Set();

function kill(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGKILL');
  });
}

const redis = await startRedis();

async function startNode(name, dataDir = join(work, name)) {
  mkdirSync(dataDir, { recursive: true });
  const server = await startServer({
    dataDir,
    env: {
      CORE_WEBRTC_MAX_OFFERS_PER_MINUTE: '0',
      CORE_WEBRTC_MAX_VIEWERS: '0',
      CORE_CLUSTER_REDIS_URL: redis.url,
      CORE_CLUSTER_SECRET: 'the-benchmark-cluster-secret',
      CORE_CLUSTER_NODE_TIMEOUT_SEC: '3',
      CORE_CLUSTER_NODE_RECOVER_TIMEOUT_SEC: '5',
      CORE_CLUSTER_SYNC_INTERVAL_SEC: '1',
      CORE_CLUSTER_EDGE_IDLE_TIMEOUT_SEC: '1',
    },
  });
  return { name, server, child: server.child, base: server.baseUrl, dataDir };
}

const api = async (node, path, init) => {
  const response = await fetch(`${node.base}${path}`, init);
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${path} on ${node.name} → ${response.status}`);
  return response.json();
};
const json = (value, method = 'POST') => ({
  method,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(value),
});

/** Waits for a condition (the shared test helper), with the benchmark's one-minute default. */
const until = (what, check, timeoutMs = 60_000) => waitFor(what, check, timeoutMs);

/** CPU seconds the process has used so far, user and system together. */
function cpuSeconds(pid) {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/** The node's FFmpeg: its only child. */
const ffmpegOf = (pid) => childProcesses(pid)[0];

const results = {
  machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
};
try {
  const [a, b, c] = await Promise.all([startNode('a'), startNode('b'), startNode('c')]);
  await api(
    a,
    '/api/v3/process',
    json({
      id: 'cam',
      input: [
        {
          address: 'testsrc2=size=640x360:rate=25[out0];sine=frequency=440[out1]',
          options: ['-re', '-f', 'lavfi'],
        },
      ],
      output: [],
      autostart: true,
      reconnect: true,
      reconnect_delay_seconds: 1,
      webrtc: { enabled: true, force_transcode: true },
    }),
  );
  await until('cam running', async () => (await api(a, '/api/v3/process/cam/state')).exec === 'running');
  await until('three nodes', async () => (await api(c, '/api/v3/cluster')).nodes.length === 3);
  await sleep(2000);

  // 1. Added latency per hop: the same packets at a viewer of A and at a viewer of B.
  console.log('hop latency…');
  const atA = await watch(a);
  const atB = await watch(b);
  // Meanwhile: the CPU share each node reports, once a second, to see whether it could steer placement.
  const cpuSamples = [];
  for (let tick = 0; tick < seconds; tick++) {
    await sleep(1000);
    const view = await api(c, '/api/v3/cluster');
    cpuSamples.push(view.nodes.map((node) => node.load.cpu_percent));
  }
  const spreads = cpuSamples.map((sample) => Math.max(...sample) - Math.min(...sample));
  const series = cpuSamples.flat();
  results.cpuReports = {
    samples: cpuSamples.length,
    minPercent: Math.min(...series),
    maxPercent: Math.max(...series),
    largestSpreadBetweenNodesPercent: round(Math.max(...spreads)),
  };
  console.log(results.cpuReports);
  // Both viewers were first primed from a keyframe cache (old packets, delivered at once): only
  // packets that reached A well after B joined are compared.
  const steady = atB.viewer.arrivals[0] + 2000;
  const deltas = [];
  for (const [key, at] of atB.viewer.keys) {
    const origin = atA.viewer.keys.get(key);
    if (origin !== undefined && origin > steady) deltas.push(at - origin);
  }
  const hopEnd = performance.now();
  results.hop = {
    matchedPackets: deltas.length,
    // For the gaps measured below: the longest silence at the edge viewer in steady state.
    steadyGapAtEdgeViewerMs: Math.round(longestGap(atB.viewer.arrivals, steady, hopEnd)),
    p50Ms: round(percentile(deltas, 50), 2),
    p95Ms: round(percentile(deltas, 95), 2),
    p99Ms: round(percentile(deltas, 99), 2),
  };
  console.log(results.hop);

  // 4a. FFmpeg killed on the origin: the gap at the edge viewer and at the origin viewer.
  console.log('ffmpeg crash…');
  const ffmpeg = ffmpegOf(a.child.pid);
  const killedAt = performance.now();
  process.kill(ffmpeg, 'SIGKILL');
  await until('ffmpeg back', () => {
    const next = ffmpegOf(a.child.pid);
    return next && next !== ffmpeg;
  });
  await until('edge media back', () => atB.viewer.arrivals.at(-1) > killedAt + 500, 60_000);
  await sleep(2000);
  const crashEnd = performance.now();
  results.ffmpegCrash = {
    gapAtOriginViewerMs: Math.round(longestGap(atA.viewer.arrivals, killedAt - 1000, crashEnd)),
    gapAtEdgeViewerMs: Math.round(longestGap(atB.viewer.arrivals, killedAt - 1000, crashEnd)),
    edgeStayedConnected: atB.viewer.pc.connectionState === 'connected',
  };
  console.log(results.ffmpegCrash);

  // 2. Time to serve a stream the node does not have yet: C (new pull each time) against A (local).
  console.log('edge start…');
  const startTimes = { origin: { answer: [], firstPacket: [] }, edge: { answer: [], firstPacket: [] } };
  for (let round = 0; round < starts; round++) {
    await until(
      'C not pulling',
      async () => (await api(c, '/api/v3/cluster')).nodes.find((n) => n.url === c.base)?.pulling.length === 0,
      30_000,
    );
    const edge = await watch(c);
    startTimes.edge.answer.push(edge.answerMs);
    startTimes.edge.firstPacket.push(edge.firstPacketMs);
    await edge.viewer.pc.close();
    const origin = await watch(a);
    startTimes.origin.answer.push(origin.answerMs);
    startTimes.origin.firstPacket.push(origin.firstPacketMs);
    await origin.viewer.pc.close();
  }
  results.start = {
    originAnswerMs: round(median(startTimes.origin.answer)),
    originFirstPacketMs: round(median(startTimes.origin.firstPacket)),
    edgeAnswerMs: round(median(startTimes.edge.answer)),
    edgeFirstPacketMs: round(median(startTimes.edge.firstPacket)),
    rounds: starts,
  };
  console.log(results.start);

  // 3. CPU per viewer: N werift viewers (another process) on the origin, then on an edge.
  console.log('viewers per node…');
  results.viewers = [];
  for (const count of viewerSteps) {
    for (const [role, node] of [
      ['origin', a],
      ['edge', b],
    ]) {
      const load = fork(new URL('../../../packages/webrtc/bench/viewers.mjs', import.meta.url), {
        stdio: 'inherit',
      });
      children.add(load);
      const ask = (message, reply) => request(load, message, reply);
      const { sdps } = await ask({ type: 'offers', count }, 'offers');
      const answers = [];
      for (const sdp of sdps) {
        const response = await fetch(`${node.base}/api/v3/process/cam/whep?placed=1`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/sdp' },
          body: sdp,
        });
        answers.push(await response.text());
      }
      await ask({ type: 'answers', sdps: answers, start: 0 }, 'answered');
      await sleep(3000);
      await ask({ type: 'reset' }, 'reset');
      const cpuBefore = cpuSeconds(node.child.pid);
      const t0 = performance.now();
      await sleep(seconds * 1000);
      const cpu = (100 * (cpuSeconds(node.child.pid) - cpuBefore)) / ((performance.now() - t0) / 1000);
      const report = await ask({ type: 'report' }, 'report');
      const perViewer = report.video.map((n) => n / seconds);
      results.viewers.push({
        role,
        viewers: count,
        cpuPercent: round(cpu),
        videoPacketsPerSecondMin: round(Math.min(...perViewer)),
        videoPacketsPerSecondMedian: round(median(perViewer)),
      });
      console.log(results.viewers.at(-1));
      await stopViewers(load);
      children.delete(load);
      await sleep(2000);
    }
  }

  // 4c. Redis restarts empty: time until C's view lists every node and process again.
  console.log('redis restart…');
  const beforeRedis = performance.now();
  await redis.restart();
  const restarted = performance.now();
  await until('cluster view complete', async () => {
    const view = await api(c, '/api/v3/cluster');
    return view.nodes.length === 3 && view.processes.some((p) => p.id === 'cam');
  });
  const viewBack = performance.now();
  await sleep(1000);
  results.redisRestart = {
    viewCompleteAfterRestartMs: Math.round(viewBack - restarted),
    gapAtEdgeViewerMs: Math.round(longestGap(atB.viewer.arrivals, beforeRedis, performance.now())),
  };
  console.log(results.redisRestart);

  // 4b. Failover: cam marked, A killed; the gap at B's viewer until the new owner's media arrives.
  console.log('failover…');
  await api(a, '/api/v3/process/cam/metadata/cluster', json({ failover: true }, 'PUT'));
  await until('mark replicated', async () => {
    const list = await api(c, '/api/v3/process?filter=metadata');
    return list[0]?.metadata?.cluster;
  });
  const failedAt = performance.now();
  // Its FFmpeg dies with it (restream's parent-death signal): kill() fails otherwise.
  await a.server.kill();
  await until('edge media back after failover', () => atB.viewer.arrivals.at(-1) > failedAt + 1000, 120_000);
  await sleep(1000);
  results.failover = {
    nodeRecoverTimeoutSec: 5,
    gapAtEdgeViewerMs: Math.round(longestGap(atB.viewer.arrivals, failedAt, performance.now())),
    edgeStayedConnected: atB.viewer.pc.connectionState === 'connected',
  };
  console.log(results.failover);
  await atA.viewer.pc.close().catch(() => {});
  await atB.viewer.pc.close().catch(() => {});
} finally {
  await stopAllServers();
  for (const child of children) await kill(child);
  await redis.stop();
  rmSync(work, { recursive: true, force: true });
}

mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify({ date: new Date().toISOString(), ...results }, null, 2)}\n`);
console.log(`written ${values.out}`);
process.exit(0);
