import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { waitFor } from '@dragon/test-helpers';
import { SyntheticSender, WeriftViewer } from '@dragon/test-helpers/werift';
import { afterEach, describe, expect, it } from 'vitest';
import { RtcpSrPacket } from 'werift';
import { FanoutPlane, type FanoutPlaneOptions, PeerFactory, RtpSource } from '../src/index.js';
import { filterIncoming } from '../src/werift/ice-internals.js';
import { planes, planeWithSource } from './plane-fixture.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: FanoutPlaneOptions) {
  const { plane, source, factory } = await planeWithSource(options, cleanups);
  const sender = new SyntheticSender({ video: source.videoPort, audio: source.audioPort });
  const timer = setInterval(() => sender.sendFrame(), 40);
  cleanups.push(
    () => sender.close(),
    () => clearInterval(timer),
  );
  return { plane, source, factory, sender };
}

async function connectViewer(
  factory: PeerFactory,
  source: RtpSource,
  options: { srtpProfile?: number; drop?: (datagram: Buffer, videoPayloadType: number) => boolean } = {},
) {
  const viewer = new WeriftViewer();
  cleanups.push(() => viewer.close());
  const offer = await viewer.offer();
  const videoPayloadType = Number(/^m=video \d+ \S+ (\d+)/m.exec(offer)?.[1]);
  // The viewer is the DTLS server here (the answer says a=setup:active), so its list decides.
  if (options.srtpProfile !== undefined) {
    for (const transport of viewer.pc.dtlsTransports) {
      (transport as unknown as { srtpProfiles: number[] }).srtpProfiles = [options.srtpProfile];
    }
  }
  const drop = options.drop;
  if (drop) {
    expect(filterIncoming(viewer.pc, (datagram) => !drop(datagram, videoPayloadType))).toBeGreaterThan(0);
  }
  const { peer, answerSdp } = await factory.createPeer(source, offer);
  await viewer.accept(answerSdp);
  return { viewer, peer };
}

/** The negotiated SRTP profile, as the viewer's werift session holds it. */
function viewerProfile(viewer: WeriftViewer): number | undefined {
  const transport = viewer.pc.dtlsTransports[0] as unknown as {
    srtp?: { localContext?: { profile?: number } };
  };
  return transport.srtp?.localContext?.profile;
}

function isRtpOf(datagram: Buffer, payloadType: number): boolean {
  // SRTP keeps the RTP header in the clear (RFC 3711 §3.1).
  return datagram.length > 12 && datagram[0]! >> 6 === 2 && (datagram[1]! & 0x7f) === payloadType;
}

