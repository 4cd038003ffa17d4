// Memory benchmark: RSS per idle connected viewer, and RSS before/after 1,000 join/leave cycles.
// Run with --expose-gc so RSS is read after a full collection. Numbers, not assertions.
//   node --expose-gc bench/memory.mjs [--idle 50] [--cycles 1000] [--mux] [--media] [--out file.json]
// Per idle viewer it reports RSS and where it is: the JS heap (live, and committed by V8: the
// young generation grows with the allocation rate, not with the viewers), memory outside it
// (ArrayBuffers), and the marginal cost of a second batch of as many viewers, which leaves out
// what the first batch paid once (V8's young generation, code, allocator arenas).
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import { PeerFactory, RtpSource, UdpMux } from '../dist/index.js';
import { request, stopViewers } from './viewer-ipc.mjs';

const { values } = parseArgs({
  options: {
    idle: { type: 'string', default: '50' },
    cycles: { type: 'string', default: '1000' },
    batch: { type: 'string', default: '10' },
    linger: { type: 'string', default: '0' },
    // One UDP socket for every viewer, as apps/core runs with `webrtc.udp_mux_port` set.
    mux: { type: 'boolean', default: false },
    // A synthetic 2 Mbit/s source feeds the viewers throughout (playing rather than idle viewers).
    media: { type: 'boolean', default: false },
    out: { type: 'string', default: new URL('./results/memory.json', import.meta.url).pathname },
  },
});
const idleCount = Number(values.idle);
const cycles = Number(values.cycles);
const batch = Number(values.batch);

const newSpace = () =>
  getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
/** Memory after three full collections: RSS, V8's heap (used, committed, young generation), ArrayBuffers. */
const settle = async () => {
  for (let round = 0; round < 3; round++) {
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external, arrayBuffers, newSpace: newSpace() };
};
const mib = (bytes) => bytes / 1024 / 1024;
/** Per viewer, in KiB, from one settled reading to another. */
const perViewer = (from, to, viewers) =>
  Object.fromEntries(
    Object.keys(to).map((key) => [key, (to[key] - from[key]) / 1024 / Math.max(1, viewers)]),
  );

const source = await RtpSource.open({ id: 'bench', video: { payloadType: 96 }, audio: { payloadType: 111 } });
const udpMux = values.mux ? await UdpMux.open({ port: 0, address: '127.0.0.1' }) : undefined;
const factory = new PeerFactory({ interfaceAddresses: ['127.0.0.1'], ...(udpMux ? { udpMux } : {}) });
const child = fork(new URL('./viewers.mjs', import.meta.url), { stdio: 'inherit' });

/** Joins `count` viewers and resolves once every server peer is connected. */
async function join(count) {
  const { sdps } = await request(child, { type: 'offers', count }, 'offers');
  const peers = [];
  const answers = [];
  for (const sdp of sdps) {
    const { peer, answerSdp } = await factory.createPeer(source, sdp);
    peers.push(peer);
    answers.push(answerSdp);
  }
  // Every listener and timer goes once settled: a pending 10 s timer would keep its peer (and the
  // whole werift connection) alive after close, and the churn figures would measure the benchmark.
  const connected = peers.map(
    (peer) =>
      new Promise((resolve) => {
        if (peer.state === 'connected') return resolve(true);
        const done = (value) => {
          clearTimeout(timer);
          peer.off('connected', onConnected);
          peer.off('closed', onClosed);
          resolve(value);
        };
        const onConnected = () => done(true);
        const onClosed = () => done(false);
        const timer = setTimeout(onClosed, 10_000);
        peer.once('connected', onConnected);
        peer.once('closed', onClosed);
      }),
  );
  await request(child, { type: 'answers', sdps: answers }, 'answered');
  return { peers, connected: (await Promise.all(connected)).filter(Boolean).length };
}

if (values.media) {
  // The fan-out micro-benchmark's load: ≈ 2 Mbit/s of video and Opus.
  const load = { videoPps: 230, audioPps: 50, payloadBytes: 1188 };
  await request(
    child,
    { type: 'send', videoPort: source.videoPort, audioPort: source.audioPort, ...load },
    'sending',
  );
}
// Warm up once so code and caches are loaded before the baseline.
for (const peer of (await join(batch)).peers) peer.close();
await request(child, { type: 'closeAll' }, 'closed');

const baseline = await settle();
const idle = await join(idleCount);
const withIdle = await settle();
const more = await join(idleCount);
const withMore = await settle();
const idleConnected = idle.connected;
const moreConnected = more.connected;
for (const peer of [...idle.peers, ...more.peers]) peer.close();
idle.peers.length = 0;
more.peers.length = 0;
await request(child, { type: 'closeAll' }, 'closed');

