// CPU per FFmpeg process of the built server, by input kind, with the plan the server chose by
// itself (default `webrtc: { enabled: true }`) and, where that plan copies, the same input with
// `force_transcode: true` beside it. Each process is created through the API, one at a time; the
// server's FFmpeg child is measured from /proc (user + system) once it runs.
// Then the renditions: one FFmpeg per row running the legs `@dragon/ffmpeg-args` builds for a 720p25
// camera-like input (the server's own plan and leg builder, the sockets this script's), measured the
// same way: what a ladder costs beside the copy and beside a single transcode.
// Numbers, not assertions: writes bench/results/media-cpu.json and prints a table.
//   node bench/media-cpu.mjs [--seconds 15] [--warmup 5] [--part all|inputs|ladder] [--out bench/results/media-cpu.json]
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { childProcesses, startServer, stopAllServers } from '@dragon/test-helpers/server';

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    out: { type: 'string', default: join(root, 'bench/results/media-cpu.json') },
    part: { type: 'string', default: 'all' },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const ffmpeg = process.env.CORE_FFMPEG_BINARY ?? 'ffmpeg';
const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const work = mkdtempSync(join(tmpdir(), 'dragon-media-cpu-'));
const file = (name) => join(work, name);

// 640x360 at 25 fps, 1 Mbit/s x264: the machine class of docs/performance.md. Long enough to play
// through warm-up and measurement without a loop (a looped input is never copied, see ffmpeg-args).
const length = String(warmup + seconds + 30);
const video = ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25'];
const tone = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];
const x264 = (bFrames) => [
  ...['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-bf', String(bFrames), '-g', '50'],
  ...['-b:v', '1M', '-maxrate', '1M', '-bufsize', '2M'],
];
function make(args) {
  execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { cwd: work });
}
const part = values.part;
if (part === 'all' || part === 'inputs') console.log(`making ${length} s inputs in ${work}…`);
if (part === 'all' || part === 'inputs') makeInputs();
function makeInputs() {
  make([...video, ...tone, '-t', length, ...x264(0), '-c:a', 'aac', 'h264-aac.ts']);
  make([...video, ...tone, '-t', length, ...x264(0), '-c:a', 'libopus', 'h264-opus.mkv']);
  make([...video, ...tone, '-t', length, ...x264(2), '-c:a', 'aac', 'bframes.mp4']);
  make([
    ...[...video, ...tone, '-t', length, '-c:v', 'libx265', '-preset', 'ultrafast'],
    ...['-x265-params', 'log-level=error', '-b:v', '1M', '-c:a', 'aac', 'hevc.mkv'],
  ]);
  mkdirSync(file('hls'));
  make([
    ...[...video, ...tone, '-t', length, ...x264(0), '-c:a', 'aac', '-f', 'hls', '-hls_time', '2'],
    ...['-hls_playlist_type', 'vod', '-hls_segment_filename', 'hls/s%d.ts', 'hls/index.m3u8'],
  ]);
  make([...tone, '-t', length, '-c:a', 'libmp3lame', 'audio.mp3']);
}

const realtime = (address) => ({ address: file(address), options: ['-re'] });
const inputs = [
  { kind: 'MPEG-TS, H.264 (no B-frames) + AAC', input: realtime('h264-aac.ts') },
  { kind: 'Matroska, H.264 (no B-frames) + Opus', input: realtime('h264-opus.mkv') },
  { kind: 'HLS playlist, H.264 (no B-frames) + AAC', input: realtime('hls/index.m3u8') },
  { kind: 'MP4, H.264 High with B-frames + AAC', input: realtime('bframes.mp4') },
  { kind: 'Matroska, HEVC + AAC', input: realtime('hevc.mkv') },
  { kind: 'MP3, audio only', input: realtime('audio.mp3') },
];

const results = [];
const ladder = [];
/** The built server the input rows run in (`measure` creates their processes through its API). */
let server;
if (part === 'all' || part === 'inputs') {
  server = await startServer();
  try {
    for (const { kind, input } of inputs) {
      const auto = await measure(kind, input, { enabled: true });
      results.push(auto);
      if (auto.plan.video === 'copy' || auto.plan.audio === 'copy') {
        results.push(await measure(kind, input, { enabled: true, force_transcode: true }));
      }
    }
  } finally {
    await stopAllServers();
  }
}
try {
  if (part === 'all' || part === 'ladder') await measureLadder();
} finally {
  rmSync(work, { recursive: true, force: true });
}

