// End-to-end fan-out benchmark: the built server doing the real job, side by side with Janus.
//
//   core 0: the server (node apps/core/dist/main.js) and the FFmpeg it runs for its process;
//           Janus and the same copy-mode FFmpeg feeding it, in Janus's turn
//   core 1: this process, the encoder FFmpeg, the werift viewers' process, tcpdump
//
// For each viewer count and each server in turn: join N viewers, let them settle, then measure
// CPU (user and system apart, from /proc) over steady windows with nothing else running, then a
// window with a loopback capture for packets/s in, delivery and forwarding latency; for Dragon
// at the largest N, one more window with the API hammered. Numbers only, never pass/fail.
//
// A third side, `whip`: the same server with the same stream published over WHIP instead of run by
// FFmpeg (the same copy-mode FFmpeg command, its RTP handed to a werift WHIP publisher in this
// process), viewers on `/api/v3/whip/{name}/whep`. Its CPU per viewer is the fan-out of a WHIP
// source beside an FFmpeg source; its idle row holds what receiving the publication costs. The
// publisher's input is encrypted, so its windows have no capture.
//
//   node bench/e2e-fanout.mjs [--quick] [--viewers 0,10,25,50] [--seconds 10] [--repeats 3]
//        [--janus auto|off] [--whip on|off] [--out file.json]

import { execFileSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { WeriftPublisher } from '@dragon/test-helpers/werift';
import { request, stopViewers } from '../packages/webrtc/bench/viewer-ipc.mjs';
import { analyse, ensureTcpdump, startCapture } from './e2e/capture.mjs';
import {
  joinOverWhep,
  packetsIn,
  quietHostSettings,
  serverOwnFigures,
  showProcess,
  startDragon,
  startProcess,
  stopProcess,
  waitFor,
} from './e2e/dragon.mjs';
import {
  encoderArgs,
  freeTcpPort,
  freeUdpPort,
  retargetedCommand,
  rtpOutputPorts,
  spawnPinned,
} from './e2e/ffmpeg.mjs';
import { ensureJanus, JanusViewerSession, offeredHost, startJanus } from './e2e/janus.mjs';
import {
  cpuMeter,
  dropsSince,
  pinSelf,
  rssMiB,
  threadCpuPercent,
  threadCpuSeconds,
  udpDrops,
  udpPorts,
} from './e2e/proc.mjs';
import { cpuRatios, e2eMarkdown } from './e2e/report.mjs';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    viewers: { type: 'string' },
    seconds: { type: 'string' },
    repeats: { type: 'string' },
    janus: { type: 'string', default: 'auto' },
    whip: { type: 'string', default: 'on' },
    // pnpm bench passes its own; alone, the JSON goes to a temp file (the table is printed either way).
    out: { type: 'string', default: join(tmpdir(), 'dragon-e2e-fanout.json') },
  },
});
const quick = values.quick;
const counts = (values.viewers ?? (quick ? '0,10' : '0,10,25,50')).split(',').map(Number);
const seconds = Number(values.seconds ?? (quick ? 4 : 10));
const repeats = Number(values.repeats ?? (quick ? 1 : 3));
const captureSeconds = quick ? 4 : 10;
const hammerSeconds = quick ? 5 : 20;
const warmupMs = quick ? 1500 : 3000;
const serverCore = 0;
const loadCore = 1;
const showId = 'show';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const percentile = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : undefined;

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

if (cpus().length < 2) console.log(`only ${cpus().length} core: server and load will share it`);
pinSelf(loadCore);
const versions = {
  node: process.version,
  ffmpeg: execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }).split('\n')[0].split(' Copyright')[0],
  kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
  commit: gitCommit(),
};
const capture = ensureTcpdump({ install: true });
const whipOn = values.whip !== 'off';
const janusInstall = values.janus === 'off' ? undefined : ensureJanus({ install: true });
versions.janus = janusInstall?.version;

