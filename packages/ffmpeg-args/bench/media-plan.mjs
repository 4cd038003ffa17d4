// What the media plan costs and saves, with the FFmpeg on this machine:
// - RTP video packets per second of a 640x360 25 fps 1 Mbit/s x264 MPEG-TS (no B-frames: the copy
//   path) copied as it is and through the copy path's bitstream filters (AUD, SEI, filler dropped);
// - FFmpeg CPU (user + system, % of one core) for the same input in real time, copied vs transcoded;
// - ffprobe wall time per input kind (median of N probes), what planning adds to a start.
//   node bench/media-plan.mjs [--seconds 10] [--probes 5] [--out file.json]
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildWebRtcLegs, planMedia, probeInput, webRtcConfigSchema } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    probes: { type: 'string', default: '5' },
    out: { type: 'string', default: new URL('./results/media-plan.json', import.meta.url).pathname },
  },
});
const seconds = Number(values.seconds);
const ffmpeg = process.env.CORE_FFMPEG_BINARY ?? 'ffmpeg';
const timeBinary = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const work = mkdtempSync(join(tmpdir(), 'dragon-media-plan-bench-'));
const file = (name) => join(work, name);

function make(args) {
  execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { cwd: work });
}

const video = ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25'];
const tone = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];
const x264 = [
  '-c:v',
  'libx264',
  '-preset',
  'veryfast',
  '-bf',
  '0',
  '-g',
  '50',
  '-b:v',
  '1M',
  '-maxrate',
  '1M',
];
const length = ['-t', String(seconds)];
make([
  ...video,
  ...tone,
  ...length,
  ...x264,
  '-bufsize',
  '2M',
  '-c:a',
  'libopus',
  '-f',
  'mpegts',
  'input.ts',
]);
make([...video, ...tone, ...length, ...x264, '-bufsize', '2M', '-c:a', 'aac', 'input.mp4']);
make([
  ...video,
  ...tone,
  ...length,
  '-c:v',
  'libx265',
  '-preset',
  'ultrafast',
  '-x265-params',
  'log-level=error',
  '-c:a',
  'aac',
  'hevc.mkv',
]);
make([...tone, ...length, '-c:a', 'libmp3lame', 'audio.mp3']);
mkdirSync(file('hls'));
make([
  ...video,
  ...tone,
  ...length,
  ...x264,
  '-bufsize',
  '2M',
  '-c:a',
  'aac',
  '-f',
  'hls',
  '-hls_time',
  '2',
  '-hls_playlist_type',
  'vod',
  '-hls_segment_filename',
  'hls/s%d.ts',
  'hls/index.m3u8',
]);

/**
 * Runs FFmpeg in real time with the plan's video leg (audio is not sent: the video packets are
 * counted); `withoutFilters` takes the copy path's bitstream filters out, for comparison.
 */
async function measure(input, settings, { withoutFilters = false } = {}) {
  const webrtc = webRtcConfigSchema.parse({ enabled: true, audio: 'off', ...settings });
  const plan = planMedia(await probeInput({ address: input }), webrtc);
  const socket = createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  let packets = 0;
  let first;
  let last;
  socket.on('message', (datagram) => {
    if ((datagram[1] & 0x7f) !== webrtc.video_pt) return;
    packets++;
    first ??= datagram.readUInt32BE(4);
    last = datagram.readUInt32BE(4);
  });
  const [leg] = buildWebRtcLegs({ webrtc, plan, videoPort: socket.address().port });
  const options = [...leg.options];
  const bsf = options.indexOf('-bsf:v');
  if (withoutFilters && bsf >= 0) options.splice(bsf, 2);
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-re',
    '-i',
    input,
    ...options,
    leg.address,
  ];
  const started = performance.now();
  const child = timeBinary
    ? spawn(timeBinary, ['-f', '%U %S', ffmpeg, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  await new Promise((resolve) => child.once('close', resolve));
  const wallSeconds = (performance.now() - started) / 1000;
  // The last datagrams may still be in the socket's queue.
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.close();
  const cpu = /([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  const mediaSeconds = ((last - first) >>> 0) / 90_000 + 1 / 25;
  return {
    video: plan.video.action,
    filters: bsf >= 0 && !withoutFilters,
    packets,
    packetsPerSecond: Math.round((packets / mediaSeconds) * 10) / 10,
    cpuPercent: cpu ? Math.round(((Number(cpu[1]) + Number(cpu[2])) / wallSeconds) * 1000) / 10 : null,
  };
}

const nal = {
  copyWithoutFilters: await measure(file('input.ts'), {}, { withoutFilters: true }),
  copy: await measure(file('input.ts'), {}),
  transcode: await measure(file('input.ts'), { video: 'transcode' }),
};
if (nal.copy.video !== 'copy' || !nal.copy.filters)
  throw new Error('the MPEG-TS input was expected to be copied');

const probes = {};
for (const [kind, name] of [
  ['MP4 (H.264 + AAC)', 'input.mp4'],
  ['MPEG-TS (H.264 + Opus)', 'input.ts'],
  ['Matroska (HEVC + AAC)', 'hevc.mkv'],
  ['MP3', 'audio.mp3'],
  ['HLS playlist (2 s segments)', 'hls/index.m3u8'],
]) {
  const times = [];
  for (let i = 0; i < Number(values.probes); i++) {
    const started = performance.now();
    await probeInput({ address: file(name) });
    times.push(performance.now() - started);
  }
  probes[kind] = { medianMs: Math.round(median(times)), maxMs: Math.round(Math.max(...times)) };
}
rmSync(work, { recursive: true, force: true });

console.log('RTP video packets/s, 640x360 25 fps 1 Mbit/s x264 MPEG-TS, and FFmpeg CPU (% of a core):');
for (const [name, result] of Object.entries(nal)) {
  console.log(
    `  ${name.padEnd(20)} ${String(result.packetsPerSecond).padStart(6)} packets/s   cpu ${result.cpuPercent ?? '–'} %`,
  );
}
console.log('ffprobe per input (median / max ms):');
for (const [kind, result] of Object.entries(probes))
  console.log(`  ${kind.padEnd(30)} ${result.medianMs} / ${result.maxMs}`);

mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(
  values.out,
  `${JSON.stringify({ date: new Date().toISOString(), seconds, nal, probes }, null, 2)}\n`,
);
console.log(`written to ${values.out}`);
