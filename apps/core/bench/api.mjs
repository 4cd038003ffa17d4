// API benchmark: GET /api/v3/process with 1,000 (stopped) processes defined, and WHEP offers/s
// against one running process (werift offers shaped like Chromium's). Numbers, not assertions.
//   node bench/api.mjs [--processes 1000] [--seconds 5] [--repeats 3] [--concurrency 8] [--out file.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { startServer, stopAllServers } from '@dragon/test-helpers/server';
import { WeriftViewer } from '@dragon/test-helpers/werift';

const { values } = parseArgs({
  options: {
    processes: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '5' },
    repeats: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    out: { type: 'string', default: new URL('./results/api.json', import.meta.url).pathname },
  },
});
const seconds = Number(values.seconds);
const repeats = Number(values.repeats);
const concurrency = Number(values.concurrency);
const processCount = Number(values.processes);
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const server = await startServer({ env: { CORE_WEBRTC_MAX_OFFERS_PER_MINUTE: '0' } });
const base = server.baseUrl;

/** Runs `task` in `concurrency` loops for the window; returns completed requests per second. */
async function rate(task) {
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  let done = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        if (await task()) done++;
        else failed++;
      }
    }),
  );
  return { perSecond: done / ((performance.now() - started) / 1000), failed };
}

for (let index = 0; index < processCount; index++) {
  const response = await fetch(`${base}/api/v3/process`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      id: `stopped-${index}`,
      reference: 'bench',
      input: [{ id: 'in', address: 'rtsp://127.0.0.1:8554/cam', options: ['-rtsp_transport', 'tcp'] }],
      output: [{ id: 'out', address: '{diskfs}/{processid}.mp4', options: ['-c', 'copy'] }],
      autostart: false,
      webrtc: { enabled: true },
    }),
  });
  if (!response.ok) throw new Error(`creating a process failed: ${response.status} ${await response.text()}`);
}

const listRuns = [];
let listBytes = 0;
for (let repeat = 0; repeat < repeats; repeat++) {
  listRuns.push(
    await rate(async () => {
      const response = await fetch(`${base}/api/v3/process`);
      const body = await response.arrayBuffer();
      listBytes = body.byteLength;
      return response.ok;
    }),
  );
}

await fetch(`${base}/api/v3/process`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({
    id: 'live',
    input: [
      {
        id: 'in',
        address: 'testsrc2=size=640x360:rate=25[out0];sine[out1]',
        options: ['-re', '-f', 'lavfi'],
      },
    ],
    output: [],
    autostart: true,
    webrtc: { enabled: true, force_transcode: true },
  }),
});
for (let tries = 0; tries < 100; tries++) {
  const state = await (await fetch(`${base}/api/v3/process/live/state`)).json();
  if (state.exec === 'running') break;
  await sleep(100);
}
await sleep(1500);

// The viewer offers are made in this (load) process, shaped like a browser's.
const viewer = new WeriftViewer();
const offer = await viewer.offer();

const whepRuns = [];
for (let repeat = 0; repeat < repeats; repeat++) {
  whepRuns.push(
    await rate(async () => {
      const response = await fetch(`${base}/api/v3/process/live/whep`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: offer,
      });
      await response.arrayBuffer();
      if (response.status !== 201) return false;
      // Leave at once so sessions do not pile up: the figure is offers answered per second.
      const location = response.headers.get('Location');
      await (await fetch(`${base}${location}`, { method: 'DELETE' })).arrayBuffer();
      return true;
    }),
  );
}
await viewer.close();
await stopAllServers();

const summary = (runs) => {
  const list = runs.map((run) => run.perSecond);
  return {
    median: median(list),
    min: Math.min(...list),
    max: Math.max(...list),
    failed: runs.reduce((sum, run) => sum + run.failed, 0),
  };
};
const result = {
  date: new Date().toISOString(),
  processes: processCount,
  concurrency,
  seconds,
  repeats,
  listResponseBytes: listBytes,
  listProcessesPerSecond: summary(listRuns),
  whepOffersPerSecond: summary(whepRuns),
};
console.log(
  `GET /api/v3/process (${processCount} processes, ${(listBytes / 1024).toFixed(0)} KiB): ` +
    `${result.listProcessesPerSecond.median.toFixed(1)} req/s (min ${result.listProcessesPerSecond.min.toFixed(1)}, max ${result.listProcessesPerSecond.max.toFixed(1)}); ` +
    `WHEP offers: ${result.whepOffersPerSecond.median.toFixed(1)}/s (min ${result.whepOffersPerSecond.min.toFixed(1)}, max ${result.whepOffersPerSecond.max.toFixed(1)}, ${result.whepOffersPerSecond.failed} failed)`,
);
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`written to ${values.out}`);