describe.each(planes)('data plane: %s', (_name, options) => {
  it('sends every viewer both tracks, in sequence, under its own SSRC', async () => {
    const { factory, source } = await setup(options);
    const viewers = await Promise.all(Array.from({ length: 4 }, () => connectViewer(factory, source)));

    await waitFor('all four receiving', () =>
      viewers.every(({ viewer }) => viewer.received.video.length > 30 && viewer.received.audio.length > 10),
    );
    const ssrcs = new Set(viewers.map(({ viewer }) => viewer.received.video[0]!.ssrc));
    expect(ssrcs.size).toBe(4);
    for (const { viewer, peer } of viewers) {
      const video = viewer.received.video;
      for (let index = 1; index < video.length; index++) {
        expect(video[index]!.seq).toBe((video[index - 1]!.seq + 1) & 0xffff);
      }
      // A shard counts a packet after its send returns, so the viewer may hold a packet before the
      // count does: every packet received now is counted as sent, once the sender gets there.
      const received = video.length + viewer.received.audio.length;
      await waitFor('the sender to count what the viewer received', () =>
        peer.stats().packetsSent >= received ? true : undefined,
      );
    }
    expect(source.subscriberCount).toBe(4);
    expect(source.sentStats().packetsSent).toBeGreaterThan(0);
  });

  it.each([
    ['AES_CM_128_HMAC_SHA1_80', 1],
    ['AEAD_AES_128_GCM', 7],
  ])('protects with %s when that is what DTLS negotiated', async (_profileName, profile) => {
    const { factory, source } = await setup(options);
    const { viewer } = await connectViewer(factory, source, { srtpProfile: profile });

    await waitFor(
      'media decrypted',
      () => viewer.received.video.length > 20 && viewer.received.audio.length > 5,
    );
    expect(viewerProfile(viewer)).toBe(profile);
  });

  it('resends from the shared history what a lossy viewer did not get (NACK)', async () => {
    const { factory, source } = await setup(options);
    const dropped = new Set<number>();
    const seen = new Set<number>();
    // Loses every 7th video packet the first time it comes (not a retransmission of it).
    const { viewer } = await connectViewer(factory, source, {
      drop: (datagram, videoPayloadType) => {
        if (!isRtpOf(datagram, videoPayloadType)) return false;
        const sequenceNumber = datagram.readUInt16BE(2);
        if (seen.has(sequenceNumber)) return false;
        seen.add(sequenceNumber);
        if (seen.size < 10 || seen.size % 7 !== 0 || dropped.size >= 12) return false;
        dropped.add(sequenceNumber);
        return true;
      },
    });

    await waitFor('twelve packets lost', () => dropped.size >= 12);
    await waitFor('every lost packet received later', () => {
      const received = new Set(viewer.received.video.map((packet) => packet.seq));
      return [...dropped].every((sequenceNumber) => received.has(sequenceNumber));
    });
  });

  it('sends Sender Reports whose counts and clocks match what was sent', async () => {
    const { factory, source } = await setup(options);
    const { viewer, peer } = await connectViewer(factory, source);
    const reports: RtcpSrPacket[] = [];
    await waitFor('connected', () => viewer.received.video.length > 0);
    viewer.pc.dtlsTransports[0]!.onRtcp.subscribe((packet) => {
      if (packet instanceof RtcpSrPacket) reports.push(packet);
    });
    const videoSsrc = viewer.received.video[0]!.ssrc;
    const audioSsrc = await waitFor('audio', () => viewer.received.audio[0]?.ssrc);

    const video = await waitFor(
      'a video report',
      () => reports.find((report) => report.ssrc === videoSsrc),
      20_000,
    );
    await waitFor('an audio report', () => reports.find((report) => report.ssrc === audioSsrc), 20_000);
    const sentSoFar = peer.stats().packetsSent;
    const info = video.senderInfo;
    expect(info.packetCount).toBeGreaterThan(0);
    expect(info.packetCount).toBeLessThanOrEqual(sentSoFar);
    // The synthetic video payloads are 9 to 901 bytes.
    expect(info.octetCount).toBeGreaterThanOrEqual(info.packetCount * 9);
    expect(info.octetCount).toBeLessThanOrEqual(info.packetCount * 901);
    const ntpUnixSeconds = Number(info.ntpTimestamp >> 32n) - 2_208_988_800;
    expect(Math.abs(ntpUnixSeconds - Date.now() / 1000)).toBeLessThan(60);
    // The reported RTP time is on the video clock, near the timestamps the viewer received.
    const timestamps = viewer.received.video.map((packet) => packet.ts);
    const nearest = Math.min(...timestamps.map((ts) => Math.abs(((info.rtpTimestamp - ts) | 0) / 90_000)));
    expect(nearest).toBeLessThan(5);
  });

  it("sends a viewer's Sender Reports as one compound packet per round", async () => {
    const { factory, source } = await setup(options);
    // The SSRC of the first report of each SRTCP datagram: its header is sent in the clear.
    const firstReporters: number[] = [];
    const { viewer } = await connectViewer(factory, source, {
      drop: (datagram) => {
        if (datagram.length >= 8 && datagram[0]! >> 6 === 2 && datagram[1] === 200) {
          firstReporters.push(datagram.readUInt32BE(4));
        }
        return false;
      },
    });
    const reports: RtcpSrPacket[] = [];
    viewer.pc.dtlsTransports[0]!.onRtcp.subscribe((packet) => {
      if (packet instanceof RtcpSrPacket) reports.push(packet);
    });
    const videoSsrc = await waitFor('video', () => viewer.received.video[0]?.ssrc);
    const audioSsrc = await waitFor('audio', () => viewer.received.audio[0]?.ssrc);
    await waitFor('a report of each stream', () => {
      const ssrcs = new Set(reports.map((report) => report.ssrc));
      return ssrcs.has(videoSsrc) && ssrcs.has(audioSsrc);
    });
    const datagramsBefore = firstReporters.length;
    const reportsBefore = reports.length;
    await waitFor('three more rounds', () => firstReporters.length >= datagramsBefore + 3, 20_000);
    await waitFor('their reports', () => reports.length >= reportsBefore + 6);
    // Both streams report in every round, in one datagram: it always starts with the same one.
    expect(new Set(firstReporters.slice(datagramsBefore))).toHaveLength(1);
    const later = reports.slice(reportsBefore).map((report) => report.ssrc);
    expect(later.filter((ssrc) => ssrc === videoSsrc).length).toBeGreaterThanOrEqual(3);
    expect(later.filter((ssrc) => ssrc === audioSsrc).length).toBeGreaterThanOrEqual(3);
  });

  it('reads the video health where the packets are received', async () => {
    const { source } = await setup(options);
    // The synthetic sender's keyframes are SPS, PPS and IDR under one timestamp: decodable ones.
    const health = await waitFor('two keyframes counted', () => {
      const video = source.health().video;
      return video.decodableKeyframes >= 2 && video;
    });
    expect(health.keyframes).toBe(health.decodableKeyframes);
    expect(health.accessUnits).toBeGreaterThan(25);
    expect(health.reorderedAccessUnits).toBe(0);
    expect(health.lastDecodableKeyframeAt).not.toBeNull();
    expect(health.packets).toBeGreaterThan(health.accessUnits);
  });

  it('primes a late viewer with the cached GOP and continues without a gap', async () => {
    const { factory, source } = await setup(options);
    await waitFor('a keyframe and more', () => source.stats().video.packets > 40);
    const { viewer } = await connectViewer(factory, source);

    await waitFor('live packets after the primer', () => viewer.received.video.length > 60);
    const video = viewer.received.video;
    const firstTs = video[0]!.ts;
    expect(video.filter((packet) => packet.ts === firstTs).length).toBeGreaterThanOrEqual(3);
    for (let index = 1; index < video.length; index++) {
      expect(video[index]!.seq).toBe((video[index - 1]!.seq + 1) & 0xffff);
    }
  });
});

