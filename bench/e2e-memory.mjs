// End-to-end memory benchmark: the built server's resident memory per WHEP viewer and after churn.
//
//   core 0: the server (node apps/core/dist/main.js, as `./dragon start` and the image run it) and
//           the FFmpeg it runs for its process
//   core 1: this process, the encoder FFmpeg, the werift viewers' process
//
// The process plays throughout (real FFmpeg, H.264 + Opus), so a connected viewer receives media:
// "idle" here means a viewer that only watches. Readings at: the server started with its process
// running; after a warm-up of 10 join/leave (code and lazily built state loaded); 50 and 100
// viewers; all gone; after `--cycles` join/leave cycles (half DELETE, half closed by the viewer);
// at each of `--linger` seconds later (as is; collected after the last). Each reading is taken twice: as the server is (RSS from /proc after
// `--settle` quiet seconds, no collection forced: what an operator sees) and after full garbage
// collections forced through the inspector, with V8's own figures (JS heap live and committed,
// young generation, ArrayBuffers, V8's malloc) and /proc/pid/smaps split into file-backed,
// glibc's main heap, glibc's thread arenas and other anonymous memory. Per viewer = (reading at N −
// reading after the warm-up) / N. The server runs with its inspector open on loopback for the
// forced collections (a fixed cost, the same at every reading). Numbers only, never pass/fail.
//
//   node bench/e2e-memory.mjs [--viewers 50,100] [--cycles 500] [--runs 1] [--settle 5]
//        [--linger 30,120] [--snapshots] [--out file.json]
// Settings under test go to the server only: CORE_* variables from this process's environment,
// DRAGON_BENCH_SERVER_ENV (`MALLOC_ARENA_MAX=2 LD_PRELOAD=…`) and DRAGON_BENCH_SERVER_NODE_ARGS.
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { request, stopViewers } from '../packages/webrtc/bench/viewer-ipc.mjs';
import {
  joinOverWhep,
  quietHostSettings,
  serverEnvironment,
  showProcess,
  startDragon,
  startProcess,
  waitFor,
} from './e2e/dragon.mjs';
import { encoderArgs, freeUdpPort, spawnPinned } from './e2e/ffmpeg.mjs';
import { memoryMap, pinSelf, rssMiB } from './e2e/proc.mjs';

const { values } = parseArgs({
  options: {
    viewers: { type: 'string', default: '50,100' },
    cycles: { type: 'string', default: '500' },
    batch: { type: 'string', default: '10' },
    runs: { type: 'string', default: '1' },
    settle: { type: 'string', default: '5' },
    // Heap snapshots after the warm-up and at the largest count (they disturb the readings after
    // them): which constructors a viewer's JS heap is made of.
    snapshots: { type: 'boolean', default: false },
    // V8's memory reducer collects after a burst once allocation is low, or after 100 s at most.
    linger: { type: 'string', default: '30,120' },
    out: { type: 'string', default: join(tmpdir(), 'dragon-e2e-memory.json') },
  },
});
const counts = values.viewers.split(',').map(Number);
const cycles = Number(values.cycles);
const batch = Number(values.batch);
const runs = Number(values.runs);
const settleSeconds = Number(values.settle);
const lingerSeconds = values.linger.split(',').map(Number);
const serverCore = 0;
const loadCore = 1;
const showId = 'show';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function gitCommit() {
  const run = (args) =>
    execFileSync('git', args, { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8' });
  try {
    const dirty = run(['status', '--porcelain', '--untracked-files=no']).trim() ? '-dirty' : '';
    return `${run(['rev-parse', '--short', 'HEAD']).trim()}${dirty}`;
  } catch {
    return 'unknown';
  }
}

/** A Chrome DevTools Protocol session with the server's inspector (Node's built-in WebSocket). */
async function openInspector(url) {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('error', reject, { once: true });
  });
  const pending = new Map();
  const listeners = new Map();
  let nextId = 0;
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(event.data);
    if (message.id === undefined) return listeners.get(message.method)?.(message.params);
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  const call = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, (message) =>
        message.error ? reject(new Error(`${method}: ${message.error.message}`)) : resolve(message.result),
      );
      socket.send(JSON.stringify({ id, method, params }));
    });
  const on = (method, listener) => listeners.set(method, listener);
  return { call, on, close: () => socket.close() };
}

