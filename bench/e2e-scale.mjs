// Scale benchmark: the built server with hundreds of viewers, against a load generator cheap enough
// to stand for them (bench/scale/: werift does ICE and DTLS, then one native thread receives every
// viewer with recvmmsg, checks sequence continuity and a sample of SRTP tags, answers consent
// checks and sends receiver reports).
//
//   core 0: the server (node apps/core/dist/main.js) and the FFmpeg it runs for its process
//   core 1: this process, the encoder FFmpeg, the generator's process
//
// Viewers join up the counts at 1 Mbit/s, each count measured over one window; then the encoder
// drops to 600 kbit/s and the counts are measured again on the way down, viewers leaving over WHEP.
// Numbers only, never pass/fail.
//
//   node bench/e2e-scale.mjs [--quick] [--viewers 100,250,500,1000] [--seconds 15] [--budget 290]
//        [--out file.json]
import { execFileSync, fork } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from '../packages/webrtc/bench/viewer-ipc.mjs';
import * as e2e from './e2e/dragon.mjs';
import { encoderArgs, freeUdpPort, rtpOutputPorts, spawnPinned } from './e2e/ffmpeg.mjs';
import * as proc from './e2e/proc.mjs';
import { scaleMarkdown } from './e2e/report.mjs';

const { values } = parseArgs({
  options: {
    viewers: { type: 'string' },
    seconds: { type: 'string' },
    quick: { type: 'boolean', default: false },
    // Stop measuring (and write what was measured) rather than run past this many seconds in all.
    budget: { type: 'string' },
    // Seconds of `perf record` on the server after the largest count's window at 1 Mbit/s (outside
    // any measured window); with DRAGON_BENCH_SERVER_NODE_ARGS=--perf-basic-prof JS frames resolve.
    perf: { type: 'string' },
    out: { type: 'string', default: join(tmpdir(), 'dragon-e2e-scale.json') },
  },
});
const quick = values.quick;
const counts = (values.viewers ?? (quick ? '10,25' : '100,250,500,1000')).split(',').map(Number);
const seconds = Number(values.seconds ?? (quick ? 5 : 15));
const budgetMs = values.budget ? Number(values.budget) * 1000 : Number.POSITIVE_INFINITY;
const overBudget = (joinMs = 0) => performance.now() + joinMs + (seconds + 5) * 1000 > budgetMs;
let joinsPerSecond = 5; // updated from each join
const serverCore = 0;
const loadCore = 1;
const showId = 'show';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (list) => list.reduce((total, value) => total + value, 0);

proc.pinSelf(loadCore);
const started = { at: new Date().toISOString(), loadavg: loadavg() };
const encoderPort = await freeUdpPort();
/** The encode at `kbps` (encoderArgs' 1 Mbit/s rate, buffer and ceiling scaled). */
const encodeAt = (kbps) =>
  spawnPinned(
    loadCore,
    'ffmpeg',
    encoderArgs(encoderPort).map((arg) => (arg === '1000k' ? `${kbps}k` : arg)),
  );
let encoder = encodeAt(1000);
const dragon = await e2e.startDragon({ core: serverCore, settings: e2e.quietHostSettings });
await dragon.json('/api/v3/process', 'POST', e2e.showProcess(showId, encoderPort, false));
const ffmpeg = await e2e.startProcess(dragon, showId);
const inPorts = Object.values(rtpOutputPorts(ffmpeg.argv));
const generator = fork(new URL('./scale/generator.mjs', import.meta.url), { stdio: 'inherit' });
await new Promise((resolve) => generator.once('message', resolve));

const joined = []; // WHEP session URLs, by generator viewer index
const stats = () => request(generator, { type: 'stats' }, 'stats');
/** Generator indices of the viewers whose sessions are open. */
const present = () => joined.flatMap((location, index) => (location ? [index] : []));

