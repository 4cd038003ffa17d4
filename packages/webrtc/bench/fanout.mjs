// Fan-out benchmark: CPU per viewer and forwarding latency of @dragon/webrtc (built dist), with the
// data plane chosen (--engine native|js, --shards N; CPU is the whole process, workers included).
// Prints a table and writes JSON (--out, default bench/results/fanout.json). Numbers, not assertions.
//   node bench/fanout.mjs [--viewers 10,25,50] [--seconds 10] [--repeats 3] [--engine js] [--shards 2]
import { fork } from 'node:child_process';
import { createSocket, Socket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { FanoutPlane, PeerFactory, RtpSource } from '../dist/index.js';
import { request, stopViewers } from './viewer-ipc.mjs';

const { values } = parseArgs({
  options: {
    viewers: { type: 'string', default: '1,10,25,50,100' },
    seconds: { type: 'string', default: '8' },
    repeats: { type: 'string', default: '3' },
    out: { type: 'string', default: new URL('./results/fanout.json', import.meta.url).pathname },
    engine: { type: 'string', default: 'auto' },
    shards: { type: 'string', default: '1' },
  },
});
const planeOptions = { engine: values.engine, shards: Number(values.shards) };
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

/**
 * Server-side forwarding latency, for a data plane in this thread sending through dgram (the JS
 * engine): from the sender's timestamp in a video packet (it enters the source socket microseconds
 * later, over loopback) to each SRTP datagram for that packet being handed to the OS. The fan-out of
 * one packet runs before the next datagram's event, so every RTP send between two arrivals belongs
 * to the packet that arrived last. The native engine sends from its own threads with sendmmsg(2):
 * there, the end-to-end figure (and the loopback capture of bench/e2e-fanout.mjs) is the measure.
 */
function instrumentLatency(videoSocket, audioSocket) {
  const probe = { current: undefined, samples: [] };
  videoSocket.prependListener('message', (packet) => {
    probe.current = packet.length >= 21 ? packet.readDoubleBE(13) : undefined;
  });
  audioSocket.prependListener('message', () => {
    probe.current = undefined;
  });
  const send = Socket.prototype.send;
  Socket.prototype.send = function (buffer, ...rest) {
    // RTP only (version 2, not an RTCP packet type): consent checks and reports are not media.
    if (probe.current !== undefined && Buffer.isBuffer(buffer) && buffer.length > 12) {
      if ((buffer[0] & 0xc0) === 0x80 && (buffer[1] < 200 || buffer[1] > 207)) {
        probe.samples.push(performance.timeOrigin + performance.now() - probe.current);
      }
    }
    return send.call(this, buffer, ...rest);
  };
  return { probe, restore: () => (Socket.prototype.send = send) };
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function measure(viewerCount) {
  const bound = async () => {
    const socket = createSocket('udp4');
    await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return socket;
  };
  const [videoSocket, audioSocket] = [await bound(), await bound()];
  const plane = FanoutPlane.open(planeOptions);
  const latency = plane.engine === 'js' ? instrumentLatency(videoSocket, audioSocket) : undefined;
  const source = await RtpSource.open({
    id: 'bench',
    video: { payloadType: 96, socket: videoSocket },
    audio: { payloadType: 111, socket: audioSocket },
    keyframeCache: false,
    plane,
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
    if (latency) latency.probe.samples = [];
    const inBefore = packetsIn(source);
    const sentBefore = source.sentStats().packetsSent;
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const cpu = process.cpuUsage(cpuBefore);
    const wall = performance.now() - wallBefore;
    const report = await request(child, { type: 'report' }, 'report');
    const forwarding = latency ? latency.probe.samples.sort((a, b) => a - b) : [];
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
      serverP50: percentile(forwarding, 50),
      serverP99: percentile(forwarding, 99),
      perViewerPps: report.video.reduce((a, b) => a + b, 0) / viewerCount / (wall / 1000),
    });
  }
  await stopViewers(child);
  await factory.close();
  source.close();
  await plane.close();
  latency?.restore();
  const cpuList = runs.map((run) => run.cpuPercent);
  return {
    engine: plane.engine,
    shards: plane.shards,
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
    // Server side: source socket → SRTP datagram to the OS (see instrumentLatency; JS engine only).
    forwardingLatencyMs: latency
      ? { p50: median(runs.map((run) => run.serverP50)), p99: median(runs.map((run) => run.serverP99)) }
      : null,
    // End to end, as measured inside the viewers' process (includes its own werift receive path).
    latencyMs: { p50: median(runs.map((run) => run.p50)), p99: median(runs.map((run) => run.p99)) },
  };
}

const results = [];
for (const count of counts) {
  const result = await measure(count);
  results.push(result);
  console.log(
    `${result.engine}/${result.shards} ${String(count).padStart(4)} viewers (${result.connected} connected): CPU ${result.cpuPercent.median.toFixed(1)} % (min ${result.cpuPercent.min.toFixed(1)}, max ${result.cpuPercent.max.toFixed(1)}), ` +
      `${result.cpuPercentPerViewer.toFixed(2)} %/viewer, ${result.cpuMicrosPerPacketPerViewer.toFixed(1)} µs/packet/viewer, ` +
      `sent ${(result.serverDelivery * 100).toFixed(2)} %, received ${(result.delivery * 100).toFixed(2)} %${result.delivery < 0.99 ? ' (BELOW 99 %)' : ''}, ${result.forwardingLatencyMs ? `forwarding p50 ${result.forwardingLatencyMs.p50.toFixed(2)} ms p99 ${result.forwardingLatencyMs.p99.toFixed(2)} ms, ` : ''}end to end p50 ${result.latencyMs.p50.toFixed(2)} ms p99 ${result.latencyMs.p99.toFixed(2)} ms`,
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
