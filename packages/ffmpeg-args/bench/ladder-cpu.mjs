// What a ladder of renditions costs: one FFmpeg per row running the legs this package builds for a
// 720p25 camera-like input (`planMedia` + `buildWebRtcLegs`, the sockets this script's), CPU from
// /proc (user + system) per second of media, beside the plan's own estimate: a ladder beside the
// copy and beside a single transcode.
// Numbers, not assertions: writes bench/results/ladder-cpu.json (here) and prints a table.
//   node bench/ladder-cpu.mjs [--seconds 15] [--warmup 5] [--out file.json]   (after `pnpm build`)
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  buildWebRtcLegs,
  legToArgs,
  planMedia,
  probeInput,
  producedRenditions,
  webRtcConfigSchema,
} from '../dist/index.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    out: { type: 'string', default: new URL('./results/ladder-cpu.json', import.meta.url).pathname },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const ffmpeg = process.env.CORE_FFMPEG_BINARY ?? 'ffmpeg';
const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const work = mkdtempSync(join(tmpdir(), 'dragon-ladder-cpu-'));
// Long enough to play through warm-up and measurement without a loop.
const length = String(warmup + seconds + 30);
const tone = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];

const ladder = [];
try {
  await measureLadder();
} finally {
  rmSync(work, { recursive: true, force: true });
}

const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', loadavg: loadavg() };
console.log(
  `\nFFmpeg CPU of a 720p25 H.264 + AAC input's legs, % of one core per second of media, measured / the plan's estimate:`,
);
for (const row of ladder) {
  console.log(
    `${row.settings.padEnd(44)} ${row.legs.join(' ').padEnd(46)} ${String(row.cpuPercent).padStart(5)} / ${row.estimatedPercent}`,
  );
}
console.log(
  `load average at the end: ${machine.loadavg.map((value) => value.toFixed(1)).join(' ')} (${machine.cores} cores)`,
);
mkdirSync(dirname(values.out), { recursive: true });
const written = { date: new Date().toISOString(), seconds, warmup, machine, rows: ladder };
writeFileSync(values.out, `${JSON.stringify(written, null, 2)}\n`);
console.log(`written to ${values.out}`);

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * The ladder rows: a 720p25 2.2 Mbit/s H.264 (no B-frames, so the top is copied) + AAC file with
 * temporal noise (encoders then work as on a camera), read with `-re`; per row the plan and legs the
 * server would build for it, FFmpeg's RTP going to sockets here that read and drop.
 */
async function measureLadder() {
  console.log(`making a ${length} s 720p25 camera-like input…`);
  const camera = join(work, 'camera-720p.ts');
  execFileSync(ffmpeg, [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', ...tone, '-t', length],
    ...['-vf', 'noise=alls=12:allf=t', '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-g', '50'],
    ...['-b:v', '2200k', '-maxrate', '2200k', '-bufsize', '4400k', '-c:a', 'aac', camera],
  ]);
  const facts = await probeInput({ address: camera }, { ffmpegBinary: ffmpeg, timeoutMs: 60_000 });
  const rows = [
    ['renditions off (today)', {}],
    ['force_transcode (one 720p transcode)', { force_transcode: true }],
    ['renditions auto', { renditions: 'auto' }],
    ['renditions auto, vp8 always', { renditions: 'auto', vp8: 'always' }],
    ['one rung: 480p', { renditions: [{ height: 480, bitrate_kbit: 800 }] }],
    ['one rung: 360p', { renditions: [{ height: 360, bitrate_kbit: 350 }] }],
    ['one rung: 240p', { renditions: [{ height: 240, bitrate_kbit: 130 }] }],
    ['vp8 always, no rungs', { vp8: 'always' }],
  ];
  for (const [settings, extra] of rows) {
    console.log(`ladder: ${settings}…`);
    const webrtc = webRtcConfigSchema.parse({ enabled: true, ...extra });
    const plan = planMedia(facts, webrtc);
    const made = producedRenditions(plan);
    const sinks = await Promise.all(Array.from({ length: 2 + made.length }, () => sink()));
    const legs = buildWebRtcLegs({
      webrtc,
      plan,
      videoPort: sinks[0].port,
      audioPort: sinks[1].port,
      renditionPorts: sinks.slice(2).map((socket) => socket.port),
    });
    // CPU per second of media, not of wall time: on a loaded machine FFmpeg may get less CPU than
    // real time needs and fall behind, which per wall second would read as cheaper.
    const child = spawn(
      ffmpeg,
      [
        ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-nostats', '-progress', 'pipe:1'],
        ...['-re', '-i', camera, ...legs.flatMap(legToArgs)],
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let mediaSeconds = 0;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^out_time_us=(\d+)$/.exec(line);
      if (match) mediaSeconds = Number(match[1]) / 1e6;
    });
    try {
      await delay(warmup * 1000);
      const before = { ticks: cpuTicks(child.pid), media: mediaSeconds };
      await delay(seconds * 1000);
      const after = { ticks: cpuTicks(child.pid), media: mediaSeconds };
      const media = after.media - before.media;
      const topCores = plan.video.action === 'transcode' ? plan.video.cpu_cores : 0;
      ladder.push({
        settings,
        legs: [
          `${plan.video.action === 'copy' ? 'copy' : 'x264'} 720p`,
          ...made.map((rendition) => rendition.id),
          'opus',
        ],
        cpuPercent: Math.round(((after.ticks - before.ticks) / clockTicks / media) * 1000) / 10,
        mediaSeconds: Math.round(media * 10) / 10,
        estimatedPercent: Math.round((topCores + plan.audio.cpu_cores + plan.ladder_cpu_cores) * 100),
        packets: sinks.map((socket) => socket.packets()),
      });
    } finally {
      child.kill('SIGKILL');
      for (const socket of sinks) socket.close();
    }
  }
}

/** A loopback UDP socket that counts and drops what it receives. */
function sink() {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    let packets = 0;
    socket.on('message', () => packets++);
    socket.bind(0, '127.0.0.1', () =>
      resolve({ port: socket.address().port, packets: () => packets, close: () => socket.close() }),
    );
  });
}