// ---- the feed, the two servers, the viewers' process
const encoderPort = await freeUdpPort();
const whipInputPort = whipOn ? await freeUdpPort() : undefined;
const encoder = spawnPinned(loadCore, 'ffmpeg', encoderArgs(encoderPort, whipInputPort));
const whipToken = randomBytes(16).toString('hex');
const whipName = 'bench';
const dragon = await startDragon({
  core: serverCore,
  settings: {
    ...quietHostSettings,
    ...(whipOn ? { CORE_WHIP_ENABLE: 'true', CORE_WHIP_TOKEN: whipToken } : {}),
  },
});
// Stopped processes beside the one that plays, so the API has a process list to build.
for (let index = 0; index < 20; index++)
  await dragon.json('/api/v3/process', 'POST', showProcess(`idle-${index}`, encoderPort, false));
await dragon.json('/api/v3/process', 'POST', showProcess(showId, encoderPort, false));
let janus;
let janusPorts;
if (janusInstall) {
  janusPorts = { video: await freeUdpPort(), audio: await freeUdpPort(), http: await freeTcpPort() };
  janus = await startJanus({
    core: serverCore,
    libDir: janusInstall.libDir,
    httpPort: janusPorts.http,
    videoPort: janusPorts.video,
    audioPort: janusPorts.audio,
  });
}
const viewers = fork(new URL('../packages/webrtc/bench/viewers.mjs', import.meta.url), { stdio: 'inherit' });
let dragonCommand; // the server's own FFmpeg command line, replayed for Janus

// ---- one side: how viewers join and leave, and what feeds it
const sides = {
  dragon: {
    async feed() {
      const ffmpeg = await startProcess(dragon, showId);
      dragonCommand = ffmpeg.argv;
      const ports = rtpOutputPorts(ffmpeg.argv);
      return {
        ffmpegPid: ffmpeg.pid,
        videoInPort: ports.video,
        inPorts: [ports.video, ports.audio],
        stop: () => stopProcess(dragon, showId),
      };
    },
    serverPid: () => dragon.pid,
    async join(count) {
      const locations = await joinOverWhep({ dragon, viewers, processId: showId, count });
      return async () => {
        await Promise.all(
          locations.map((location) => dragon.api(location, { method: 'DELETE' }).catch(() => {})),
        );
      };
    },
  },
  whip: {
    async feed() {
      const ports = rtpOutputPorts(dragonCommand);
      const publisher = new WeriftPublisher();
      const response = await dragon.api(`/api/v3/whip/${whipName}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${whipToken}` },
        body: await publisher.offer(),
      });
      if (response.status !== 201)
        throw new Error(`WHIP offer → ${response.status}: ${await response.text()}`);
      const session = response.headers.get('Location');
      await publisher.accept(await response.text());
      if (!(await publisher.connected(20_000))) throw new Error('the WHIP publisher did not connect');
      // The copy-mode FFmpeg's RTP, received here and published: what a WHIP encoder would send.
      const sockets = await Promise.all(
        ['video', 'audio'].map(
          (kind) =>
            new Promise((resolve) => {
              const socket = createSocket('udp4');
              socket.on('message', (packet) => publisher.writeRtp(kind, packet));
              socket.bind(0, '127.0.0.1', () => resolve(socket));
            }),
        ),
      );
      const argv = retargetedCommand(
        dragonCommand.slice(1),
        new Map([
          [encoderPort, whipInputPort],
          [ports.video, sockets[0].address().port],
          [ports.audio, sockets[1].address().port],
        ]),
      );
      // The publisher's encoder is not the server's: it runs beside the viewers.
      const feeder = spawnPinned(loadCore, 'ffmpeg', argv, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
      feeder.child.stdio[3].resume();
      // Viewers are answered once the publication has a keyframe; the feeder takes a moment to probe.
      await waitFor('video of the WHIP publication', async () => {
        const listed = await dragon.json('/api/v3/whip', 'GET');
        const video = listed.find((publication) => publication.name === whipName)?.video;
        return video?.keyframes > 0 ? true : undefined;
      });
      await sleep(1500);
      return {
        ffmpegPid: feeder.pid,
        stop: async () => {
          await feeder.stop();
          await dragon.api(session, { method: 'DELETE' }).catch(() => {});
          await publisher.close();
          for (const socket of sockets) socket.close();
        },
      };
    },
    serverPid: () => dragon.pid,
    async join(count) {
      const path = `/api/v3/whip/${whipName}/whep`;
      const locations = await joinOverWhep({ dragon, viewers, processId: whipName, count, path });
      return async () => {
        await Promise.all(
          locations.map((location) => dragon.api(location, { method: 'DELETE' }).catch(() => {})),
        );
      };
    },
  },
  janus: {
    async feed() {
      const ports = rtpOutputPorts(dragonCommand);
      const argv = retargetedCommand(
        dragonCommand.slice(1),
        new Map([
          [ports.video, janusPorts.video],
          [ports.audio, janusPorts.audio],
        ]),
      );
      // Same options as the server's FFmpeg, progress channel included (fd 3, drained).
      const feeder = spawnPinned(serverCore, 'ffmpeg', argv, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
      feeder.child.stdio[3].resume();
      await sleep(1500);
      return {
        ffmpegPid: feeder.pid,
        videoInPort: janusPorts.video,
        inPorts: [janusPorts.video, janusPorts.audio],
        stop: () => feeder.stop(),
      };
    },
    serverPid: () => janus.pid,
    async join(count) {
      const sessions = [];
      for (let start = 0; start < count; start += 5) {
        const batch = Array.from(
          { length: Math.min(5, count - start) },
          () => new JanusViewerSession(janus.base),
        );
        sessions.push(...batch);
        const offers = await Promise.all(batch.map((session) => session.watch()));
        const host = offeredHost(offers[0]);
        if (!host) throw new Error('Janus offered no IPv4 host candidate');
        const { sdps } = await request(viewers, { type: 'answerOffers', sdps: offers, host }, 'answers');
        await Promise.all(batch.map((session, index) => session.start(sdps[index])));
      }
      return async () => {
        await Promise.all(sessions.map((session) => session.destroy()));
      };
    },
  },
};

