// Time to first frame of the built server in headless Chromium, as a viewer sees it: from the WHEP
// POST to the first video frame presented (`requestVideoFrameCallback`), with the answer and the
// connected state on the way. Two processes of the same 720p25 test pattern (transcoded, GOP 1 s,
// as `--demo` runs): one with renditions off, one with `renditions: "auto"`; joins alternate
// between them so both see the same machine. Numbers only.
//
// The reference, in the same run and the same browser: Janus's streaming plugin (Debian's), fed the
// same pattern by an FFmpeg with the same x264 settings, watched through Janus's HTTP API (create,
// attach, watch → Janus's offer, start with the answer); times from the first request. Janus keeps
// no keyframe for a joining viewer, so its first frame waits for the source's next one.
//
//   node bench/ttff-server.mjs [--joins 12] [--janus auto|off] [--out file.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium } from '@dragon/test-helpers/chromium';
import {
  jsonBody,
  startServer,
  stopAllServers,
  testPatternProcess,
  waitFor,
} from '@dragon/test-helpers/server';
import { freeTcpPort, freeUdpPort, spawnPinned } from './e2e/ffmpeg.mjs';
import { ensureJanus, JanusViewerSession, startJanus } from './e2e/janus.mjs';

const { values } = parseArgs({
  options: {
    joins: { type: 'string', default: '12' },
    janus: { type: 'string', default: 'auto' },
    out: { type: 'string', default: new URL('./results/ttff-server.json', import.meta.url).pathname },
  },
});
const joins = Number(values.joins);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const round = (ms) => Math.round(ms);

const settings = [
  { name: 'renditions off', id: 'ttff-off', webrtc: { renditions: 'off' } },
  { name: 'renditions auto', id: 'ttff-auto', webrtc: { renditions: 'auto' } },
];

const janusInstall = values.janus === 'off' ? undefined : ensureJanus({ install: true });
const everyCore = `0-${cpus().length - 1}`;
const server = await startServer();
const browser = await launchChromium();
let janus;
let janusFeed;
try {
  if (janusInstall) {
    const ports = { video: await freeUdpPort(), audio: await freeUdpPort(), http: await freeTcpPort() };
    janus = await startJanus({
      core: everyCore,
      libDir: janusInstall.libDir,
      httpPort: ports.http,
      videoPort: ports.video,
      audioPort: ports.audio,
    });
    janusFeed = spawnPinned(everyCore, 'ffmpeg', janusFeedArgs(ports));
    settings.push({ name: `Janus ${janusInstall.version}`, janus: true });
  }
  const dragonSettings = settings.filter((setting) => !setting.janus);
  for (const { id, webrtc } of dragonSettings) {
    const process = testPatternProcess(id, {
      input: [
        {
          id: 'in',
          address: 'testsrc2=size=1280x720:rate=25[out0];sine=frequency=440[out1]',
          options: ['-re', '-f', 'lavfi'],
        },
      ],
    });
    process.webrtc = { ...process.webrtc, ...webrtc };
    await server.json('/api/v3/process', jsonBody(process));
  }
  // Every process running with a keyframe cached: what a viewer of a live stream joins.
  for (const { id } of dragonSettings)
    await waitFor(
      `${id} to run`,
      async () => {
        const state = await server.json(`/api/v3/process/${id}/state`);
        return state.exec === 'running' && state.runtime_seconds >= 3 ? true : undefined;
      },
      60_000,
    );
  const ladders = {};
  for (const { id } of dragonSettings) {
    const status = await server.json(`/player/${id}/status`);
    ladders[id] = status.renditions?.map((rendition) => rendition.id) ?? ['top only'];
  }

  const page = await browser.newPage();
  // A page of the server's own origin, as the player is.
  await page.goto(`${server.baseUrl}/api`);
  // Janus's signalling runs here (its HTTP API is on another origin); the page asks for each step.
  let janusSession;
  await page.exposeFunction('janusWatch', async () => {
    janusSession = new JanusViewerSession(janus.base);
    return janusSession.watch();
  });
  await page.exposeFunction('janusStart', (sdp) => janusSession.start(sdp));
  await page.exposeFunction('janusLeave', () => janusSession.destroy());
  const samples = Object.fromEntries(settings.map(({ name }) => [name, []]));
  for (let join = 0; join < joins; join++) {
    for (const { name, id, janus: isJanus } of settings) {
      const sample = await page.evaluate(
        measureJoin,
        isJanus ? null : `${server.baseUrl}/api/v3/process/${id}/whep`,
      );
      samples[name].push(sample);
      console.log(`${name} join ${join + 1}: ${JSON.stringify(sample)}`);
      await sleep(700);
    }
  }

  const result = { joins, ladders, settings: {} };
  for (const { name } of settings) {
    const good = samples[name].filter((sample) => !sample.error && sample.firstFrame > 0);
    result.settings[name] = {
      joins: samples[name].length,
      failed: samples[name].length - good.length,
      answeredMs: round(median(good.map((sample) => sample.answered))),
      connectedMs: round(median(good.map((sample) => sample.connected))),
      firstFrameMs: round(median(good.map((sample) => sample.firstFrame))),
      firstFrameAllMs: good.map((sample) => round(sample.firstFrame)),
    };
    console.log(`${name}: ${JSON.stringify(result.settings[name])}`);
  }
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await browser.close();
  await janusFeed?.stop();
  await janus?.stop();
  await stopAllServers();
}