/** Deletes the viewers' WHEP sessions, as a browser leaving does, and stops their reports. */
async function leave(indices) {
  await Promise.all(indices.map((index) => dragon.api(joined[index], { method: 'DELETE' }).catch(() => {})));
  await request(generator, { type: 'drop', indices }, 'dropped');
  for (const index of indices) joined[index] = undefined;
}

const batchSize = 10;
const refusedOffers = [];

/**
 * `count` viewers' offers POSTed together, as that many pages opening at once, their answers handed
 * back in one message; their Location URLs (undefined for a refused offer), in generator order.
 */
async function joinBatch(count) {
  const { sdps } = await request(generator, { type: 'offers', count }, 'offers');
  const responses = await Promise.all(
    sdps.map(async (sdp) => {
      // A refused or reset offer is a viewer that did not join: counted, and another joins instead.
      try {
        const response = await dragon.api(`/api/v3/process/${showId}/whep`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/sdp' },
          body: sdp,
        });
        const answer = await response.text();
        if (response.status === 201) return { location: response.headers.get('Location'), answer };
        refusedOffers.push(`${response.status}: ${answer.slice(0, 200)}`);
      } catch (error) {
        refusedOffers.push(error.cause?.code ?? error.message);
      }
      return { location: undefined, answer: undefined };
    }),
  );
  await request(
    generator,
    { type: 'answers', start: joined.length, sdps: responses.map(({ answer }) => answer) },
    'answered',
  );
  return responses.map(({ location }) => location);
}

/**
 * Joins `count` more viewers. A viewer whose ICE or DTLS failed (werift on a loaded machine) leaves
 * and another joins in its place, as a browser's page would retry, up to three times.
 */
async function joinViewers(count) {
  let wanted = count;
  for (let round = 0; round < 4 && wanted > 0; round++) {
    let refused = 0;
    for (let batch = 0; batch < wanted; batch += batchSize) {
      // A join slower than estimated (handshakes failing on a loaded machine) stops here, and the
      // viewers that did join are measured within the budget.
      if (overBudget()) return;
      const locations = await joinBatch(Math.min(batchSize, wanted - batch));
      refused += locations.filter((location) => !location).length;
      joined.push(...locations);
    }
    await e2e
      .waitFor(
        'handshakes',
        async () =>
          (await stats()).waiting.some((state) => state === 'new' || state === 'connecting')
            ? undefined
            : true,
        30_000,
      )
      .catch(() => {});
    const failed = (await stats()).failed.filter((index) => joined[index]);
    await leave(failed);
    wanted = failed.length + refused;
    if (failed.length)
      console.log(`${failed.length} viewers failed their handshake; joining others in their place`);
  }
}

/** Waits until every present viewer has been taken over and receives; how many do. */
async function settle(indices) {
  let receiving = 0;
  await e2e
    .waitFor(
      'viewers receiving',
      async () => {
        const { perViewer } = await stats();
        receiving = indices.filter((index) => perViewer[index]?.packets > 0).length;
        return receiving === indices.length ? true : undefined;
      },
      30_000 + indices.length * 50,
    )
    .catch(() => {});
  return receiving;
}

