// CPU per FFmpeg process of the built server, by input kind, with the plan the server chose by
// itself (default `webrtc: { enabled: true }`) and, where that plan copies, the same input with
// `force_transcode: true` beside it. Each process is created through the API, one at a time; the
// server's FFmpeg child is measured from /proc (user + system) once it runs.
// (What a ladder of renditions costs, with the plan and legs alone and no server, is
// packages/ffmpeg-args/bench/ladder-cpu.mjs.)
// Numbers, not assertions: writes bench/results/media-cpu.json and prints a table.
//   node bench/media-cpu.mjs [--seconds 15] [--warmup 5] [--out bench/results/media-cpu.json]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { childProcesses, startServer, stopAllServers } from '@dragon/test-helpers/server';

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    out: { type: 'string', default: join(root, 'bench/results/media-cpu.json') },
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
console.log(`making ${length} s inputs in ${work}…`);
makeInputs();
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
/** The built server the input rows run in (`measure` creates their processes through its API). */
const server = await startServer();
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
  rmSync(work, { recursive: true, force: true });
}

const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', loadavg: loadavg() };
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
console.log(
  `load average at the end: ${machine.loadavg.map((value) => value.toFixed(1)).join(' ')} (${machine.cores} cores)`,
);
mkdirSync(dirname(values.out), { recursive: true });
const written = { date: new Date().toISOString(), seconds, warmup, machine, results };
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
