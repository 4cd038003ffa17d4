// The load side of the fan-out benchmarks, in its own process so the server's CPU is its own:
// N werift viewers and, for the in-process benchmark, a synthetic sender (≈2 Mbit/s of video,
// Opus-sized audio) on loopback. The viewers make WHEP offers or answer a server's offer (Janus).
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { WeriftViewer } from '@dragon/test-helpers/werift';

const viewers = [];
let sender;
// When set (by `reset`), viewers keep each video sequence number, so a capture can tell exactly which sent packets arrived.
let recordSequences = false;
const sent = { video: 0, audio: 0 };

/** A recvonly viewer whose ICE stays on `host`, a local address (127.0.0.1 unless a server offers only another). */
function createViewer(host = '127.0.0.1') {
  const entry = { video: 0, audio: 0, latencies: [], videoSsrc: 0, sequences: [] };
  // The viewers decrypt as much as the server encrypts: give them the same key handling.
  entry.viewer = new WeriftViewer({
    host,
    record: false,
    keyObjects: true,
    onRtp: (kind, rtp) => {
      if (kind === 'audio') return void entry.audio++;
      entry.video++;
      entry.videoSsrc = rtp.header.ssrc;
      if (recordSequences) entry.sequences.push(rtp.header.sequenceNumber);
      // Bytes 1..8 of each synthetic video payload carry the sender's wall clock in ms (float64).
      if (sender && rtp.payload.length >= 9)
        entry.latencies.push(performance.timeOrigin + performance.now() - rtp.payload.readDoubleBE(1));
    },
  });
  return entry;
}

function startSender({ videoPort, audioPort, videoPps, audioPps, payloadBytes }) {
  const socket = createSocket('udp4');
  let videoSeq = 0;
  let audioSeq = 0;
  let ts = 0;
  const header = (pt, seq, timestamp, ssrc, marker) => {
    const buffer = Buffer.alloc(12);
    buffer[0] = 0x80;
    buffer[1] = (marker ? 0x80 : 0) | pt;
    buffer.writeUInt16BE(seq & 0xffff, 2);
    buffer.writeUInt32BE(timestamp >>> 0, 4);
    buffer.writeUInt32BE(ssrc, 8);
    return buffer;
  };
  // Paced by the clock, not by timer ticks: late timers must not lower the rate.
  let last = performance.now();
  let videoDebt = 0;
  let audioDebt = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    videoDebt += (videoPps * (now - last)) / 1000;
    audioDebt += (audioPps * (now - last)) / 1000;
    last = now;
    for (; videoDebt >= 1; videoDebt--) {
      const payload = Buffer.alloc(payloadBytes, 0xab);
      payload[0] = 0x41; // a non-IDR slice
      payload.writeDoubleBE(performance.timeOrigin + performance.now(), 1);
      ts += 390;
      socket.send(
        Buffer.concat([header(96, videoSeq++, ts, 0x1111, videoSeq % 8 === 0), payload]),
        videoPort,
        '127.0.0.1',
      );
      sent.video++;
    }
    for (; audioDebt >= 1; audioDebt--) {
      socket.send(
        Buffer.concat([header(111, audioSeq++, audioSeq * 960, 0x2222, true), Buffer.alloc(120, 0xcd)]),
        audioPort,
        '127.0.0.1',
      );
      sent.audio++;
    }
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      socket.close();
    },
  };
}

function percentile(sorted, p) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

process.on('message', async (message) => {
  if (message.type === 'offers') {
    const created = Array.from({ length: message.count }, () => createViewer(message.host));
    viewers.push(...created);
    process.send({ type: 'offers', sdps: await Promise.all(created.map((entry) => entry.viewer.offer())) });
  } else if (message.type === 'answerOffers') {
    const created = message.sdps.map(() => createViewer(message.host));
    viewers.push(...created);
    const sdps = await Promise.all(created.map((entry, index) => entry.viewer.answer(message.sdps[index])));
    process.send({ type: 'answers', sdps });
  } else if (message.type === 'answers') {
    const start = message.start ?? viewers.length - message.sdps.length;
    await Promise.all(message.sdps.map((sdp, index) => viewers[start + index].viewer.accept(sdp)));
    process.send({ type: 'answered' });
  } else if (message.type === 'send') {
    sender = startSender(message);
    process.send({ type: 'sending' });
  } else if (message.type === 'reset') {
    for (const viewer of viewers) {
      viewer.video = 0;
      viewer.audio = 0;
      viewer.latencies = [];
      viewer.sequences = [];
    }
    recordSequences = message.sequences === true;
    sent.video = 0;
    sent.audio = 0;
    process.send({ type: 'reset', at: Date.now() });
  } else if (message.type === 'report') {
    const latencies = viewers.flatMap((viewer) => viewer.latencies).sort((a, b) => a - b);
    process.send({
      type: 'report',
      at: Date.now(),
      ssrc: viewers.map((viewer) => viewer.videoSsrc),
      states: viewers.map((entry) => entry.viewer.pc.connectionState),
      ...(recordSequences ? { sequences: viewers.map((viewer) => viewer.sequences) } : {}),
      video: viewers.map((viewer) => viewer.video),
      audio: viewers.map((viewer) => viewer.audio),
      sent: { ...sent },
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
    });
  } else if (message.type === 'closeAll') {
    await Promise.all(viewers.splice(0).map((entry) => entry.viewer.close().catch(() => {})));
    process.send({ type: 'closed' });
  } else if (message.type === 'stop') {
    sender?.stop();
    await Promise.all(viewers.map((entry) => entry.viewer.close().catch(() => {})));
    process.exit(0);
  }
});