/** Waits (30 s at most) until every viewer receives video; how many do, and the others' connection states. */
async function receivingCount(count) {
  let receiving = 0;
  let silent = [];
  for (let waited = 0; waited < 30_000 && count > 0; waited += 500) {
    await request(viewers, { type: 'reset' }, 'reset');
    await sleep(500);
    const { video, states } = await request(viewers, { type: 'report' }, 'report');
    receiving = video.filter((packets) => packets > 0).length;
    silent = states.filter((_, index) => video[index] === 0);
    if (receiving === count) break;
  }
  return { receiving, silent };
}

/** A window with a loopback capture: packets in, delivery per viewer, forwarding latency. */
async function captureWindow(feed, serverPid, windowSeconds, during) {
  const serverPorts = udpPorts(serverPid);
  for (const port of feed.inPorts) serverPorts.delete(port);
  const tap = await startCapture({ core: loadCore, inPorts: feed.inPorts, outPorts: [...serverPorts] });
  const drops = { server: udpDrops(serverPid), viewers: udpDrops(viewers.pid) };
  const reset = await request(viewers, { type: 'reset', sequences: true }, 'reset');
  const extra = await during(windowSeconds);
  const end = Date.now();
  // Packets that entered in the window are followed for a few more seconds (forwarding) and given
  // another to arrive (delivery); only packets that entered or left in the window count.
  await sleep(3000);
  const { packets, droppedByKernel } = await tap.stop();
  await sleep(1000);
  const report = await request(viewers, { type: 'report' }, 'report');
  const serverDrops = dropsSince(drops.server, udpDrops(serverPid), feed.inPorts);
  const socketDrops = {
    serverInput: serverDrops.inPorts,
    serverOther: serverDrops.other,
    viewers: dropsSince(drops.viewers, udpDrops(viewers.pid), []).other,
  };
  const result = analyse({
    packets,
    videoInPort: feed.videoInPort,
    inPorts: feed.inPorts,
    serverPorts,
    window: [reset.at, end],
  });
  // Per viewer: of the packets the server sent it in the window, the share it received (by SSRC
  // and sequence number, so packets in flight at either edge are neither lost nor extra).
  const received = [];
  const bySsrc = new Map(result.viewers.map((viewer) => [viewer.ssrc, viewer]));
  report.ssrc.forEach((ssrc, index) => {
    const stream = bySsrc.get(ssrc);
    if (!stream) return;
    const sent = stream.sentBetween(...result.window);
    const got = new Set(report.sequences[index]);
    if (sent.length > 0) received.push(sent.filter((seq) => got.has(seq)).length / sent.length);
  });
  const forwarded = result.viewers.map((viewer) => viewer.forwarded);
  return {
    packetsInPerSecond: result.packetsInPerSecond,
    videoPacketsInPerSecond: result.videoPacketsInPerSecond,
    auxiliaryShare: result.auxiliaryShare,
    // Video packets the server sent each viewer per second (median over viewers).
    videoPacketsOutPerViewerPerSecond: result.viewers.length
      ? median(result.viewers.map((viewer) => viewer.sentBetween(...result.window).length)) /
        ((result.window[1] - result.window[0]) / 1000)
      : undefined,
    serverForwarded: forwarded.length
      ? { min: Math.min(...forwarded), median: median(forwarded) }
      : undefined,
    viewersReceived: received.length ? { min: Math.min(...received), median: median(received) } : undefined,
    matchedViewers: result.viewers.length,
    forwardingMs: result.forwardingMs,
    firstCopyMs: result.firstCopyMs,
    spreadMs: result.spreadMs,
    captureDroppedByKernel: droppedByKernel,
    // Datagrams the kernel dropped at full sockets during the window: the server's (it fell
    // behind its input) and the viewers' (the load generator fell behind).
    socketDrops,
    ...extra,
  };
}

