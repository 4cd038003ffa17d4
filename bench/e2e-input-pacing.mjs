// How evenly a WebRTC viewer gets video from inputs FFmpeg can read faster than real time: a live
// HLS stream (an FFmpeg writing segments, served over HTTP, as a camera gateway or a CDN serves
// one) and a file, each as the user wrote it (no -re: what the media plan does about it) and with
// -re. A werift viewer joins over WHEP; for `--seconds` after `--warmup` it records when each video
// frame's first packet arrives. Numbers, not assertions: frames per second (per one-second bin: min,
// max), time frozen (gaps between frames of over 250 ms, summed), the longest gap, packets lost (RTP
// sequence gaps), and the input options of the FFmpeg the server ran.
//   node bench/e2e-input-pacing.mjs [--seconds 15] [--warmup 5] [--segment 2] [--out bench/results/input-pacing.json]
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { WeriftViewer } from '../packages/test-helpers/dist/werift.js';
import { startDragon, waitFor } from './e2e/dragon.mjs';
import { childrenOf, commandLine } from './e2e/proc.mjs';

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    segment: { type: 'string', default: '2' },
    out: { type: 'string', default: join(root, 'bench/results/input-pacing.json') },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const segment = Number(values.segment);
const ffmpeg = process.env.CORE_FFMPEG_BINARY ?? 'ffmpeg';
const frameRate = 25;
/** A gap between frames longer than this is a freeze a viewer sees (six frames at 25 fps). */
const frozenAfterMs = 250;
const work = mkdtempSync(join(tmpdir(), 'dragon-input-pacing-'));

// 640x360 at 25 fps, x264 without B-frames (the plan copies it), a keyframe every 2 s; AAC audio.
const sources = [
  ...['-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=${frameRate}`],
  ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
];
const encode = [
  ...[
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-profile:v',
    'main',
    '-bf',
    '0',
    '-g',
    String(2 * frameRate),
  ],
  ...['-b:v', '1M', '-maxrate', '1M', '-bufsize', '2M', '-c:a', 'aac'],
];
const fileSeconds = String(warmup + seconds + 60);
console.log(`making a ${fileSeconds} s MPEG-TS file in ${work}…`);
execFileSync(ffmpeg, [
  '-hide_banner',
  '-loglevel',
  'error',
  '-y',
  ...sources,
  '-t',
  fileSeconds,
  ...encode,
  join(work, 'clip.ts'),
]);

// The live HLS stream: written in real time, the last six segments listed, older ones deleted.
mkdirSync(join(work, 'live'));
const hlsWriter = spawn(
  ffmpeg,
  [
    ...['-hide_banner', '-loglevel', 'error', '-re', ...sources, ...encode],
    ...['-f', 'hls', '-hls_time', String(segment), '-hls_list_size', '6', '-hls_flags', 'delete_segments'],
    join(work, 'live/index.m3u8'),
  ],
  { stdio: 'ignore' },
);
const http = createServer((request, response) => {
  const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname));
  const file = join(work, path);
  if (!file.startsWith(work) || !existsSync(file)) return response.writeHead(404).end();
  const type = extname(file) === '.m3u8' ? 'application/vnd.apple.mpegurl' : 'video/mp2t';
  response.writeHead(200, { 'Content-Type': type });
  createReadStream(file).pipe(response);
});
await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
const httpBase = `http://127.0.0.1:${http.address().port}`;
await waitFor(
  'the live playlist',
  async () => {
    const response = await fetch(`${httpBase}/live/index.m3u8`);
    const text = response.ok ? await response.text() : '';
    return (text.match(/\.ts$/gm) ?? []).length >= 3 ? true : undefined;
  },
  60_000,
);

const cases = [
  { kind: 'live HLS over HTTP', address: `${httpBase}/live/index.m3u8`, options: [] },
  { kind: 'live HLS over HTTP', address: `${httpBase}/live/index.m3u8`, options: ['-re'] },
  { kind: 'MPEG-TS file', address: join(work, 'clip.ts'), options: [] },
  { kind: 'MPEG-TS file', address: join(work, 'clip.ts'), options: ['-re'] },
];

const dragon = await startDragon({ core: `0-${cpus().length - 1}` });
const results = [];
try {
  for (const [index, entry] of cases.entries()) {
    console.log(`${entry.kind}, options ${JSON.stringify(entry.options)}…`);
    results.push(await measure(`pace${index}`, entry));
  }
} finally {
  await dragon.stop();
  hlsWriter.kill('SIGTERM');
  http.close();
  rmSync(work, { recursive: true, force: true });
}

