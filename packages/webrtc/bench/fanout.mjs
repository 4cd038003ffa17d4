// Fan-out benchmark: CPU per viewer and forwarding latency of @dragon/webrtc (built dist).
// Prints a table and writes JSON (--out, default bench/results/fanout.json). Numbers, not assertions.
//   node bench/fanout.mjs [--viewers 10,25,50] [--seconds 10] [--repeats 3]
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { PeerFactory, RtpSource } from '../dist/index.js';
import { request, stopViewers } from './viewer-ipc.mjs';

const { values } = parseArgs({
  options: {
    viewers: { type: 'string', default: '1,10,25,50,100' },
    seconds: { type: 'string', default: '8' },
    repeats: { type: 'string', default: '3' },
    out: { type: 'string', default: new URL('./results/fanout.json', import.meta.url).pathname },
  },
});
const counts = values.viewers.split(',').map(Number);
const seconds = Number(values.seconds);
const repeats = Number(values.repeats);
// 2 Mbit/s of 1200-byte video packets ≈ 230 packets/s; Opus at 50 packets/s.
const load = { videoPps: 230, audioPps: 50, payloadBytes: 1188 };

const packetsIn = (source) => {
  const stats = source.stats();
  return stats.video.packets + (stats.audio?.packets ?? 0);
};
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

async function measure(viewerCount) {
  const source = await RtpSource.open({
    id: 'bench',
    video: { payloadType: 96 },
    audio: { payloadType: 111 },
    keyframeCache: false,
  });
  const factory = new PeerFactory({ interfaceAddresses: ['127.0.0.1'] });
  const child = fork(new URL('./viewers.mjs', import.meta.url), { stdio: 'inherit' });
  const { sdps } = await request(child, { type: 'offers', count: viewerCount }, 'offers');
  // Answers go back in small batches, as WHEP clients apply theirs at once: a server peer whose
  // viewer stays silent for seconds fails ICE, which would measure the bench, not the server.
  for (let start = 0; start < sdps.length; start += 5) {
    const answers = [];
    for (const sdp of sdps.slice(start, start + 5))
      answers.push((await factory.createPeer(source, sdp)).answerSdp);
    await request(child, { type: 'answers', start, sdps: answers }, 'answered');
  }
  await request(
    child,
    { type: 'send', videoPort: source.videoPort, audioPort: source.audioPort, ...load },
    'sending',
  );
  // Measure only once every viewer is connected and receiving (or say how many never did).
  let connected = 0;
  for (let waited = 0; waited < 30_000; waited += 500) {
    await request(child, { type: 'reset' }, 'reset');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { video } = await request(child, { type: 'report' }, 'report');
    connected = video.filter((count) => count > 0).length;
    if (connected === viewerCount) break;
  }
  const runs = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    await request(child, { type: 'reset' }, 'reset');
    const inBefore = packetsIn(source);
    const sentBefore = source.sentStats().packetsSent;
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const cpu = process.cpuUsage(cpuBefore);
    const wall = performance.now() - wallBefore;
    const report = await request(child, { type: 'report' }, 'report');
    const serverDelivery =
      (source.sentStats().packetsSent - sentBefore) / Math.max(1, (packetsIn(source) - inBefore) * connected);
    const cpuPercent = ((cpu.user + cpu.system) / 1000 / wall) * 100;
    // A viewer's count differs from `sent` by the packets in flight at the window's edges.
    const delivery =
      report.video.reduce((sum, count) => sum + Math.min(1, count / Math.max(1, report.sent.video)), 0) /
      viewerCount;
    runs.push({
      cpuPercent,
      delivery,
      serverDelivery,
      sentPerSecond: report.sent.video / (wall / 1000),
      p50: report.p50,
      p99: report.p99,
      perViewerPps: report.video.reduce((a, b) => a + b, 0) / viewerCount / (wall / 1000),
    });
  }
  await stopViewers(child);
  await factory.close();
  source.close();
  const cpuList = runs.map((run) => run.cpuPercent);
  return {
    viewers: viewerCount,
    connected,
    cpuPercent: { median: median(cpuList), min: Math.min(...cpuList), max: Math.max(...cpuList) },
    cpuPercentPerViewer: median(cpuList) / connected,
    cpuMicrosPerPacketPerViewer: (median(cpuList) * 10_000) / connected / (load.videoPps + load.audioPps),
    // Share of input packets the server handed to each connected viewer's SRTP sender.
    serverDelivery: median(runs.map((run) => run.serverDelivery)),
    // Share the viewers actually received: on a small box the viewers' own process can be the limit.
    delivery: median(runs.map((run) => run.delivery)),
    videoPacketsPerViewerPerSecond: median(runs.map((run) => run.perViewerPps)),
    latencyMs: { p50: median(runs.map((run) => run.p50)), p99: median(runs.map((run) => run.p99)) },
  };
}

const results = [];
for (const count of counts) {
  const result = await measure(count);
  results.push(result);
  console.log(
    `${String(count).padStart(4)} viewers (${result.connected} connected): CPU ${result.cpuPercent.median.toFixed(1)} % (min ${result.cpuPercent.min.toFixed(1)}, max ${result.cpuPercent.max.toFixed(1)}), ` +
      `${result.cpuPercentPerViewer.toFixed(2)} %/viewer, ${result.cpuMicrosPerPacketPerViewer.toFixed(1)} µs/packet/viewer, ` +
      `sent ${(result.serverDelivery * 100).toFixed(2)} %, received ${(result.delivery * 100).toFixed(2)} %${result.delivery < 0.99 ? ' (BELOW 99 %)' : ''}, latency p50 ${result.latencyMs.p50.toFixed(2)} ms p99 ${result.latencyMs.p99.toFixed(2)} ms`,
  );
}
mkdirSync(dirname(values.out), { recursive: true });
const output = {
  date: new Date().toISOString(),
  node: process.version,
  cores: cpus().length,
  cpu: cpus()[0]?.model,
  seconds,
  repeats,
  load,
  results,
};
writeFileSync(values.out, `${JSON.stringify(output, null, 2)}\n`);
console.log(`written to ${values.out}`);
