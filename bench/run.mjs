// `pnpm bench`: runs every benchmark in turn (each in its own processes, so one's load does not
// colour another's), then merges their results into bench/results/latest.json (keys of benchmarks
// not run this time are kept) and writes bench/results/latest.md from it.
// Numbers only: nothing here passes or fails. `--quick` runs a short smoke version;
// `--only e2e,api` runs some of them (e2e, e2e-memory, busy-host, scale, fanout, memory, ttff,
// ttff-server, api, ladder, refused, store, adaptation, latency).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { e2eMarkdown, e2eMemoryMarkdown, scaleMarkdown } from './e2e/report.mjs';

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    render: { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const only = values.only?.split(',');
// `--render`: run nothing, write latest.md again from latest.json (after a change to the tables).
const wanted = (name) => !values.render && (!only || only.includes(name));
const work = mkdtempSync(join(tmpdir(), 'dragon-bench-'));

function run(name, cwd, args) {
  const out = join(work, `${name}.json`);
  console.log(`\n== ${name}: node ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [...args, '--out', out], {
    cwd: join(root, cwd),
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error(`${name} benchmark exited with ${result.status}`);
  return JSON.parse(readFileSync(out, 'utf8'));
}

const produced = {};
if (wanted('e2e')) produced.e2e = run('e2e', '.', ['bench/e2e-fanout.mjs', ...(quick ? ['--quick'] : [])]);
if (wanted('e2e-memory'))
  produced.e2eMemory = run('e2e-memory', '.', [
    'bench/e2e-memory.mjs',
    ...(quick ? ['--viewers', '10,20', '--cycles', '50', '--linger', '10'] : ['--runs', '2']),
  ]);
if (wanted('busy-host'))
  produced.busyHost = run('busy-host', '.', [
    'bench/e2e-busy-host.mjs',
    ...(quick ? ['--settings', 'default', '--before', '4', '--busy', '6', '--after', '4'] : []),
  ]);
// Five minutes at most: joining a thousand viewers loads the whole machine.
if (wanted('scale'))
  produced.scale = run('scale', '.', ['bench/e2e-scale.mjs', ...(quick ? ['--quick'] : ['--budget', '300'])]);
if (wanted('fanout'))
  produced.fanout = run('fanout', 'packages/webrtc', [
    'bench/fanout.mjs',
    ...(quick ? ['--viewers', '1,10', '--seconds', '3', '--repeats', '1'] : ['--viewers', '1,10,25,50,100']),
  ]);
if (wanted('memory'))
  produced.memory = run('memory', 'packages/webrtc', [
    '--expose-gc',
    'bench/memory.mjs',
    ...(quick ? ['--idle', '10', '--cycles', '50'] : ['--idle', '50', '--cycles', '1000', '--linger', '40']),
  ]);
if (wanted('ttff'))
  produced.ttff = run('ttff', 'packages/webrtc', [
    'bench/ttff.mjs',
    ...(quick ? ['--joins', '2', '--gops', '2'] : []),
  ]);
if (wanted('ttff-server'))
  produced.ttffServer = run('ttff-server', '.', [
    'bench/ttff-server.mjs',
    ...(quick ? ['--joins', '2'] : []),
  ]);
if (wanted('api'))
  produced.api = run('api', 'apps/core', [
    'bench/api.mjs',
    ...(quick ? ['--processes', '100', '--seconds', '2', '--repeats', '1'] : []),
  ]);
if (wanted('ladder'))
  produced.ladder = run('ladder', 'packages/ffmpeg-args', [
    'bench/ladder-cpu.mjs',
    ...(quick ? ['--seconds', '5', '--warmup', '2'] : []),
  ]);
if (wanted('refused'))
  produced.refused = run('refused', 'apps/core', [
    'bench/refused-offers.mjs',
    ...(quick ? ['--offers', '1000', '--linger', '5'] : []),
  ]);
if (wanted('store'))
  produced.store = run('store', 'apps/core', [
    'bench/store-writes.mjs',
    ...(quick ? ['--processes', '50', '--puts', '5'] : []),
  ]);
if (wanted('adaptation'))
  produced.adaptation = run('adaptation', '.', ['bench/adaptation.mjs', ...(quick ? ['--quick'] : [])]);
if (wanted('latency'))
  produced.latency = run('latency', '.', [
    'bench/glass-to-glass.mjs',
    ...(quick ? ['--frames', '60', '--warmup', '2000'] : []),
  ]);
rmSync(work, { recursive: true, force: true });

let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (dirty.trim()) commit += '-dirty';
} catch {}

const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version };
const date = new Date().toISOString();
const latestFile = join(root, 'bench/results/latest.json');
const previous = existsSync(latestFile) ? JSON.parse(readFileSync(latestFile, 'utf8')) : {};
// Which run each section comes from, since a partial run keeps the others' older figures.
const sections = { ...previous.sections };
// Results written before sections existed carry the run's stamp at the top level.
for (const name of [
  'e2e',
  'e2eMemory',
  'busyHost',
  'scale',
  'fanout',
  'memory',
  'ttff',
  'ttffServer',
  'api',
  'ladder',
  'refused',
  'store',
  'adaptation',
  'latency',
]) {
  if (previous[name] && !sections[name])
    sections[name] = {
      date: previous.date,
      commit: previous.commit,
      quick: previous.quick,
      machine: previous.machine,
    };
}
for (const name of Object.keys(produced)) sections[name] = { date, commit, quick, machine };
const latest = values.render
  ? previous
  : { ...previous, date, commit, quick, machine, sections, ...produced };
const {
  fanout,
  memory,
  ttff,
  ttffServer,
  api,
  e2e,
  e2eMemory,
  busyHost,
  scale,
  ladder,
  refused,
  store,
  adaptation,
  latency,
} = latest;
const stamp = (name) =>
  sections[name]
    ? ` (commit \`${sections[name].commit}\`, ${sections[name].date.slice(0, 10)}, ${sections[name].machine?.cpu ?? 'unknown CPU'}${sections[name].quick ? ', quick run' : ''})`
    : '';

const f = (value, digits = 1) =>
  value === null || value === undefined ? '–' : Number(value).toFixed(digits);
const lines = [
  `Latest run: commit \`${latest.commit}\` · ${latest.date.slice(0, 10)} · ${latest.machine.cores} cores (${latest.machine.cpu}) · Node ${latest.machine.node}${latest.quick ? ' · quick run' : ''}`,
  '',
];
if (e2e)
  lines.push(`## End to end: the built server beside Janus${stamp('e2e')}`, '', ...e2eMarkdown(e2e), '');
if (e2eMemory)
  lines.push(
    `## Memory of the built server, end to end${stamp('e2eMemory')}`,
    '',
    ...e2eMemoryMarkdown(e2eMemory),
    '',
  );
if (busyHost)
  lines.push(
    `## On a busy machine: one busy loop per core beside the built server${stamp('busyHost')}`,
    '',
    `A transcoded 1280×720 test pattern, one viewer; medians per 2 s (${busyHost.cores} busy loops at nice 0 during the second phase).`,
    '',
    '| setting | video packets (frames) per 2 s: before → busy → after | `GET …/state` during the loops, median (max) |',
    '| --- | --- | --- |',
    ...busyHost.results.map(
      ({ setting, env, summary: { before, busy, after } }) =>
        `| ${setting}${
          Object.keys(env).length
            ? ` (${Object.entries(env)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')})`
            : ''
        } | ${before.packetsPer2s} (${before.framesPer2s}) → ${busy.packetsPer2s} (${busy.framesPer2s}) → ${after.packetsPer2s} (${after.framesPer2s}) | ${f(busy.apiMsMedian, 0)} ms (${f(busy.apiMsMax, 0)} ms) |`,
    ),
    '',
  );
if (scale)
  lines.push(
    `## Scale: hundreds of viewers of the built server${stamp('scale')}`,
    '',
    'A 640×360 test pattern at 1 Mbit/s, then 600 kbit/s, copied; viewers join over WHEP (werift ICE and DTLS), then one native thread receives them all (recvmmsg), checks sequence continuity and one SRTP tag in 64, answers consent checks and sends a receiver report a second per viewer. Server on core 0, encoder and generator on core 1.',
    '',
    ...scaleMarkdown(scale),
    '',
  );
if (fanout)
  lines.push(
    `## In-process fan-out micro-benchmark (a tool, not the product)${stamp('fanout')}`,
    '',
    '| fan-out (2 Mbit/s + Opus) | viewers connected | server CPU % median (min–max) | CPU % per viewer | µs per packet per viewer | sent | received | forwarding p50 / p99 ms | end to end p50 / p99 ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...fanout.results.map(
      (r) =>
        `| ${r.viewers} viewers | ${r.connected} | ${f(r.cpuPercent.median)} (${f(r.cpuPercent.min)}–${f(r.cpuPercent.max)}) | ${f(r.cpuPercentPerViewer, 2)} | ${f(r.cpuMicrosPerPacketPerViewer)} | ${f(r.serverDelivery * 100, 2)} % | ${f(r.delivery * 100, 2)} %${r.delivery < 0.99 ? ' (below 99 %)' : ''} | ${r.forwardingLatencyMs ? `${f(r.forwardingLatencyMs.p50, 2)} / ${f(r.forwardingLatencyMs.p99, 2)}` : 'n/a (native plane: see e2e)'} | ${f(r.latencyMs.p50, 2)} / ${f(r.latencyMs.p99, 2)} |`,
    ),
    '',
  );
if (ttff)
  lines.push(
    `## Time to first frame${stamp('ttff')}`,
    '',
    '| time to first frame (Chromium) | median ms (min–max) | joins |',
    '| --- | --- | --- |',
    ...ttff.results.map(
      (r) =>
        `| GOP ${r.gopSeconds} s, keyframe cache ${r.keyframeCache ? 'on' : 'off'} | ${f(r.medianMs, 0)} (${f(r.minMs, 0)}–${f(r.maxMs, 0)}) | ${r.joins}${r.timedOut ? `, ${r.timedOut} timed out` : ''} |`,
    ),
    '',
  );
if (ttffServer)
  lines.push(
    `## Time to first frame of the built server in Chromium${stamp('ttffServer')}`,
    '',
    `A 1280×720 test pattern transcoded (GOP 1 s), one process without renditions and one with \`renditions: "auto"\` (${ttffServer.ladders['ttff-auto']?.join(', ') ?? '–'}); ${ttffServer.joins} joins each, alternating; times from the WHEP POST. Beside them, when Janus is installed, Janus's streaming plugin fed the same pattern with the same x264 settings, watched in the same browser through its HTTP API (times from the first request; Janus keeps no keyframe for a joining viewer).`,
    '',
    '| process | answer, median ms | connected, median ms | first frame presented, median ms (all) | failed |',
    '| --- | --- | --- | --- | --- |',
    ...Object.entries(ttffServer.settings).map(
      ([name, r]) =>
        `| ${name} | ${f(r.answeredMs, 0)} | ${f(r.connectedMs, 0)} | ${f(r.firstFrameMs, 0)} (${r.firstFrameAllMs.join(', ')}) | ${r.failed} |`,
    ),
    '',
  );
if (memory)
  lines.push(
    `## Memory${stamp('memory')}`,
    '',
    '| memory | value |',
    '| --- | --- |',
    `| RSS per idle connected viewer | ${f(memory.rssPerIdleViewerKiB, 0)} KiB (${memory.idleConnected}/${memory.idleViewers} connected) |`,
    ...(memory.perIdleViewerKiB
      ? [
          `| of which JS heap live / committed, young generation | ${f(memory.perIdleViewerKiB.heapUsed, 0)} / ${f(memory.perIdleViewerKiB.heapTotal, 0)} KiB, ${f(memory.perIdleViewerKiB.newSpace, 0)} KiB |`,
          `| RSS per viewer of a second batch | ${f(memory.rssPerIdleViewerMarginalKiB, 0)} KiB (JS heap ${f(memory.perIdleViewerMarginalKiB.heapUsed, 0)} KiB live) |`,
        ]
      : []),
    `| RSS before → after ${memory.cycles} join/leave cycles | ${f(memory.rssBeforeCyclesMiB)} → ${f(memory.rssAfterCyclesMiB)} MiB (${f(memory.cycleSeconds, 0)} s, ${memory.peersLeft} peers left) |`,
    ...(memory.youngGenerationAfterCyclesMiB === undefined
      ? []
      : [
          `| V8 heap committed, young generation, before → after the cycles | ${f(memory.heapCommittedBeforeCyclesMiB)} → ${f(memory.heapCommittedAfterCyclesMiB)} MiB, ${f(memory.youngGenerationBeforeCyclesMiB, 0)} → ${f(memory.youngGenerationAfterCyclesMiB, 0)} MiB |`,
        ]),
    `| JS heap before → after the cycles → ${memory.lingerSeconds} s later | ${f(memory.heapBeforeCyclesMiB)} → ${f(memory.heapAfterCyclesMiB)} → ${f(memory.heapAfterLingerMiB)} MiB (RSS then ${f(memory.rssAfterLingerMiB)} MiB) |`,
    '',
  );
if (api)
  lines.push(
    `## API${stamp('api')}`,
    '',
    '| API | median (min–max) |',
    '| --- | --- |',
    `| \`GET /api/v3/process\`, ${api.processes} processes (${f(api.listResponseBytes / 1024, 0)} KiB), ${api.concurrency} concurrent | ${f(api.listProcessesPerSecond.median)} req/s (${f(api.listProcessesPerSecond.min)}–${f(api.listProcessesPerSecond.max)}) |`,
    `| \`POST …/whep\` offer → answer (+ DELETE), ${api.concurrency} concurrent | ${f(api.whepOffersPerSecond.median)} /s (${f(api.whepOffersPerSecond.min)}–${f(api.whepOffersPerSecond.max)}), ${api.whepOffersPerSecond.failed} failed |`,
    '',
  );
if (ladder)
  lines.push(
    `## Renditions: FFmpeg CPU of a ladder beside the single transcode${stamp('ladder')}`,
    '',
    `One FFmpeg per row with the legs the media plan builds for a 720p25 2.2 Mbit/s H.264 + AAC input (CPU per second of media over ${ladder.seconds} s after ${ladder.warmup} s, load average ${ladder.machine.loadavg.map((value) => value.toFixed(1)).join(' ')}).`,
    '',
    '| settings | legs | CPU, % of one core | estimate (factor 1.5) |',
    '| --- | --- | --- | --- |',
    ...ladder.rows.map(
      (row) =>
        `| ${row.settings} | ${row.legs.join(', ')} | ${f(row.cpuPercent)} | ${row.estimatedPercent} |`,
    ),
    '',
  );
if (refused)
  lines.push(
    `## Refused WHEP offers${stamp('refused')}`,
    '',
    `| ${refused.offers} refused offers, 8 at a time | answers | offers/s | RSS before → after → ${refused.lingerSeconds} s later | old generation before → after | log bytes per refusal |`,
    '| --- | --- | --- | --- | --- | --- |',
    ...refused.results.map(
      (r) =>
        `| ${r.what} | ${Object.entries(r.statuses)
          .map(([status, count]) => `${count} × ${status}`)
          .join(
            ', ',
          )} | ${f(r.offersPerSecond, 0)} | ${f(r.before.rssMiB)} → ${f(r.after.rssMiB)} → ${f(r.later.rssMiB)} MiB | ${f(r.before.oldSpaceMiB)} → ${f(r.after.oldSpaceMiB)} MiB | ${f(r.logBytesPerRefusal)} |`,
    ),
    '',
  );
if (store)
  lines.push(
    `## Process store writes${stamp('store')}`,
    '',
    '| one-key metadata PUT, one after another | p50 / max ms |',
    '| --- | --- |',
    `| PUT on a store of ${f(store.storeMiB)} MiB (${store.processes} processes) | ${f(store.putMs.p50)} / ${f(store.putMs.max)} |`,
    `| \`/ping\` meanwhile (every 10 ms; p99 ${f(store.pingDuringPutsMs.p99)}) | ${f(store.pingDuringPutsMs.p50)} / ${f(store.pingDuringPutsMs.max)} |`,
    `| \`/ping\` before, idle | ${f(store.pingIdleMs.p50)} / ${f(store.pingIdleMs.max)} |`,
    '',
  );
if (adaptation?.phases)
  lines.push(
    `## Adaptive playback behind a capped link${stamp('adaptation')}`,
    '',
    'A 720p ~2 Mbit/s test pattern with 480p/360p/240p renditions; a Chromium behind tbf on a scripted schedule (REMB + NACK congestion control, probes to go up).',
    '',
    '| cap | seconds | settled after s (switches) | ends on | fps | freezes s (count) | audio concealed % |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...adaptation.phases.map(
      (p) =>
        `| ${p.cap} | ${f(p.seconds, 0)} | ${f(p.settleSeconds)} (${p.switches}) | ${p.endRendition} | ${f(p.fps)} | ${f(p.freezeSeconds, 2)} (${p.freezes}) | ${f(p.audioConcealedPercent)} |`,
    ),
    '',
    `Rendition timeline (s): ${adaptation.timeline.map(({ t, rendition }) => `${f(t)} ${rendition}`).join(' → ')}; the uncapped viewer switched ${adaptation.uncapped.switches} times.`,
    '',
  );
if (latency?.rows)
  lines.push(
    `## Glass to glass${stamp('latency')}`,
    '',
    `A capture time in each frame's pixels, read back in headless Chromium at presentation (\`expectedDisplayTime − stamp\`); 640×360@30, 1 Mbit/s; ${latency.frames} frames per row after ${latency.warmupMs / 1000} s.`,
    '',
    '| path | audio | p50 / p95 / p99 ms | before the browser p50 | in the browser p50 | jitter buffer video / audio ms | load average |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...latency.rows.map(
      (r) =>
        `| ${r.path} | ${r.audio ? 'yes' : 'no'} | ${r.latencyMs ? `${f(r.latencyMs.p50, 0)} / ${f(r.latencyMs.p95, 0)} / ${f(r.latencyMs.p99, 0)}` : '–'}${r.timedOut ? ` (${r.frames} frames)` : ''} | ${f(r.beforeBrowserMs?.p50, 0)} | ${f(r.inBrowserMs?.p50, 0)} | ${f(r.jitterBufferMs?.video, 0)} / ${f(r.jitterBufferMs?.audio, 0)} | ${r.loadavg[0].toFixed(1)} |`,
    ),
    '',
  );
const markdown = lines.join('\n');
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/latest.json'), `${JSON.stringify(latest, null, 2)}\n`);
writeFileSync(join(root, 'bench/results/latest.md'), markdown);
console.log(`\n${markdown}\nwritten to bench/results/latest.json and bench/results/latest.md`);