/** `GET /api/v3/process`, state and /metrics in tight loops, as the reliability load test does. */
async function hammer(windowSeconds) {
  const deadline = performance.now() + windowSeconds * 1000;
  const latencies = [];
  let failed = 0;
  const loop = async (path) => {
    while (performance.now() < deadline) {
      const started = performance.now();
      try {
        const response = await dragon.api(path);
        await response.arrayBuffer();
        if (!response.ok) failed++;
      } catch {
        failed++;
      }
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(
    ['/api/v3/process', `/api/v3/process/${showId}/state`, '/api/v3/process?filter=state', '/metrics'].map(
      loop,
    ),
  );
  latencies.sort((a, b) => a - b);
  return {
    api: {
      requests: latencies.length,
      failed,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    },
  };
}

async function measure(sideName, count, withHammer) {
  const side = sides[sideName];
  const feed = await side.feed();
  const serverPid = side.serverPid();
  const leave = await side.join(count);
  const { receiving, silent } = await receivingCount(count);
  await sleep(warmupMs);
  const meter = cpuMeter({
    server: serverPid,
    ffmpeg: feed.ffmpegPid,
    encoder: encoder.pid,
    viewers: viewers.pid,
  });
  const windows = [];
  const metricsBefore = sideName === 'dragon' ? await dragon.metrics() : undefined;
  const threadsBefore = threadCpuSeconds(serverPid);
  const threadsFrom = performance.now();
  for (let repeat = 0; repeat < repeats; repeat++) {
    meter.start();
    await sleep(seconds * 1000);
    windows.push(meter.stop());
  }
  // Over all the windows together: which of the server's threads the time went to.
  const threads = threadCpuPercent(
    threadsBefore,
    threadCpuSeconds(serverPid),
    (performance.now() - threadsFrom) / 1000,
  );
  const metricsAfter = sideName === 'dragon' ? await dragon.metrics() : undefined;
  const rss = rssMiB(serverPid);
  // The window whose server total is the median, with its user/system split and the others' CPU.
  const chosen = [...windows].sort((a, b) => a.percent.server.total - b.percent.server.total)[
    Math.floor(windows.length / 2)
  ];
  const totals = windows.map((window) => window.percent.server.total);
  const result = {
    server: sideName,
    viewers: count,
    receiving,
    // Connection states of the viewers that never received video (e.g. ICE failed), if any.
    silentViewerStates: silent,
    cpu: {
      server: { ...chosen.percent.server, min: Math.min(...totals), max: Math.max(...totals) },
      ffmpeg: chosen.percent.ffmpeg,
      encoder: chosen.percent.encoder,
      viewers: chosen.percent.viewers,
    },
    threads,
    rssMiB: rss,
    serverFigures: metricsAfter ? serverOwnFigures(metricsAfter) : undefined,
    serverPacketsInPerSecond: metricsAfter
      ? (packetsIn(metricsAfter, showId) - packetsIn(metricsBefore, showId)) / (seconds * repeats)
      : undefined,
  };
  // A WHIP source's input is SRTP on the server's mux port: nothing in it to match outputs against.
  if (capture && sideName !== 'whip') {
    result.capture = await captureWindow(feed, serverPid, captureSeconds, async (window) => {
      await sleep(window * 1000);
      return {};
    });
  }
  if (withHammer && capture) {
    const hammerMeter = cpuMeter({ server: serverPid });
    hammerMeter.start();
    result.hammered = await captureWindow(feed, serverPid, hammerSeconds, hammer);
    result.hammered.cpu = hammerMeter.stop().percent.server;
    result.hammered.serverFigures = serverOwnFigures(await dragon.metrics());
  }
  await leave();
  await request(viewers, { type: 'closeAll' }, 'closed');
  await feed.stop();
  return result;
}

const f = (value, digits = 1) =>
  value === undefined || value === null || Number.isNaN(value) ? '–' : Number(value).toFixed(digits);
const pct = (range) => (range ? `${f(range.min * 100, 1)} / ${f(range.median * 100, 1)}` : '–');

const results = [];
try {
  await waitFor('the encoder', async () => (encoder.child.exitCode === null ? true : undefined), 1000);
  for (const count of counts) {
    for (const sideName of ['dragon', ...(whipOn ? ['whip'] : []), ...(janus ? ['janus'] : [])]) {
      const result = await measure(
        sideName,
        count,
        sideName === 'dragon' && count === Math.max(...counts) && count > 0,
      );
      results.push(result);
      const c = result.capture;
      console.log(
        `${sideName.padEnd(6)} ${String(count).padStart(3)} viewers (${result.receiving} receiving): server ${f(result.cpu.server.total)} % ` +
          `(user ${f(result.cpu.server.user)}, sys ${f(result.cpu.server.system)}; ${f(result.cpu.server.min)}–${f(result.cpu.server.max)}), ` +
          `ffmpeg ${f(result.cpu.ffmpeg?.total)} %, viewers' process ${f(result.cpu.viewers?.total)} %, RSS ${f(result.rssMiB, 0)} MiB` +
          (c
            ? `; in ${f(c.packetsInPerSecond, 0)} pkt/s, forwarded min/median ${pct(c.serverForwarded)} %, received ${pct(c.viewersReceived)} %, forwarding p50 ${f(c.forwardingMs.p50, 2)} p99 ${f(c.forwardingMs.p99, 2)} ms (first copy p99 ${f(c.firstCopyMs.p99, 2)}, one packet to all p99 ${f(c.spreadMs.p99, 2)})`
            : ''),
      );
      if (result.hammered) {
        const h = result.hammered;
        console.log(
          `       hammered API: ${h.api.requests} requests, ${h.api.failed} failed, p50 ${f(h.api.p50Ms)} p99 ${f(h.api.p99Ms)} ms; server ${f(h.cpu.total)} %; ` +
            `forwarded ${pct(h.serverForwarded)} %, received ${pct(h.viewersReceived)} %, forwarding p50 ${f(h.forwardingMs.p50, 2)} p99 ${f(h.forwardingMs.p99, 2)} ms (first copy p99 ${f(h.firstCopyMs.p99, 2)})`,
        );
      }
    }
  }
} finally {
  await stopViewers(viewers);
  await dragon.stop();
  await janus?.stop();
  await encoder.stop();
}

const output = {
  date: new Date().toISOString(),
  quick,
  machine: { cores: cpus().length, cpu: cpus()[0]?.model },
  versions,
  method: {
    serverCore,
    loadCore,
    secondsPerWindow: seconds,
    repeats,
    captureSeconds,
    hammerSeconds,
    feed: '640x360 25 fps H.264 constrained baseline, GOP 2 s, ~1 Mbit/s + Opus 64 kbit/s, MPEG-TS/UDP → copy-mode FFmpeg → RTP',
  },
  janusConfig: janus?.files,
  results,
  ratios: janus || whipOn ? cpuRatios(results) : undefined,
};
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(output, null, 2)}\n`);
console.log(`\n${e2eMarkdown(output).join('\n')}\nwritten to ${values.out}`);
// werift may leave a timer or socket of a closed peer behind; the results are written, so end.
process.exit(0);
