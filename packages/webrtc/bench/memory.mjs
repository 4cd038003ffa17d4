// Memory benchmark: RSS per idle connected viewer, and RSS before/after 1,000 join/leave cycles.
// Run with --expose-gc so RSS is read after a full collection. Numbers, not assertions.
//   node --expose-gc bench/memory.mjs [--idle 50] [--cycles 1000] [--out file.json]
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { PeerFactory, RtpSource } from '../dist/index.js';
import { request, stopViewers } from './viewer-ipc.mjs';

const { values } = parseArgs({
  options: {
    idle: { type: 'string', default: '50' },
    cycles: { type: 'string', default: '1000' },
    batch: { type: 'string', default: '10' },
    linger: { type: 'string', default: '0' },
    out: { type: 'string', default: new URL('./results/memory.json', import.meta.url).pathname },
  },
});
const idleCount = Number(values.idle);
const cycles = Number(values.cycles);
const batch = Number(values.batch);

const settle = async () => {
  for (let round = 0; round < 3; round++) {
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return process.memoryUsage().rss;
};
const mib = (bytes) => bytes / 1024 / 1024;

const source = await RtpSource.open({ id: 'bench', video: { payloadType: 96 }, audio: { payloadType: 111 } });
const factory = new PeerFactory({ interfaceAddresses: ['127.0.0.1'] });
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
  const connected = peers.map(
    (peer) =>
      new Promise((resolve) => {
        if (peer.state === 'connected') return resolve(true);
        peer.once('connected', () => resolve(true));
        peer.once('closed', () => resolve(false));
        setTimeout(() => resolve(false), 10_000).unref();
      }),
  );
  await request(child, { type: 'answers', sdps: answers }, 'answered');
  return { peers, connected: (await Promise.all(connected)).filter(Boolean).length };
}

// Warm up once so code and caches are loaded before the baseline.
const warm = await join(batch);
for (const peer of warm.peers) peer.close();
await request(child, { type: 'closeAll' }, 'closed');

const baseline = await settle();
const idle = await join(idleCount);
const withIdle = await settle();
for (const peer of idle.peers) peer.close();
await request(child, { type: 'closeAll' }, 'closed');

const beforeCycles = await settle();
const heapBeforeCycles = process.memoryUsage().heapUsed;
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
const heapAfterCycles = process.memoryUsage().heapUsed;
// Werift keeps some per-peer timers for a while after close; --linger shows what they hold.
await new Promise((resolve) => setTimeout(resolve, Number(values.linger) * 1000));
const afterLinger = await settle();
const heapAfterLinger = process.memoryUsage().heapUsed;

const result = {
  date: new Date().toISOString(),
  node: process.version,
  idleViewers: idleCount,
  idleConnected: idle.connected,
  rssBaselineMiB: mib(baseline),
  rssPerIdleViewerKiB: (withIdle - baseline) / 1024 / Math.max(1, idle.connected),
  cycles,
  cyclesConnected: connectedCycles,
  cycleSeconds,
  rssBeforeCyclesMiB: mib(beforeCycles),
  rssAfterCyclesMiB: mib(afterCycles),
  rssGrowthMiB: mib(afterCycles - beforeCycles),
  heapBeforeCyclesMiB: mib(heapBeforeCycles),
  heapAfterCyclesMiB: mib(heapAfterCycles),
  lingerSeconds: Number(values.linger),
  rssAfterLingerMiB: mib(afterLinger),
  heapAfterLingerMiB: mib(heapAfterLinger),
  peersLeft: factory.connectionCount,
  sourcePeersLeft: source.subscriberCount,
};
console.log(
  `idle: ${result.rssPerIdleViewerKiB.toFixed(0)} KiB RSS per connected viewer (${idle.connected}/${idleCount}); ` +
    `${cycles} join/leave cycles (${connectedCycles} connected) in ${cycleSeconds.toFixed(0)} s: RSS ` +
    `${result.rssBeforeCyclesMiB.toFixed(1)} → ${result.rssAfterCyclesMiB.toFixed(1)} MiB (${result.rssGrowthMiB >= 0 ? '+' : ''}${result.rssGrowthMiB.toFixed(1)}), ` +
    `${result.peersLeft} peers left; JS heap ${result.heapBeforeCyclesMiB.toFixed(1)} → ${result.heapAfterCyclesMiB.toFixed(1)} MiB, ` +
    `${result.lingerSeconds} s later RSS ${result.rssAfterLingerMiB.toFixed(1)} MiB, heap ${result.heapAfterLingerMiB.toFixed(1)} MiB`,
);
await stopViewers(child);
await factory.close();
source.close();
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`written to ${values.out}`);