const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', loadavg: loadavg() };
if (results.length > 0) {
  console.log(
    `\nFFmpeg CPU per process, % of one core (user + system over ${seconds} s), 640x360 25 fps 1 Mbit/s:`,
  );
  console.log(
    `${'input'.padEnd(42)} ${'settings'.padEnd(16)} ${'video'.padEnd(18)} ${'audio'.padEnd(18)} cpu %`,
  );
  for (const result of results) {
    console.log(
      `${result.kind.padEnd(42)} ${result.settings.padEnd(16)} ${track(result.plan.videoFrom, result.plan.video).padEnd(18)} ${track(result.plan.audioFrom, result.plan.audio).padEnd(18)} ${result.cpuPercent}`,
    );
  }
}
if (ladder.length > 0) {
  console.log(
    `\nFFmpeg CPU of a 720p25 H.264 + AAC input's legs, % of one core per second of media, measured / the plan's estimate:`,
  );
  for (const row of ladder) {
    console.log(
      `${row.settings.padEnd(44)} ${row.legs.join(' ').padEnd(46)} ${String(row.cpuPercent).padStart(5)} / ${row.estimatedPercent}`,
    );
  }
}
console.log(
  `load average at the end: ${machine.loadavg.map((value) => value.toFixed(1)).join(' ')} (${machine.cores} cores)`,
);
mkdirSync(dirname(values.out), { recursive: true });
// A part not run this time keeps its figures from the file (with their own date and machine).
const previous = existsSync(values.out) ? JSON.parse(readFileSync(values.out, 'utf8')) : {};
const now = { date: new Date().toISOString(), seconds, warmup, machine };
const written = {
  ...(results.length > 0 ? { ...now, results } : { ...previous, results: previous.results ?? [] }),
  ladder: ladder.length > 0 ? { ...now, rows: ladder } : previous.ladder,
};
writeFileSync(values.out, `${JSON.stringify(written, null, 2)}\n`);
console.log(`written to ${values.out}`);

function track(from, action) {
  if (action === 'off') return 'off';
  return action === 'copy' ? `copy ${from}` : `${from} → transcode`;
}

/** Creates the process, waits for it to run with media flowing, measures its FFmpeg, deletes it. */
async function measure(kind, input, webrtc) {
  const id = `bench${results.length + 1}`;
  const settings = webrtc.force_transcode ? 'force_transcode' : 'default';
  console.log(`${kind} (${settings})…`);
  await server.api('/api/v3/process', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      id,
      input: [{ id: 'in', ...input }],
      output: [],
      options: [],
      autostart: true,
      reconnect: false,
      webrtc,
    }),
  });
  let state;
  for (let tries = 0; tries < 120; tries++) {
    state = await (await server.api(`/api/v3/process/${id}/state`)).json();
    const health = state.webrtc?.health;
    if (state.exec === 'running' && health && health.video_packets + health.audio_packets > 0) break;
    await delay(500);
  }
  if (!state?.webrtc) throw new Error(`${id} did not start: ${JSON.stringify(state)}`);
  await delay(warmup * 1000);
  const [pid] = childPids(server.pid);
  if (pid === undefined) throw new Error(`${id}: no FFmpeg child of the server`);
  const before = cpuTicks(pid);
  await delay(seconds * 1000);
  const after = cpuTicks(pid);
  await server.api(`/api/v3/process/${id}`, { method: 'DELETE' });
  const plan = state.webrtc.plan;
  return {
    kind,
    settings,
    plan: {
      video: plan.video.action,
      videoFrom: plan.video.from,
      audio: plan.audio.action,
      audioFrom: plan.audio.from,
    },
    cpuPercent: Math.round(((after - before) / clockTicks / seconds) * 1000) / 10,
  };
}

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** The FFmpeg children of `parent` (by their command name, /proc/<pid>/comm). */
function childPids(parent) {
  return childProcesses(parent).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'ffmpeg';
    } catch {
      return false; // ended while we looked
    }
  });
}

/**
 * The ladder rows: a 720p25 2.2 Mbit/s H.264 (no B-frames, so the top is copied) + AAC file with
 * temporal noise (encoders then work as on a camera), read with `-re`; per row the plan and legs the
 * server would build for it, FFmpeg's RTP going to sockets here that read and drop.
 */
async function measureLadder() {
  const lib = join(root, 'packages/ffmpeg-args/dist/index.js');
  if (!existsSync(lib)) throw new Error('build first: pnpm build');
  const { buildWebRtcLegs, legToArgs, planMedia, probeInput, producedRenditions, webRtcConfigSchema } =
    await import(lib);
  console.log(`making a ${length} s 720p25 camera-like input…`);
  make([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', ...tone, '-t', length],
    ...['-vf', 'noise=alls=12:allf=t', '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-g', '50'],
    ...['-b:v', '2200k', '-maxrate', '2200k', '-bufsize', '4400k', '-c:a', 'aac', 'camera-720p.ts'],
  ]);
  const camera = file('camera-720p.ts');
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