const beforeCycles = await settle();
let connectedCycles = 0;
const started = performance.now();
for (let done = 0; done < cycles; done += batch) {
  const { peers, connected } = await join(Math.min(batch, cycles - done));
  connectedCycles += connected;
  // Half leave as a WHEP DELETE would (server side), half by closing the viewer.
  peers.forEach((peer, index) => {
    if (index % 2 === 0) peer.close();
  });
  await request(child, { type: 'closeAll' }, 'closed');
  // A vanished viewer is reaped after the disconnect bound; here the server closes it at once,
  // as the reaper would, so the cycle measures join/leave and not the bound.
  for (const peer of peers) peer.close();
}
const cycleSeconds = (performance.now() - started) / 1000;
const afterCycles = await settle();
// V8 gives back its young generation and empty pages when allocation has been low for a while
// (its memory reducer); --linger shows how much of the growth that returns.
await new Promise((resolve) => setTimeout(resolve, Number(values.linger) * 1000));
const afterLinger = await settle();

const idleKiB = perViewer(baseline, withIdle, idleConnected);
const marginalKiB = perViewer(withIdle, withMore, moreConnected);
const result = {
  date: new Date().toISOString(),
  node: process.version,
  udpMux: values.mux,
  media: values.media,
  idleViewers: idleCount,
  idleConnected,
  rssBaselineMiB: mib(baseline.rss),
  rssPerIdleViewerKiB: idleKiB.rss,
  /** Where the first batch's RSS went, per viewer (KiB): live JS heap, V8's committed heap, its young generation, ArrayBuffers. */
  perIdleViewerKiB: idleKiB,
  /** The same for a second batch of as many viewers, joined while the first stay connected. */
  rssPerIdleViewerMarginalKiB: marginalKiB.rss,
  perIdleViewerMarginalKiB: marginalKiB,
  cycles,
  cyclesConnected: connectedCycles,
  cycleSeconds,
  rssBeforeCyclesMiB: mib(beforeCycles.rss),
  rssAfterCyclesMiB: mib(afterCycles.rss),
  rssGrowthMiB: mib(afterCycles.rss - beforeCycles.rss),
  heapBeforeCyclesMiB: mib(beforeCycles.heapUsed),
  heapAfterCyclesMiB: mib(afterCycles.heapUsed),
  heapCommittedBeforeCyclesMiB: mib(beforeCycles.heapTotal),
  heapCommittedAfterCyclesMiB: mib(afterCycles.heapTotal),
  youngGenerationBeforeCyclesMiB: mib(beforeCycles.newSpace),
  youngGenerationAfterCyclesMiB: mib(afterCycles.newSpace),
  lingerSeconds: Number(values.linger),
  rssAfterLingerMiB: mib(afterLinger.rss),
  heapAfterLingerMiB: mib(afterLinger.heapUsed),
  heapCommittedAfterLingerMiB: mib(afterLinger.heapTotal),
  peersLeft: factory.connectionCount,
  sourcePeersLeft: source.subscriberCount,
};
const kib = (value) => value.toFixed(0);
console.log(
  `${values.media ? 'playing' : 'idle'}: ${kib(idleKiB.rss)} KiB RSS per connected viewer (${idleConnected}/${idleCount}${values.mux ? ', UDP mux' : ''}): ` +
    `JS heap ${kib(idleKiB.heapUsed)} live / ${kib(idleKiB.heapTotal)} committed (young generation ${kib(idleKiB.newSpace)}), ` +
    `ArrayBuffers ${kib(idleKiB.arrayBuffers)}; the next ${moreConnected}: ${kib(marginalKiB.rss)} KiB RSS each ` +
    `(JS heap ${kib(marginalKiB.heapUsed)} live / ${kib(marginalKiB.heapTotal)} committed)`,
);
console.log(
  `churn: ` +
    `${cycles} join/leave cycles (${connectedCycles} connected) in ${cycleSeconds.toFixed(0)} s: RSS ` +
    `${result.rssBeforeCyclesMiB.toFixed(1)} → ${result.rssAfterCyclesMiB.toFixed(1)} MiB (${result.rssGrowthMiB >= 0 ? '+' : ''}${result.rssGrowthMiB.toFixed(1)}), ` +
    `${result.peersLeft} peers left; JS heap ${result.heapBeforeCyclesMiB.toFixed(1)} → ${result.heapAfterCyclesMiB.toFixed(1)} MiB, ` +
    `committed ${result.heapCommittedBeforeCyclesMiB.toFixed(1)} → ${result.heapCommittedAfterCyclesMiB.toFixed(1)} MiB ` +
    `(young generation ${result.youngGenerationBeforeCyclesMiB.toFixed(0)} → ${result.youngGenerationAfterCyclesMiB.toFixed(0)} MiB), ` +
    `${result.lingerSeconds} s later RSS ${result.rssAfterLingerMiB.toFixed(1)} MiB, heap ${result.heapAfterLingerMiB.toFixed(1)} MiB ` +
    `(committed ${result.heapCommittedAfterLingerMiB.toFixed(1)})`,
);
await stopViewers(child);
await factory.close();
source.close();
udpMux?.close();
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`written to ${values.out}`);
