// The stream and the API on a machine where other programs keep every core busy (a NAS running a
// backup, a desktop compiling): the built server as `./dragon start` runs it (not pinned, not in a
// cgroup of its own), one transcoded 1280×720 test pattern (lavfi with -re, as the reliability
// suite's), one werift viewer over WHEP in this process. Per 2 s: the video packets and frames the
// viewer got, and how long `GET /api/v3/process/<id>/state` took. `--before` seconds as is, then
// `--busy` seconds with one `while :; do :; done` shell per core at nice 0, then `--after` seconds.
// Once per setting of `--settings`: `default` (the server's defaults), `idle`
// (CORE_WEBRTC_CONTROL_PLANE_IDLE=true, the opt-in), `nice10` (CORE_WEBRTC_CONTROL_PLANE_NICE=10).
// Numbers only, never pass/fail (reliability/test/busy-host.test.ts asserts the ratio).
//
//   node bench/e2e-busy-host.mjs [--settings default,idle] [--before 10] [--busy 12] [--after 14]
//        [--out file.json]
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WeriftViewer } from '@dragon/test-helpers/werift';
import { benchProcess, startDragon, waitFor } from './e2e/dragon.mjs';

const { values } = parseArgs({
  options: {
    settings: { type: 'string', default: 'default,idle' },
    before: { type: 'string', default: '10' },
    busy: { type: 'string', default: '12' },
    after: { type: 'string', default: '14' },
    out: { type: 'string', default: join(tmpdir(), 'dragon-e2e-busy-host.json') },
  },
});
const settingEnv = {
  default: {},
  idle: { CORE_WEBRTC_CONTROL_PLANE_IDLE: 'true' },
  nice10: { CORE_WEBRTC_CONTROL_PLANE_NICE: '10' },
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = { before: Number(values.before), busy: Number(values.busy), after: Number(values.after) };
const stepMs = 2000;
const cores = availableParallelism();

function median(list) {
  if (list.length === 0) return null;
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function measure(setting) {
  const dragon = await startDragon({ core: `0-${cores - 1}`, settings: settingEnv[setting] });
  const loops = [];
  const viewer = new WeriftViewer({ record: false, onRtp: (kind, rtp) => kind === 'video' && count(rtp) });
  let packets = 0;
  const frames = new Set();
  function count(rtp) {
    packets++;
    frames.add(rtp.header.timestamp);
  }
  try {
    const pattern = {
      address: 'testsrc2=size=1280x720:rate=25[out0];sine=frequency=440[out1]',
      options: ['-re', '-f', 'lavfi'],
    };
    const webrtc = { enabled: true, force_transcode: true };
    await dragon.json('/api/v3/process', 'POST', benchProcess('busy', pattern, { webrtc }));
    await waitFor('the process running', async () =>
      (await dragon.json('/api/v3/process/busy/state', 'GET')).exec === 'running' ? true : undefined,
    );
    const offer = await viewer.offer();
    const answer = await waitFor('a WHEP answer', async () => {
      const response = await dragon.api('/api/v3/process/busy/whep', {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: offer,
      });
      return response.status === 201 ? response.text() : undefined;
    });
    await viewer.accept(answer);
    await waitFor('video at the viewer', async () => (packets > 100 ? true : undefined));

    const timeline = [];
    const phases = [
      ['before', seconds.before],
      ['busy', seconds.busy],
      ['after', seconds.after],
    ];
    const started = performance.now();
    for (const [phase, length] of phases) {
      if (phase === 'busy') {
        for (let index = 0; index < cores; index++)
          loops.push(spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
      }
      if (phase === 'after') for (const loop of loops.splice(0)) loop.kill('SIGKILL');
      for (let step = 0; step < length * 1000; step += stepMs) {
        const [fromPackets, fromFrames] = [packets, frames.size];
        const stepStart = performance.now();
        const apiStart = performance.now();
        // A failed request (a connection reset under starvation) is a figure too, not the end.
        const state = await dragon.json('/api/v3/process/busy/state', 'GET').catch((error) => ({ error }));
        const apiMs = performance.now() - apiStart;
        await sleep(Math.max(0, stepMs - (performance.now() - stepStart)));
        timeline.push({
          t: Math.round((performance.now() - started) / 100) / 10,
          phase,
          packets: packets - fromPackets,
          frames: frames.size - fromFrames,
          apiMs: Math.round(apiMs),
          ...(state.error ? { apiError: state.error.cause?.code ?? state.error.message } : {}),
          health: state.webrtc?.health?.video,
          speed: state.progress?.speed,
        });
        console.log(JSON.stringify({ setting, ...timeline.at(-1) }));
      }
    }
    const of = (phase, field) =>
      timeline.filter((entry) => entry.phase === phase).map((entry) => entry[field]);
    return {
      setting,
      env: settingEnv[setting],
      cores,
      timeline,
      summary: Object.fromEntries(
        ['before', 'busy', 'after'].map((phase) => [
          phase,
          {
            packetsPer2s: median(of(phase, 'packets')),
            framesPer2s: median(of(phase, 'frames')),
            apiMsMedian: median(of(phase, 'apiMs')),
            apiMsMax: Math.max(...of(phase, 'apiMs')),
          },
        ]),
      ),
    };
  } finally {
    for (const loop of loops.splice(0)) loop.kill('SIGKILL');
    await viewer.close();
    await dragon.stop();
  }
}

const results = [];
for (const setting of values.settings.split(',')) results.push(await measure(setting));
const output = { machine: { cores, cpu: cpus()[0]?.model }, cores, seconds, results };
writeFileSync(values.out, `${JSON.stringify(output, null, 2)}\n`);
for (const { setting, summary } of results) console.log(setting, JSON.stringify(summary));
