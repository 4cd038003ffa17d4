// Time to first frame in headless Chromium: from sending the offer to framesDecoded > 0, for
// FFmpeg streams with a 2 s and a 4 s GOP, with and without the keyframe cache.
//   node bench/ttff.mjs [--joins 5] [--gops 2,4] [--out file.json]
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium } from '@dragon/test-helpers/chromium';
import { PeerFactory, RtpSource } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    joins: { type: 'string', default: '5' },
    gops: { type: 'string', default: '2,4' },
    out: { type: 'string', default: new URL('./results/ttff.json', import.meta.url).pathname },
  },
});
const joins = Number(values.joins);
const fps = 25;
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const browser = await launchChromium();

async function measure(gopSeconds, keyframeCache) {
  const source = await RtpSource.open({ id: 'ttff', video: { payloadType: 96 }, keyframeCache });
  const factory = new PeerFactory({ interfaceAddresses: ['127.0.0.1'] });
  const ffmpeg = spawn(
    process.env.CORE_FFMPEG_BINARY ?? 'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi'],
      ...['-i', `testsrc2=size=640x360:rate=${fps}`, '-c:v', 'libx264', '-profile:v', 'baseline'],
      ...['-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', String(gopSeconds * fps), '-keyint_min'],
      ...[String(gopSeconds * fps), '-sc_threshold', '0', '-payload_type', '96', '-f', 'rtp'],
      `udp://127.0.0.1:${source.videoPort}?pkt_size=1200`,
    ],
    { stdio: 'ignore' },
  );
  await sleep(gopSeconds * 1000 + 1000);
  const page = await browser.newPage();
  await page.exposeFunction(
    'dragonAnswer',
    async (offer) => (await factory.createPeer(source, offer)).answerSdp,
  );
  const times = [];
  for (let join = 0; join < joins; join++) {
    // Join at a different point of the GOP each time.
    await sleep(((join + 0.5) / joins) * gopSeconds * 1000);
    const ms = await page.evaluate(async () => {
      const pc = new RTCPeerConnection();
      pc.addTransceiver('video', { direction: 'recvonly' });
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise((resolve) => {
        if (pc.iceGatheringState === 'complete') return resolve();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
      });
      const started = performance.now();
      const answer = await window.dragonAnswer(pc.localDescription.sdp);
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      let elapsed = -1;
      while (performance.now() - started < 15_000) {
        let frames = 0;
        (await pc.getStats()).forEach((report) => {
          if (report.type === 'inbound-rtp' && report.kind === 'video') frames = report.framesDecoded ?? 0;
        });
        if (frames > 0) {
          elapsed = performance.now() - started;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      pc.close();
      return elapsed;
    });
    times.push(ms);
  }
  await page.close();
  ffmpeg.kill('SIGKILL');
  await factory.close();
  source.close();
  const decoded = times.filter((ms) => ms >= 0);
  return {
    gopSeconds,
    keyframeCache,
    joins,
    timedOut: times.length - decoded.length,
    medianMs: decoded.length ? median(decoded) : null,
    minMs: decoded.length ? Math.min(...decoded) : null,
    maxMs: decoded.length ? Math.max(...decoded) : null,
    samplesMs: times,
  };
}

const results = [];
for (const gop of values.gops.split(',').map(Number)) {
  for (const keyframeCache of [false, true]) {
    const result = await measure(gop, keyframeCache);
    results.push(result);
    console.log(
      `GOP ${gop} s, keyframe cache ${keyframeCache ? 'on ' : 'off'}: time to first frame median ${result.medianMs?.toFixed(0)} ms ` +
        `(min ${result.minMs?.toFixed(0)}, max ${result.maxMs?.toFixed(0)}, ${joins} joins${result.timedOut ? `, ${result.timedOut} timed out` : ''})`,
    );
  }
}
await browser.close();
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify({ date: new Date().toISOString(), fps, results }, null, 2)}\n`);
console.log(`written to ${values.out}`);
