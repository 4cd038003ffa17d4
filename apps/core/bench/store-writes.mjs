// Process store writes: what a one-key metadata PUT costs on a big store, and what `/ping` answers
// meanwhile (a stalled event loop shows there). The built server starts on a data directory holding
// a store of earlier releases (`db.json`, migrated at boot by a server that keeps one file per
// process) of --processes stopped processes with --metadata-kib of metadata each; then --puts PUTs
// of one small key, one after another, while `/ping` is asked every 10 ms. Numbers, not assertions.
//   node bench/store-writes.mjs [--processes 270] [--metadata-kib 100] [--puts 20] [--out file.json]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from '@dragon/test-helpers/server';

const { values } = parseArgs({
  options: {
    processes: { type: 'string', default: '270' },
    'metadata-kib': { type: 'string', default: '100' },
    puts: { type: 'string', default: '20' },
    out: { type: 'string', default: new URL('./results/store-writes.json', import.meta.url).pathname },
  },
});
const processCount = Number(values.processes);
const puts = Number(values.puts);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const quantile = (list, q) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const summary = (list) => ({
  p50: quantile(list, 0.5),
  p99: quantile(list, 0.99),
  max: Math.max(...list),
  count: list.length,
});

const dataDir = mkdtempSync(join(tmpdir(), 'dragon-bench-'));
const ui = { state: 'x'.repeat(Number(values['metadata-kib']) * 1024) };
const processes = Array.from({ length: processCount }, (_, index) => ({
  config: {
    id: `p${index}`,
    reference: 'bench',
    input: [{ id: 'in', address: 'testsrc2', options: ['-f', 'lavfi'] }],
    output: [{ id: 'out', address: '-', options: ['-f', 'null'] }],
    autostart: false,
  },
  order: 'stop',
  metadata: { 'restreamer-ui': ui },
  created_at: 1_700_000_000 + index,
}));
const storeText = JSON.stringify({ version: 1, processes, metadata: {} });
writeFileSync(join(dataDir, 'db.json'), storeText);

const bootStarted = performance.now();
const server = await startServer({ dataDir });
const base = server.baseUrl;
const bootSeconds = (performance.now() - bootStarted) / 1000;

/** `/ping` every 10 ms until `stop()`; the round-trip times in ms. */
function pinger() {
  const times = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const started = performance.now();
      await (await fetch(`${base}/ping`)).text();
      times.push(performance.now() - started);
      await sleep(10);
    }
  })();
  return {
    times,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

try {
  const idle = pinger();
  await sleep(3000);
  await idle.stop();
  const during = pinger();
  const putTimes = [];
  for (let index = 0; index < puts; index++) {
    const started = performance.now();
    const response = await fetch(`${base}/api/v3/process/p${index % processCount}/metadata/note`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ put: index }),
    });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`PUT answered ${response.status}`);
    putTimes.push(performance.now() - started);
  }
  await during.stop();
  const result = {
    processes: processCount,
    storeMiB: Math.round((Buffer.byteLength(storeText) / 1048576) * 10) / 10,
    bootSeconds,
    putMs: summary(putTimes),
    pingIdleMs: summary(idle.times),
    pingDuringPutsMs: summary(during.times),
  };
  const f = (value) => value.toFixed(1);
  console.log(
    `store of ${result.storeMiB} MiB (${processCount} processes): one-key metadata PUT p50 ${f(result.putMs.p50)} ms, max ${f(result.putMs.max)} ms; ` +
      `/ping idle p50 ${f(result.pingIdleMs.p50)} / max ${f(result.pingIdleMs.max)} ms, during the PUTs p50 ${f(result.pingDuringPutsMs.p50)} / p99 ${f(result.pingDuringPutsMs.p99)} / max ${f(result.pingDuringPutsMs.max)} ms`,
  );
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written to ${values.out}`);
} finally {
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