describe('data plane in worker shards', () => {
  it('lets the process exit once its sources are closed: the workers hold nothing open', async () => {
    const index = new URL('../dist/index.js', import.meta.url).href;
    // A script file, not `-e`: workers inherit the parent's exec flags, and `--input-type` is
    // refused for their script files.
    const dir = mkdtempSync(join(tmpdir(), 'dragon-exit-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const script = join(dir, 'exit.mjs');
    writeFileSync(
      script,
      `const { FanoutPlane, RtpSource } = await import(${JSON.stringify(index)});
       const plane = FanoutPlane.shared();
       if (plane.engine !== 'native' || plane.shards < 1) throw new Error('no worker shard: ' + plane.engine);
       const source = await RtpSource.open({ id: 'cam', video: { payloadType: 96 } });
       source.close();
       console.log('closed');`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    cleanups.push(() => child.kill('SIGKILL'));
    const code = await waitFor('the process to exit by itself', () => child.exitCode ?? undefined);
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: 'closed\n', stderr: '' });
  });

  it('keeps sending while the main thread is blocked', async () => {
    const plane = FanoutPlane.open({ engine: 'native', shards: 1 });
    const source = await RtpSource.open({ id: 'cam', video: { payloadType: 96 }, plane });
    const factory = new PeerFactory({ interfaceAddresses: ['127.0.0.1'] });
    // FFmpeg's stand-in runs in its own thread: this one is about to be busy.
    const sender = new Worker(
      `
      const { createSocket } = require('node:dgram');
      const { workerData } = require('node:worker_threads');
      const socket = createSocket('udp4');
      let seq = 0;
      setInterval(() => {
        const packet = Buffer.alloc(212, 0xab);
        packet[0] = 0x80; packet[1] = 96; packet.writeUInt16BE(seq++ & 0xffff, 2);
        packet.writeUInt32BE(seq * 3000, 4); packet.writeUInt32BE(0x1111, 8); packet[12] = 0x41;
        socket.send(packet, workerData.port, '127.0.0.1');
      }, 5);
      `,
      { eval: true, workerData: { port: source.videoPort } },
    );
    cleanups.push(
      () => plane.close(),
      () => source.close(),
      () => factory.close(),
      () => sender.terminate(),
    );
    const { viewer, peer } = await connectViewer(factory, source);
    await waitFor('receiving', () => viewer.received.video.length > 10);

    const before = peer.stats().packetsSent;
    // An API handler that holds the event loop (building a large response, say) until the shards
    // have sent 20 packets more — read from their shared counters — or 20 s have passed.
    const until = Date.now() + 20_000;
    let during = 0;
    while (during < 20 && Date.now() < until) during = peer.stats().packetsSent - before;

    expect(during).toBeGreaterThanOrEqual(20);
  });
});
