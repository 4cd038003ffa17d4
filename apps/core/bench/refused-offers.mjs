// Refused WHEP offers: what a flood of offers the server refuses costs it in memory and log. For each
// kind of refusal, a fresh built server with one running process gets --offers POSTs (8 at a time);
// its RSS is read from /proc before, right after and --linger seconds later, V8's old-generation
// size through the inspector, and the bytes it logged per refusal. Numbers, not assertions.
//   node bench/refused-offers.mjs [--offers 10000] [--kinds codec,garbage,unknown] [--linger 30] [--out file.json]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, startServer } from '@dragon/test-helpers/server';

const { values } = parseArgs({
  options: {
    offers: { type: 'string', default: '10000' },
    kinds: { type: 'string', default: 'codec,garbage,unknown' },
    linger: { type: 'string', default: '30' },
    out: { type: 'string', default: new URL('./results/refused-offers.json', import.meta.url).pathname },
  },
});
const offers = Number(values.offers);
const lingerSeconds = Number(values.linger);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes) => Math.round((bytes / 1048576) * 10) / 10;

// A well-formed offer the server refuses (422): VP8 only.
const vp8Offer = [
  'v=0',
  'o=- 1 1 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  `a=fingerprint:sha-256 ${Array.from({ length: 32 }, () => 'AB').join(':')}`,
  'm=video 9 UDP/TLS/RTP/SAVPF 120',
  'c=IN IP4 0.0.0.0',
  'a=mid:0',
  'a=recvonly',
  'a=rtcp-mux',
  'a=rtpmap:120 VP8/90000',
  'a=setup:actpass',
  '',
].join('\r\n');
const kinds = {
  codec: { path: 'live', body: vp8Offer, what: 'no usable codec (422, the engine refuses)' },
  garbage: { path: 'live', body: 'v=0 garbage', what: 'malformed SDP (400)' },
  unknown: { path: 'nope', body: vp8Offer, what: 'unknown process (404, body not read)' },
};

/** V8's heap figures of the server, read through its inspector. */
async function v8Figures(inspectPort) {
  const [target] = await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json();
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  const expression = `JSON.stringify({ heapUsed: process.memoryUsage().heapUsed, oldSpace: process.getBuiltinModule('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').physical_space_size })`;
  const reply = await new Promise((resolve) => {
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.id === 1) resolve(data.result.result.value);
    };
    socket.send(
      JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression, returnByValue: true } }),
    );
  });
  socket.close();
  const { heapUsed, oldSpace } = JSON.parse(reply);
  return { heapUsedMiB: mib(heapUsed), oldSpaceMiB: mib(oldSpace) };
}

async function measure(kind) {
  const dataDir = mkdtempSync(join(tmpdir(), 'dragon-bench-'));
  const inspectPort = await freePort('tcp');
  const server = await startServer({
    dataDir,
    env: { NODE_OPTIONS: `--inspect=127.0.0.1:${inspectPort}`, CORE_WEBRTC_MAX_OFFERS_PER_MINUTE: '0' },
  });
  const base = server.baseUrl;
  /** What the server has logged so far, in bytes (its stdout is its log). */
  const logBytes = () => server.logLines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
  const rss = () =>
    mib(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))[1]) * 1024);
  try {
    await fetch(`${base}/api/v3/process`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'live',
        input: [{ id: 'in', address: 'testsrc2=size=320x180:rate=25', options: ['-re', '-f', 'lavfi'] }],
        output: [],
        options: [],
        autostart: true,
        webrtc: { enabled: true, force_transcode: true },
      }),
    });
    for (;;) {
      const state = await (await fetch(`${base}/api/v3/process/live/state`)).json();
      if (state.exec === 'running') break;
      await sleep(200);
    }
    await sleep(3000);
    const { path, body, what } = kinds[kind];
    const before = { rssMiB: rss(), ...(await v8Figures(inspectPort)) };
    const logBefore = logBytes();
    const statuses = {};
    let sent = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (sent < offers) {
          sent++;
          // A connection the server closed counts as an answer too ("reset").
          const status = await fetch(`${base}/api/v3/process/${path}/whep`, {
            method: 'POST',
            headers: { 'content-type': 'application/sdp' },
            body,
          }).then(
            async (response) => {
              await response.arrayBuffer();
              return response.status;
            },
            () => 'reset',
          );
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const after = { rssMiB: rss(), ...(await v8Figures(inspectPort)) };
    const logBytesPerRefusal = (logBytes() - logBefore) / offers;
    await sleep(lingerSeconds * 1000);
    const later = { rssMiB: rss(), ...(await v8Figures(inspectPort)) };
    return {
      kind,
      what,
      offers,
      statuses,
      offersPerSecond: offers / seconds,
      before,
      after,
      later,
      logBytesPerRefusal,
    };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const results = [];
for (const kind of values.kinds.split(',')) {
  const result = await measure(kind);
  results.push(result);
  console.log(
    `${kind} (${result.what}): ${offers} offers ${JSON.stringify(result.statuses)} at ${result.offersPerSecond.toFixed(0)}/s; ` +
      `RSS ${result.before.rssMiB} → ${result.after.rssMiB} → ${result.later.rssMiB} MiB ${lingerSeconds} s later; ` +
      `old generation ${result.before.oldSpaceMiB} → ${result.after.oldSpaceMiB} MiB; log ${result.logBytesPerRefusal.toFixed(1)} bytes per refusal`,
  );
}
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify({ offers, lingerSeconds, results }, null, 2)}\n`);
console.log(`written to ${values.out}`);