const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', loadavg: loadavg() };
console.log(
  `\nvideo frames at a werift viewer over ${seconds} s after ${warmup} s (source ${frameRate} fps, HLS segments of ${segment} s):`,
);
console.log(
  `${'input'.padEnd(20)} ${'options'.padEnd(8)} ${'server read with'.padEnd(22)} fps min–max  frozen s  longest gap ms  lost`,
);
for (const result of results) {
  console.log(
    `${result.kind.padEnd(20)} ${(result.options.join(' ') || '(none)').padEnd(8)} ${(result.inputOptions.join(' ') || '(nothing)').padEnd(22)} ${`${result.fpsMin}–${result.fpsMax}`.padEnd(12)} ${String(result.frozenSeconds).padEnd(9)} ${String(result.longestGapMs).padEnd(15)} ${result.lostPackets}`,
  );
}
console.log(
  `load average at the end: ${machine.loadavg.map((value) => value.toFixed(1)).join(' ')} (${machine.cores} cores)`,
);
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(
  values.out,
  `${JSON.stringify({ date: new Date().toISOString(), seconds, warmup, segment, frameRate, frozenAfterMs, machine, results }, null, 2)}\n`,
);
console.log(`written to ${values.out}`);

/** Creates the process, joins a viewer once media flows, records frame arrivals, deletes the process. */
async function measure(id, { kind, address, options }) {
  await dragon.json('/api/v3/process', 'POST', {
    id,
    input: [{ id: 'in', address, options }],
    output: [],
    options: [],
    autostart: true,
    reconnect: true,
    reconnect_delay_seconds: 1,
    webrtc: { enabled: true },
  });
  const arrivals = [];
  let lastTimestamp;
  const sequences = [];
  const viewer = new WeriftViewer({
    record: false,
    onRtp: (trackKind, packet) => {
      if (trackKind !== 'video') return;
      sequences.push(packet.header.sequenceNumber);
      if (packet.header.timestamp === lastTimestamp) return;
      lastTimestamp = packet.header.timestamp;
      arrivals.push(performance.now());
    },
  });
  try {
    const offer = await viewer.offer(['video']);
    const answer = await waitFor(
      'an answer',
      async () => {
        const response = await dragon.api(`/api/v3/process/${id}/whep`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/sdp' },
          body: offer,
        });
        return response.status === 201 ? response.text() : undefined;
      },
      60_000,
    );
    await viewer.accept(answer);
    await waitFor('video at the viewer', async () => (arrivals.length > 0 ? true : undefined), 60_000);
    const ffmpegPid = childrenOf(dragon.pid).find((pid) => /ffmpeg/.test(commandLine(pid)[0] ?? ''));
    const argv = ffmpegPid ? commandLine(ffmpegPid) : [];
    await delay(warmup * 1000);
    const from = performance.now();
    const firstSequence = sequences.length;
    await delay(seconds * 1000);
    const to = performance.now();
    return {
      kind,
      options,
      inputOptions: inputOptionsOf(argv, address),
      ...frameFigures(arrivals, from, to),
      lostPackets: lost(sequences.slice(firstSequence)),
    };
  } finally {
    await viewer.close();
    await dragon.api(`/api/v3/process/${id}`, { method: 'DELETE' });
  }
}

/** The options the server's FFmpeg put before `-i <address>`, from its command line. */
function inputOptionsOf(argv, address) {
  const at = argv.indexOf(address);
  if (at < 1) return [];
  const start = argv.lastIndexOf('-stats_period', at) + 2;
  return argv.slice(Math.max(start, 0), at - 1);
}

function frameFigures(arrivals, from, to) {
  const inWindow = arrivals.filter((time) => time >= from && time < to);
  const bins = new Array(Math.floor((to - from) / 1000)).fill(0);
  for (const time of inWindow) {
    const bin = Math.floor((time - from) / 1000);
    if (bin < bins.length) bins[bin] += 1;
  }
  let frozenMs = 0;
  let longestGapMs = 0;
  const times = [from, ...inWindow, to];
  for (let index = 1; index < times.length; index++) {
    const gap = times[index] - times[index - 1];
    longestGapMs = Math.max(longestGapMs, gap);
    if (gap > frozenAfterMs) frozenMs += gap;
  }
  return {
    frames: inWindow.length,
    fpsMin: Math.min(...bins),
    fpsMax: Math.max(...bins),
    frozenSeconds: Math.round(frozenMs / 100) / 10,
    longestGapMs: Math.round(longestGapMs),
  };
}

/** Sequence numbers missing between the first and last received (16-bit wrap handled). */
function lost(sequences) {
  if (sequences.length < 2) return 0;
  const seen = new Set(sequences);
  const span = (sequences.at(-1) - sequences[0] + 65536) % 65536;
  let missing = 0;
  for (let offset = 0; offset <= span; offset++) if (!seen.has((sequences[0] + offset) % 65536)) missing++;
  return missing;
}
