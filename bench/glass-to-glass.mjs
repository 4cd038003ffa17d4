// Glass to glass: from the moment a frame is made to the moment a browser shows it, through the
// built server. Each frame carries its capture time in its pixels (`@dragon/test-helpers/frame-stamp`):
// FFmpeg draws the wall clock into the picture it encodes (`setpts=RTCTIME` + `geq`), or a
// Chromium publisher page draws `Date.now()` on the canvas it publishes; a headless Chromium
// viewer reads the stamp back from each presented frame (`requestVideoFrameCallback` → canvas)
// and records `expectedDisplayTime − stamp`. Same machine, same clock.
//
// Rows: a 640×360@30 1 Mbit/s x264 feed over MPEG-TS/UDP into a process (WebRTC copy and
// transcode, video only and with AAC audio), the same feed over RTMP into the server's RTMP
// server, and a Chromium canvas published over WHIP, each played over WHEP; beside them the
// method's floors: the FFmpeg feed decoded by a local FFmpeg (no server, no browser), and the
// canvas played in its own page (no network, no codec). Numbers only.
//
//   node bench/glass-to-glass.mjs [--frames 300] [--only ts-copy,whip] [--out file.json]
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium } from '@dragon/test-helpers/chromium';
import {
  decodeStamp,
  drawStamp,
  stampFilter,
  stampLayout,
  unwrapStamp,
} from '@dragon/test-helpers/frame-stamp';
import { freePort, jsonBody, startServer, stopAllServers, waitFor } from '@dragon/test-helpers/server';
import {
  jitterBuffers,
  measurePresentedFrames,
  playWhep,
  publishCanvas,
  stopPublishing,
  stopWhep,
} from './glass-to-glass/pages.mjs';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '3000' },
    only: { type: 'string' },
    out: { type: 'string', default: new URL('./results/glass-to-glass.json', import.meta.url).pathname },
  },
});
const frames = Number(values.frames);
const warmupMs = Number(values.warmup);
const only = values.only?.split(',');
const token = 'g2g-bench';
const fps = 30;

/** FFmpeg children of this run, by pid: each is stopped by the row that started it, and at exit. */
const children = new Set();
function runFfmpeg(args, stdout = 'ignore') {
  const child = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args], {
    stdio: ['ignore', stdout, 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-2000);
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return {
    child,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      // A reader blocked on a UDP input that went quiet may not see SIGTERM.
      const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(kill);
    },
  };
}
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * The camera: a moving 640×360@30 test pattern stamped with the wall clock, x264 constrained
 * baseline with `zerolatency` at 1 Mbit/s, a keyframe every 2 s, with a 440 Hz tone in AAC when
 * `audio`, sent to `address` as `format`.
 */