/** The pattern the Dragon processes transcode, encoded as the server's WebRTC leg does, into Janus. */
function janusFeedArgs(ports) {
  return [
    ...['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi'],
    ...['-i', 'testsrc2=size=1280x720:rate=25', '-re', '-f', 'lavfi', '-i', 'sine=frequency=440'],
    ...['-map', '0:v', '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency'],
    ...['-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-bf', '0', '-sc_threshold', '0'],
    ...['-force_key_frames', 'expr:gte(t,n_forced*1)', '-payload_type', '96'],
    ...['-f', 'rtp', `rtp://127.0.0.1:${ports.video}`],
    ...['-map', '1:a', '-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-payload_type', '111'],
    ...['-f', 'rtp', `rtp://127.0.0.1:${ports.audio}`],
  ];
}

/**
 * One join measured in the page, from the first signalling request: over WHEP to `whep` (the
 * browser offers), or, with `whep` null, of the Janus mountpoint through the functions the bench
 * exposed (Janus offers, the browser answers non-trickle, as the WHEP joins are).
 */
async function measureJoin(whep) {
  const pc = new RTCPeerConnection();
  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  document.body.append(video);
  pc.ontrack = (event) => {
    if (event.track.kind === 'video') video.srcObject = new MediaStream([event.track]);
  };
  if (whep) {
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
  }
  const started = performance.now();
  const times = {};
  const connected = new Promise((resolve) => {
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected') resolve(performance.now() - started);
    };
  });
  const firstFrame = new Promise((resolve) => {
    video.requestVideoFrameCallback((now) => resolve(now - started));
  });
  let leave;
  if (whep) {
    const response = await fetch(whep, {
      method: 'POST',
      body: pc.localDescription.sdp,
      headers: { 'Content-Type': 'application/sdp' },
    });
    times.answered = performance.now() - started;
    if (response.status !== 201) return { error: `WHEP ${response.status}` };
    const location = new URL(response.headers.get('Location'), whep).href;
    await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
    leave = () => fetch(location, { method: 'DELETE' });
  } else {
    const offer = await window.janusWatch();
    times.answered = performance.now() - started;
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
    });
    await window.janusStart(pc.localDescription.sdp);
    leave = () => window.janusLeave();
  }
  const timeout = new Promise((resolve) => setTimeout(() => resolve(-1), 15_000));
  times.connected = await Promise.race([connected, timeout]);
  times.firstFrame = await Promise.race([firstFrame, timeout]);
  pc.close();
  video.remove();
  await leave();
  return times;
}
