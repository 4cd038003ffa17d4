// How long one frame's flush holds a data-plane thread when the viewers' uplink is congested: the
// scenario of test/congested-uplink.mjs (an uplink queue that never drains, as a saturated link
// looks to the kernel) with 100 viewers behind it, one socket for all of them as behind the UDP mux,
// 30-packet keyframes; and a second source whose viewers are on loopback. Prints the flush times of
// both sources per frame and what was dropped; writes JSON (--out). Root only (network namespaces,
// tc); Node 24 (it imports the test's TypeScript link helper). `--addon` measures another build of
// the addon, e.g. one from before the per-frame deadline:
//   node bench/send-deadline.mjs [--viewers 100] [--frames 10] [--addon path/to/dragon-fanout.node]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createQueuedLink, receiverAddress, senderAddress } from '../test/queued-link.ts';

const { values } = parseArgs({
  options: {
    viewers: { type: 'string', default: '100' },
    frames: { type: 'string', default: '10' },
    addon: { type: 'string' },
    out: { type: 'string', default: new URL('./results/send-deadline.json', import.meta.url).pathname },
  },
});
const addon = values.addon ?? fileURLToPath(new URL('../build/dragon-fanout.node', import.meta.url));
const link = createQueuedLink('bd', 'rate 8kbit burst 1600 limit 10mb');
if (!link) throw new Error('needs root, iproute2 and tc (a network namespace with a queued link)');

const options = {
  addon,
  congested: Number(values.viewers),
  healthy: 3,
  frames: Number(values.frames),
  packetsPerFrame: 30,
  packetSize: 1200,
  congestedLocal: senderAddress,
  congestedHost: receiverAddress,
};
let outcome;
try {
  const scenario = fileURLToPath(new URL('../test/congested-uplink.mjs', import.meta.url));
  const stdout = execFileSync(
    'ip',
    ['netns', 'exec', link.sender, process.execPath, scenario, JSON.stringify(options)],
    { encoding: 'utf8', timeout: 600_000 },
  );
  outcome = JSON.parse(stdout);
} finally {
  link.remove();
}

const times = (group) => outcome.flushes.filter((flush) => flush.group === group).map((flush) => flush.ms);
const summary = (ms) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], max: sorted.at(-1) };
};
const congested = summary(times('a'));
const healthy = summary(times('b'));
console.log(`addon: ${addon}`);
console.log(
  `${options.congested} viewers behind a congested uplink, ${options.packetsPerFrame}-packet frames:`,
);
console.log(
  `  flush of the congested source: median ${congested.median.toFixed(1)} ms, max ${congested.max.toFixed(1)} ms`,
);
console.log(
  `  flush of the other source:     median ${healthy.median.toFixed(1)} ms, max ${healthy.max.toFixed(1)} ms`,
);
console.log(
  `  congested viewers: ${outcome.congested.packets} packets sent, ${outcome.congested.dropped} dropped; ` +
    `loopback viewers: ${outcome.received.join(', ')} received`,
);
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(
  values.out,
  `${JSON.stringify({ date: new Date().toISOString(), options, congested, healthy, outcome }, null, 2)}\n`,
);