/** One window at the current viewers: the server's and the generator's CPU, delivery, memory. */
async function measure(bitrateKbps, indices, idle) {
  const receiving = await settle(indices);
  await sleep(2000);
  const meter = proc.cpuMeter({ server: dragon.pid, ffmpeg: ffmpeg.pid, generator: generator.pid });
  const metricsBefore = await dragon.metrics();
  const threadsBefore = proc.threadCpuSeconds(dragon.pid);
  const before = await stats();
  const dropsBefore = proc.udpDrops(generator.pid);
  const serverDropsBefore = proc.udpDrops(dragon.pid);
  meter.start();
  await sleep(seconds * 1000);
  const cpu = meter.stop();
  const after = await stats();
  // Datagrams the kernel dropped at the generator's full sockets: the generator fell behind, not the server.
  const generatorDrops = proc.dropsSince(dropsBefore, proc.udpDrops(generator.pid), []).other;
  // And at the server's sockets: its input from its FFmpeg (it fell behind) or the viewers' RTCP.
  const serverDrops = proc.dropsSince(serverDropsBefore, proc.udpDrops(dragon.pid), inPorts);
  const lostByViewer = indices.map(
    (index) =>
      (after.perViewer[index]?.expected ?? 0) -
      (before.perViewer[index]?.expected ?? 0) -
      ((after.perViewer[index]?.received ?? 0) - (before.perViewer[index]?.received ?? 0)),
  );
  const metricsAfter = await dragon.metrics();
  const threads = proc.threadCpuPercent(threadsBefore, proc.threadCpuSeconds(dragon.pid), cpu.seconds);
  const delta = (field) =>
    sum(
      indices.map(
        (index) => (after.perViewer[index]?.[field] ?? 0) - (before.perViewer[index]?.[field] ?? 0),
      ),
    );
  const counter = (metrics, name) => metrics.get(`${name}{process_id="${showId}"}`) ?? 0;
  const sent =
    counter(metricsAfter, 'dragon_process_packets_sent_total') -
    counter(metricsBefore, 'dragon_process_packets_sent_total');
  const dropped =
    counter(metricsAfter, 'dragon_process_packets_dropped_total') -
    counter(metricsBefore, 'dragon_process_packets_dropped_total');
  const sourcePackets = e2e.packetsIn(metricsAfter, showId) - e2e.packetsIn(metricsBefore, showId);
  const received = delta('received');
  const expected = delta('expected');
  const packets = delta('packets');
  const viewers = indices.length;
  const server = cpu.percent.server;
  const generatorCpu = cpu.percent.generator;
  const rss = proc.rssMiB(dragon.pid);
  const row = {
    bitrateKbps,
    viewers,
    receiving,
    seconds: cpu.seconds,
    // The server process's CPU (all its threads) over the window, divided by the viewers.
    cpuPerViewerPct: server.total / viewers,
    serverCpuPct: server,
    serverThreadsPct: threads,
    ffmpegCpuPct: cpu.percent.ffmpeg?.total,
    // Of the packets each viewer's sequence numbers say were sent to it, the share that arrived.
    deliveryPct: expected > 0 ? (received / expected) * 100 : null,
    lostPackets: expected - received,
    // The same loss at every viewer happened before the fan-out (the server's input).
    lostPerViewer: { min: Math.min(...lostByViewer), max: Math.max(...lostByViewer) },
    serverSocketDrops: serverDrops,
    // Of what the source delivered times the viewers, what the viewers got (joins, keyframe waits
    // and drops at the server show here, not in the sequence numbers).
    sourceDeliveryPct: sourcePackets > 0 ? (packets / (sourcePackets * viewers)) * 100 : null,
    serverSentPackets: sent,
    serverDroppedPackets: dropped,
    packetsPerViewerPerSecond: packets / viewers / cpu.seconds,
    authChecked: delta('authChecked'),
    authFailed: delta('authFailed'),
    reportsSent: delta('reportsSent'),
    stunAnswered: delta('stunAnswered'),
    // The server publishes no forwarding-latency figure; the e2e benchmark's capture measures it.
    forwardingP99Ms: null,
    rssMiB: rss,
    rssPerViewerKiB: ((rss - idle.rssMiB) * 1024) / viewers,
    generator: {
      cpuPct: generatorCpu,
      cpuPerViewerPct: generatorCpu.total / viewers,
      socketDrops: generatorDrops,
      receiverThreadPct: ((after.threadCpuSeconds - before.threadCpuSeconds) / cpu.seconds) * 100,
      failures: after.failures,
      notTakenOver: after.waiting,
      // What the viewers that received no media did get (STUN, RTCP, other), to tell a dead socket from a silent server.
      silent: indices
        .filter((index) => !(after.perViewer[index]?.packets > 0))
        .map((index) => after.perViewer[index]),
    },
    loadavg: loadavg(),
  };
  console.log(
    `${bitrateKbps} kbit/s × ${viewers} viewers (${receiving} receiving): server ${server.total.toFixed(1)} % ` +
      `(${row.cpuPerViewerPct.toFixed(3)} %/viewer), generator ${generatorCpu.total.toFixed(1)} % ` +
      `(${row.generator.cpuPerViewerPct.toFixed(3)} %/viewer), delivery ${row.deliveryPct?.toFixed(3)} %, ` +
      `tags ${row.authChecked - row.authFailed}/${row.authChecked}, load ${row.loadavg.map((l) => l.toFixed(1)).join(' ')}`,
  );
  return row;
}