function camera({ audio, format, address }) {
  return runFfmpeg([
    ...['-re', '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=${fps}`],
    ...(audio ? ['-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'] : []),
    ...['-vf', stampFilter({ fps })],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'baseline'],
    ...['-pix_fmt', 'yuv420p', '-g', String(2 * fps), '-b:v', '1M', '-maxrate', '1M', '-bufsize', '1M'],
    ...(audio ? ['-c:a', 'aac', '-b:a', '64k'] : []),
    // One audio frame per PES, as a hardware encoder sends it: FFmpeg's default packs 2,930 bytes
    // (0.37 s of this AAC) into each, and audio arriving in such bursts makes the browser's audio
    // jitter buffer, and the video it keeps in sync, wait as long.
    ...(format === 'mpegts' ? ['-pes_payload_size', '0'] : []),
    ...['-f', format, address],
  ]);
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const round1 = (value) => (value === undefined ? null : Math.round(value * 10) / 10);
function summary(list) {
  const sorted = [...list].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  return {
    p50: round1(percentile(sorted, 50)),
    p95: round1(percentile(sorted, 95)),
    p99: round1(percentile(sorted, 99)),
    min: round1(sorted[0]),
    max: round1(sorted.at(-1)),
  };
}
function rowResult(row, measured, extra = {}) {
  const result = {
    row: row.name,
    path: row.path,
    audio: row.audio,
    frames: measured.latency.length,
    unread: measured.unread,
    ...(measured.reason === 'timeout' ? { timedOut: true } : {}),
    latencyMs: summary(measured.latency),
    ...(measured.beforeBrowser?.length
      ? { beforeBrowserMs: summary(measured.beforeBrowser), inBrowserMs: summary(measured.inBrowser) }
      : {}),
    loadavg: loadavg().map((value) => Math.round(value * 100) / 100),
    ...extra,
  };
  console.log(JSON.stringify(result));
  return result;
}

const measureOptions = () => ({
  frames,
  warmupMs,
  timeoutMs: warmupMs + (frames / fps) * 4000,
  layout: stampLayout,
  decodeSource: decodeStamp.toString(),
});

const rtmpPort = await freePort('tcp');
const server = await startServer({
  env: {
    CORE_RTMP_ENABLE: 'true',
    CORE_RTMP_ADDRESS: `127.0.0.1:${rtmpPort}`,
    CORE_RTMP_APP: '/live',
    CORE_WHIP_ENABLE: 'true',
    CORE_WHIP_TOKEN: token,
  },
});
// Viewer and publisher in two browser processes, as two machines' browsers would be.
const viewerBrowser = await launchChromium();
const publisherBrowser = await launchChromium();

/** Plays `whepPath` in a new page of the server's origin and measures it. */
async function measureWhep(whepPath) {
  const page = await viewerBrowser.newPage();
  try {
    await page.goto(`${server.baseUrl}/api`);
    // A process just started may refuse viewers for a moment (409 while it is starting).
    await waitFor(
      `${whepPath} to answer`,
      async () => {
        const status = await page.evaluate(playWhep, `${server.baseUrl}${whepPath}`);
        if (status !== 'playing') throw new Error(status);
        return true;
      },
      30_000,
    );
    const measured = await page.evaluate(measurePresentedFrames, measureOptions());
    const buffers = await page.evaluate(jitterBuffers);
    await page.evaluate(stopWhep);
    return { measured, buffers };
  } finally {
    await page.close();
  }
}

/** A process reading `input` with WebRTC on (`transcode`: forced), running, then measured. */
async function measureProcess(row, input, transcode) {
  const id = `g2g-${row.name}`;
  // `-threads 0` is FFmpeg's default decoding (frame threads), which the plan leaves alone when
  // the input sets it: the rows before the plan's slice-threaded decoder, in the same run.
  const inputOptions = row.frameThreads ? ['-threads', '0'] : [];
  await server.json(
    '/api/v3/process',
    jsonBody({
      id,
      reference: 'g2g',
      input: [{ id: 'in', address: input, options: inputOptions }],
      output: [],
      options: [],
      autostart: true,
      reconnect: true,
      reconnect_delay_seconds: 1,
      // A copy row copies (a listening input is not known at its first start, which the plan
      // meets with a transcode until FFmpeg's banner says what it is).
      webrtc: { enabled: true, force_transcode: transcode, ...(transcode ? {} : { video: 'copy' }) },
    }),
  );
  try {
    await waitFor(
      `${id} to run`,
      async () => {
        const state = await server.json(`/api/v3/process/${id}/state`);
        return state.exec === 'running' && state.runtime_seconds >= 2 ? state : undefined;
      },
      60_000,
    );
    const { measured, buffers } = await measureWhep(`/api/v3/process/${id}/whep`);
    const state = await server.json(`/api/v3/process/${id}/state`);
    const plan = state.webrtc?.plan;
    return rowResult(row, measured, {
      jitterBufferMs: buffers,
      plan: plan
        ? { video: plan.video?.action, audio: plan.audio?.action, decoder: plan.decoder?.options }
        : undefined,
      ffmpeg: state.command?.join(' '),
    });
  } finally {
    await server.api(`/api/v3/process/${id}`, { method: 'DELETE' });
  }
}

/** The FFmpeg feed decoded by FFmpeg on this machine, stamps read as frames come out of it. */
async function measureFfmpegFloor(row) {
  const port = await freePort('udp');
  const bandBytes = 640 * 2 * stampLayout.row * 4;
  const decoder = runFfmpeg(
    [
      ...[
        '-analyzeduration',
        '500000',
        '-fflags',
        'nobuffer',
        '-flags',
        'low_delay',
        '-f',
        'mpegts',
        '-i',
        `udp://127.0.0.1:${port}`,
      ],
      // Each decoded frame out as it comes: a constant-rate output would repeat frames to fill gaps.
      ...['-vf', `crop=640:${2 * stampLayout.row}:0:0`, '-fps_mode', 'passthrough'],
      ...['-f', 'rawvideo', '-pix_fmt', 'rgba'],
      ...['-flush_packets', '1', 'pipe:1'],
    ],
    'pipe',
  );
  const sender = camera({
    audio: row.audio,
    format: 'mpegts',
    address: `udp://127.0.0.1:${port}?pkt_size=1316`,
  });
  const measured = { latency: [], unread: 0, reason: 'frames' };
  let pending = Buffer.alloc(0);
  const started = Date.now();
  try {
    await new Promise((resolve) => {
      const timer = setTimeout(() => {
        measured.reason = 'timeout';
        resolve();
      }, measureOptions().timeoutMs);
      decoder.child.stdout.on('data', (chunk) => {
        const now = Date.now();
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= bandBytes && measured.latency.length < frames) {
          const frame = pending.subarray(0, bandBytes);
          pending = pending.subarray(bandBytes);
          if (now - started < warmupMs) continue;
          const value = decodeStamp(frame, 640, stampLayout);
          if (value < 0) measured.unread++;
          else measured.latency.push(now - unwrapStamp(value, now));
        }
        if (measured.latency.length >= frames) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    await sender.stop();
    await decoder.stop();
  }
  return rowResult(row, measured);
}

/** A Chromium canvas: played in its own page (`local`), or published over WHIP and played over WHEP. */
async function measureCanvas(row, local) {
  const page = await publisherBrowser.newPage();
  const name = `g2g-${row.name}`;
  const publish = {
    endpoint: local ? undefined : `${server.baseUrl}/api/v3/whip/${name}`,
    token,
    audio: row.audio,
    layout: stampLayout,
    drawSource: drawStamp.toString(),
  };
  try {
    await page.goto(`${server.baseUrl}/api`);
    await page.evaluate(publishCanvas, publish);
    if (local) return rowResult(row, await page.evaluate(measurePresentedFrames, measureOptions()));
    await waitFor(`${name} to be published`, async () => {
      const list = await server.json('/api/v3/whip');
      return list.find((entry) => entry.name === name && entry.video?.packets > 0);
    });
    const { measured, buffers } = await measureWhep(`/api/v3/whip/${name}/whep`);
    return rowResult(row, measured, { jitterBufferMs: buffers });
  } finally {
    await page.evaluate(stopPublishing, { token }).catch(() => {});
    await page.close();
  }
}

/** Runs `row` with a camera sending to the process's input for its duration. */
async function withCamera(row, format, address, input) {
  const sender = camera({ audio: row.audio, format, address });
  try {
    return await measureProcess(row, input, row.transcode);
  } finally {
    await sender.stop();
  }
}

async function tsRow(row) {
  const port = await freePort('udp');
  return withCamera(row, 'mpegts', `udp://127.0.0.1:${port}?pkt_size=1316`, `udp://127.0.0.1:${port}`);
}

async function rtmpRow(row) {
  return withCamera(
    row,
    'flv',
    `rtmp://127.0.0.1:${rtmpPort}/live/g2g-${row.name}`,
    `{rtmp,name=g2g-${row.name}}`,
  );
}

const rows = [
  {
    name: 'floor-ffmpeg',
    path: 'floor: FFmpeg feed → FFmpeg decode (no server, no browser)',
    audio: true,
    run: measureFfmpegFloor,
  },
  {
    name: 'floor-canvas',
    path: 'floor: canvas → video in the same page (no network, no codec)',
    audio: false,
    run: (row) => measureCanvas(row, true),
  },
  {
    name: 'ts-copy',
    path: 'MPEG-TS/UDP → process, WebRTC copy → WHEP',
    audio: false,
    transcode: false,
    run: tsRow,
  },
  {
    name: 'ts-copy-audio',
    path: 'MPEG-TS/UDP → process, WebRTC copy → WHEP',
    audio: true,
    transcode: false,
    run: tsRow,
  },
  {
    name: 'ts-transcode',
    path: 'MPEG-TS/UDP → process, WebRTC transcode → WHEP',
    audio: false,
    transcode: true,
    run: tsRow,
  },
  {
    name: 'ts-transcode-audio',
    path: 'MPEG-TS/UDP → process, WebRTC transcode → WHEP',
    audio: true,
    transcode: true,
    run: tsRow,
  },
  {
    name: 'ts-transcode-frame-threads',
    path: 'MPEG-TS/UDP → process, WebRTC transcode → WHEP; decoder with frame threads (FFmpeg default: before)',
    audio: false,
    transcode: true,
    frameThreads: true,
    run: tsRow,
  },
  {
    name: 'ts-transcode-audio-frame-threads',
    path: 'MPEG-TS/UDP → process, WebRTC transcode → WHEP; decoder with frame threads (FFmpeg default: before)',
    audio: true,
    transcode: true,
    frameThreads: true,
    run: tsRow,
  },
  {
    name: 'rtmp-copy-audio',
    path: 'RTMP → process, WebRTC copy → WHEP',
    audio: true,
    transcode: false,
    run: rtmpRow,
  },
  {
    name: 'whip',
    path: 'Chromium canvas → WHIP → WHEP',
    audio: false,
    run: (row) => measureCanvas(row, false),
  },
  {
    name: 'whip-audio',
    path: 'Chromium canvas → WHIP → WHEP',
    audio: true,
    run: (row) => measureCanvas(row, false),
  },
];

const results = [];
try {
  for (const row of rows) {
    if (only && !only.some((prefix) => row.name === prefix)) continue;
    console.log(`== ${row.name}: ${row.path}${row.audio ? ', with audio' : ', video only'}`);
    results.push(await row.run(row));
  }
} finally {
  await viewerBrowser.close();
  await publisherBrowser.close();
  await stopAllServers();
}
const output = {
  frames,
  warmupMs,
  fps,
  loadavgAtEnd: loadavg().map((value) => Math.round(value * 100) / 100),
  rows: results,
};
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(output, null, 2)}\n`);