/**
 * The server's JS heap by kind and constructor (`object Peer`, `closure`, `string` …): count and
 * bytes of each, from a heap snapshot taken through the inspector (which collects first).
 */
async function heapByConstructor(inspector) {
  const chunks = [];
  inspector.on('HeapProfiler.addHeapSnapshotChunk', ({ chunk }) => chunks.push(chunk));
  await inspector.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  const snapshot = JSON.parse(chunks.join(''));
  const { node_fields: fields, node_types: types } = snapshot.snapshot.meta;
  const typeNames = types[fields.indexOf('type')];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field));
  const groups = new Map();
  for (let index = 0; index < snapshot.nodes.length; index += fields.length) {
    const type = typeNames[snapshot.nodes[index + typeAt]];
    const key =
      type === 'object' || type === 'native'
        ? `${type} ${snapshot.strings[snapshot.nodes[index + nameAt]]}`
        : type;
    const group = groups.get(key) ?? { count: 0, bytes: 0 };
    group.count++;
    group.bytes += snapshot.nodes[index + sizeAt];
    groups.set(key, group);
  }
  return groups;
}

/** Per viewer growth of each heap group from `before` to `after`, the largest first. */
function heapGrowth(before, after, viewers) {
  return [...after]
    .map(([key, group]) => ({
      key,
      count: (group.count - (before.get(key)?.count ?? 0)) / viewers,
      bytes: (group.bytes - (before.get(key)?.bytes ?? 0)) / viewers,
    }))
    .sort((a, b) => b.bytes - a.bytes);
}

// Evaluated in the server's main thread: V8's view of its heap. The data-plane worker's isolate
// is not in these figures (it is in RSS).
const v8Figures = `(() => {
  const v8 = process.getBuiltinModule('node:v8');
  const usage = process.memoryUsage();
  const heap = v8.getHeapStatistics();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
  return JSON.stringify({
    heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external,
    arrayBuffers: usage.arrayBuffers, youngGeneration: spaces.new_space ?? 0,
    oldGeneration: (spaces.old_space ?? 0) + (spaces.trusted_space ?? 0),
    code: (spaces.code_space ?? 0) + (spaces.code_lo_space ?? 0),
    largeObjects: spaces.lo_space ?? 0, v8Malloced: heap.malloced_memory,
  });
})()`;