async function idleFigures() {
  await sleep(2000);
  const meter = proc.cpuMeter({ server: dragon.pid });
  meter.start();
  await sleep(Math.min(seconds, 5) * 1000);
  return { cpuPct: meter.stop().percent.server.total, rssMiB: proc.rssMiB(dragon.pid) };
}

/** Where the server's time goes: the top of a \`perf report\` by thread, object and symbol. */
function serverProfile(profileSeconds) {
  const data = join(tmpdir(), `dragon-scale-${process.pid}.perf`);
  try {
    execFileSync(
      'perf',
      [
        'record',
        '-F',
        '299',
        '-g',
        '-p',
        String(dragon.pid),
        '-o',
        data,
        '--',
        'sleep',
        String(profileSeconds),
      ],
      { stdio: 'ignore' },
    );
    const report = execFileSync(
      'perf',
      [
        'report',
        '-i',
        data,
        '--stdio',
        '--no-children',
        '--sort',
        'comm,dso,symbol',
        '-g',
        'none',
        '--percent-limit',
        '0.7',
      ],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    return {
      viewers: present().length,
      seconds: profileSeconds,
      top: report
        .split('\n')
        .filter((line) => /^\s+\d/.test(line))
        .slice(0, 40)
        .map((line) => line.trim()),
    };
  } catch (error) {
    return { error: error.message.split('\n')[0] };
  } finally {
    rmSync(data, { force: true });
  }
}

const rows = [];
let idle;
let profile;
let runError;
try {
  idle = await idleFigures();
  for (const count of counts) {
    const first = present().length;
    if (overBudget(((count - present().length) / joinsPerSecond) * 1000)) break;
    const joinStarted = performance.now();
    await joinViewers(count - first);
    const joinSeconds = (performance.now() - joinStarted) / 1000;
    joinsPerSecond = (count - first) / joinSeconds;
    rows.push({ ...(await measure(1000, present(), idle)), joinSeconds });
  }
  if (values.perf) profile = serverProfile(Number(values.perf));
  // 600 kbit/s, SRS's published rate, on the way down.
  await encoder.stop();
  encoder = encodeAt(600);
  for (const count of [...counts].reverse()) {
    if (count > present().length) continue;
    if (overBudget()) break;
    await leave(present().slice(count));
    rows.push(await measure(600, present(), idle));
  }
} catch (error) {
  // What was measured is kept; the run says why it ended and what the server said last.
  runError = { message: error.message, serverStderr: dragon.stderr().slice(-2000) };
  console.error(error);
} finally {
  generator.send({ type: 'stop' });
  await encoder.stop();
  await dragon.stop();
}

const result = {
  versions: {
    node: process.version,
    kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
  },
  started,
  ended: { at: new Date().toISOString(), loadavg: loadavg() },
  seconds,
  idle,
  rows,
  profile,
  refusedOffers: refusedOffers.slice(0, 20),
  error: runError,
};
writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`\n${scaleMarkdown(result).join('\n')}\nwritten to ${values.out}`);
process.exit(0);