/** The server's memory now, as is, then after forced full collections (KiB throughout). */
async function reading(server, inspector, label, { collect = true } = {}) {
  await sleep(settleSeconds * 1000);
  // V8's heap as is, from the server's /metrics (prom-client reads it without collecting).
  const metrics = await server.metrics();
  const kib = (name) => (metrics.get(name) ?? Number.NaN) / 1024;
  const asIs = {
    rss: rssMiB(server.pid) * 1024,
    map: memoryMap(server.pid),
    v8: {
      heapUsed: kib('nodejs_heap_size_used_bytes'),
      heapTotal: kib('nodejs_heap_size_total_bytes'),
      youngGeneration: kib('nodejs_heap_space_size_total_bytes{space="new"}'),
    },
  };
  if (!collect) {
    console.log(
      `  ${label.padEnd(22)} RSS ${(asIs.rss / 1024).toFixed(1)} MiB as is (JS heap ${(asIs.v8.heapUsed / 1024).toFixed(1)} used / ` +
        `${(asIs.v8.heapTotal / 1024).toFixed(1)} committed, young ${(asIs.v8.youngGeneration / 1024).toFixed(0)}; malloc heap ` +
        `${(asIs.map.mainHeap / 1024).toFixed(1)} + arenas ${(asIs.map.threadArenas / 1024).toFixed(1)}; other anon ${(asIs.map.otherAnonymous / 1024).toFixed(1)} MiB)`,
    );
    return { label, asIs };
  }
  for (let round = 0; round < 3; round++) {
    await inspector.call('HeapProfiler.collectGarbage');
    await sleep(200);
  }
  const evaluated = await inspector.call('Runtime.evaluate', { expression: v8Figures, returnByValue: true });
  const v8 = Object.fromEntries(
    Object.entries(JSON.parse(evaluated.result.value)).map(([key, bytes]) => [key, bytes / 1024]),
  );
  const collected = { rss: rssMiB(server.pid) * 1024, map: memoryMap(server.pid), v8 };
  const viewers = (await server.metrics()).get(`dragon_process_viewers{process_id="${showId}"}`);
  console.log(
    `  ${label.padEnd(22)} RSS ${(asIs.rss / 1024).toFixed(1)} MiB as is (young ${(asIs.v8.youngGeneration / 1024).toFixed(0)}), ${(collected.rss / 1024).toFixed(1)} MiB collected ` +
      `(JS heap ${(v8.heapUsed / 1024).toFixed(1)} live / ${(v8.heapTotal / 1024).toFixed(1)} committed, ` +
      `young ${(v8.youngGeneration / 1024).toFixed(0)}; malloc heap ${(collected.map.mainHeap / 1024).toFixed(1)} + ` +
      `${collected.map.arenaCount} arenas ${(collected.map.threadArenas / 1024).toFixed(1)}; other anon ${(collected.map.otherAnonymous / 1024).toFixed(1)}; ` +
      `files ${(collected.map.file / 1024).toFixed(1)} MiB); ${viewers} viewers`,
  );
  return { label, viewers, asIs, collected };
}

/** Per viewer (KiB) from reading `from` to `to`, for every figure both readings carry. */
function perViewer(from, to, viewers) {
  const delta = (a, b) =>
    Object.fromEntries(
      Object.keys(b)
        .filter((key) => typeof b[key] === 'number')
        .map((key) => [key, (b[key] - a[key]) / viewers]),
    );
  return {
    asIs: {
      rss: (to.asIs.rss - from.asIs.rss) / viewers,
      ...prefixed(delta(from.asIs.map, to.asIs.map)),
      ...delta(from.asIs.v8, to.asIs.v8),
    },
    collected: {
      rss: (to.collected.rss - from.collected.rss) / viewers,
      ...prefixed(delta(from.collected.map, to.collected.map)),
      ...delta(from.collected.v8, to.collected.v8),
    },
  };
}
const prefixed = (figures) =>
  Object.fromEntries(
    Object.entries(figures)
      .filter(([key]) => key !== 'rss' && key !== 'arenaCount')
      .map(([key, value]) => [`map.${key}`, value]),
  );

async function oneRun(encoderPort, run) {
  const server = await startDragon({
    core: serverCore,
    // Port 0: the inspector listens on loopback only, on a free port it prints.
    nodeArgs: [`--inspect=127.0.0.1:0`],
    settings: quietHostSettings,
  });
  const viewers = fork(new URL('../packages/webrtc/bench/viewers.mjs', import.meta.url), {
    stdio: 'inherit',
  });
  let inspector;
  try {
    // The last URL printed: a server that re-executes itself at start prints one per image.
    const url = await waitFor('the inspector URL', async () =>
      server
        .stderr()
        .match(/ws:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+/g)
        ?.at(-1),
    );
    inspector = await openInspector(url);
    await server.json('/api/v3/process', 'POST', showProcess(showId, encoderPort, false));
    await startProcess(server, showId);

    /** Joins `count` viewers over WHEP, five offers at a time; resolves when each is connected. */
    let present = 0; // viewers in the viewers' process, whose `answers` take absolute indices
    const join = async (count) => {
      const first = present;
      present += count;
      const locations = await joinOverWhep({ dragon: server, viewers, processId: showId, count, first });
      // Until every new viewer is connected or has failed, 30 s at most: a viewer that does not
      // connect is counted out, not waited for (per viewer figures divide by those connected).
      let states = [];
      for (let waited = 0; waited < 30_000; waited += 100) {
        states = (await request(viewers, { type: 'report' }, 'report')).states.slice(first);
        if (states.every((state) => state === 'connected' || state === 'failed' || state === 'closed')) break;
        await sleep(100);
      }
      const connected = states.filter((state) => state === 'connected').length;
      if (connected < count)
        console.log(`  ${count - connected} of ${count} viewers not connected: ${states.join(' ')}`);
      return { locations, connected };
    };
    const noViewerLeft = () =>
      waitFor(
        'no viewer left at the server',
        async () =>
          (await server.metrics()).get(`dragon_process_viewers{process_id="${showId}"}`) === 0
            ? true
            : undefined,
        60_000,
      );
    /**
     * Half leave with a WHEP DELETE, half by closing the viewer (the server notices by itself, within
     * its disconnect bound); `wait`: until the server has none left.
     */
    const leave = async (locations, wait = true) => {
      await Promise.all(
        locations
          .filter((_, index) => index % 2 === 0)
          .map((location) => server.api(location, { method: 'DELETE' }).then((response) => response.text())),
      );
      await request(viewers, { type: 'closeAll' }, 'closed');
      present = 0;
      if (wait) await noViewerLeft();
    };

    console.log(`run ${run + 1}/${runs}:`);
    const readings = [];
    readings.push(await reading(server, inspector, 'started'));
    await leave((await join(10)).locations);
    const warm = await reading(server, inspector, 'warmed up');
    readings.push(warm);
    const heapWarm = values.snapshots ? await heapByConstructor(inspector) : undefined;
    const joined = [];
    let connected = 0;
    let heapPerViewer;
    for (const count of counts) {
      const added = await join(count - joined.length);
      joined.push(...added.locations);
      connected += added.connected;
      readings.push({ ...(await reading(server, inspector, `${count} viewers`)), connected });
    }
    if (heapWarm) {
      heapPerViewer = heapGrowth(heapWarm, await heapByConstructor(inspector), connected).slice(0, 40);
      console.log(`  JS heap per viewer, largest groups (B, count):`);
      for (const entry of heapPerViewer.slice(0, 25))
        console.log(
          `    ${entry.bytes.toFixed(0).padStart(7)} ${entry.count.toFixed(1).padStart(6)}  ${entry.key}`,
        );
    }
    await leave(joined);
    readings.push(await reading(server, inspector, 'all left'));
    const cycleStart = performance.now();
    let cyclesConnected = 0;
    for (let done = 0; done < cycles; done += batch) {
      const round = await join(Math.min(batch, cycles - done));
      cyclesConnected += round.connected;
      await leave(round.locations, false);
    }
    const cycleSeconds = (performance.now() - cycleStart) / 1000;
    await noViewerLeft();
    // No collection forced from here until the last reading: whether RSS comes back by itself.
    const churned = await reading(server, inspector, `after ${cycles} cycles`, { collect: false });
    readings.push(churned);
    let lingered = 0;
    for (const [index, seconds] of lingerSeconds.entries()) {
      await sleep(Math.max(0, seconds - lingered - settleSeconds) * 1000);
      lingered = seconds;
      const last = index === lingerSeconds.length - 1;
      readings.push(await reading(server, inspector, `${seconds} s later`, { collect: last }));
    }

    // From the warmed-up reading (what one more viewer costs), and from the reading at start (one-time
    // costs of the first viewer included: code, werift's lazily built state, allocator arenas).
    const started = readings[0];
    const perViewerKiB = counts.map((count) => {
      const at = readings.find((entry) => entry.label === `${count} viewers`);
      return {
        viewers: count,
        connected: at.connected,
        ...perViewer(warm, at, at.connected),
        fromStart: perViewer(started, at, at.connected),
      };
    });
    // The second step alone (e.g. 50 → 100): the first batch's one-time growth left out.
    const marginal = counts.slice(1).map((count, index) => {
      const from = readings.find((entry) => entry.label === `${counts[index]} viewers`);
      const to = readings.find((entry) => entry.label === `${count} viewers`);
      return { from: counts[index], to: count, ...perViewer(from, to, to.connected - from.connected) };
    });
    for (const entry of marginal)
      console.log(
        `  per viewer from ${entry.from} to ${entry.to}: ${entry.asIs.rss.toFixed(0)} KiB as is, ${entry.collected.rss.toFixed(0)} KiB collected`,
      );
    for (const entry of perViewerKiB)
      console.log(
        `  per viewer at ${entry.viewers} (${entry.connected} connected): ${entry.asIs.rss.toFixed(0)} KiB as is, ` +
          `${entry.collected.rss.toFixed(0)} KiB collected (JS heap ${entry.collected.heapUsed.toFixed(0)} live / ` +
          `${entry.collected.heapTotal.toFixed(0)} committed, young ${entry.collected.youngGeneration.toFixed(0)}; ` +
          `malloc ${(entry.collected['map.mainHeap'] + entry.collected['map.threadArenas']).toFixed(0)}; ` +
          `other anon ${entry.collected['map.otherAnonymous'].toFixed(0)}); from the start: ${entry.fromStart.asIs.rss.toFixed(0)} as is, ` +
          `${entry.fromStart.collected.rss.toFixed(0)} collected`,
      );
    console.log(
      `  churn: ${cycles} cycles (${cyclesConnected} connected) in ${cycleSeconds.toFixed(0)} s; RSS as is ` +
        `${(readings.find((entry) => entry.label === 'all left').asIs.rss / 1024).toFixed(1)} → ${(churned.asIs.rss / 1024).toFixed(1)} → ` +
        `${lingerSeconds.map((seconds) => (readings.find((entry) => entry.label === `${seconds} s later`).asIs.rss / 1024).toFixed(1)).join(' → ')} MiB ${lingerSeconds.join(', ')} s later (${(readings.at(-1).collected.rss / 1024).toFixed(1)} collected; ` +
        `warmed up: ${(warm.asIs.rss / 1024).toFixed(1)} as is, ${(warm.collected.rss / 1024).toFixed(1)} collected)`,
    );
    return {
      readings,
      perViewerKiB,
      marginalPerViewerKiB: marginal,
      heapPerViewer,
      cycles,
      cyclesConnected,
      cycleSeconds,
    };
  } finally {
    inspector?.close();
    await stopViewers(viewers);
    await server.stop();
  }
}

pinSelf(loadCore);
const encoderPort = await freeUdpPort();
const encoder = spawnPinned(loadCore, 'ffmpeg', encoderArgs(encoderPort));
const results = [];
try {
  for (let run = 0; run < runs; run++) results.push(await oneRun(encoderPort, run));
} finally {
  await encoder.stop();
}

const passedEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('CORE_'))),
  ...serverEnvironment(),
};
const output = {
  date: new Date().toISOString(),
  machine: { cores: cpus().length, cpu: cpus()[0]?.model },
  versions: { node: process.version, commit: gitCommit() },
  settings: {
    serverNodeArgs: process.env.DRAGON_BENCH_SERVER_NODE_ARGS ?? '',
    environment: passedEnv,
  },
  method: {
    viewers: counts,
    cycles,
    batch,
    settleSeconds,
    lingerSeconds,
    feed: '640x360 25 fps H.264 constrained baseline, GOP 2 s, ~1 Mbit/s + Opus 64 kbit/s, MPEG-TS/UDP → copy-mode FFmpeg → RTP; viewers receive it',
    perViewer: '(reading at N − reading after a warm-up of 10 join/leave) / N, KiB',
  },
  runs: results,
};
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(output, null, 2)}\n`);
console.log(`written to ${values.out}`);
