import { Socket } from 'node:dgram';
import dns from 'node:dns';
import { isIP } from 'node:net';
import { isLoopbackAddress } from '@dragon/portalloc';
import { vp8OnlyOffer, waitFor } from '@dragon/test-helpers';
import { SyntheticSender, WeriftViewer } from '@dragon/test-helpers/werift';
import { afterEach, describe, expect, it } from 'vitest';
import { RTCRtpCodecParameters } from 'werift';
import { PeerFactory, RtpSource } from '../src/index.js';
import { expectRejectedSection } from './rejected-section.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: { disconnectTimeoutMs?: number } = {}) {
  const source = await RtpSource.open({ id: 'cam', video: { payloadType: 96 }, audio: { payloadType: 111 } });
  const factory = new PeerFactory({ interfaceAddresses: ['127.0.0.1'], ...options });
  const sender = new SyntheticSender({ video: source.videoPort, audio: source.audioPort! });
  const timer = setInterval(() => sender.sendFrame(), 40);
  cleanups.push(
    () => source.close(),
    () => factory.close(),
    () => sender.close(),
    () => clearInterval(timer),
  );
  return { source, factory, sender };
}

async function connectViewer(factory: PeerFactory, source: RtpSource, viewer = new WeriftViewer()) {
  cleanups.push(() => viewer.close());
  const { peer, answerSdp } = await factory.createPeer(source, await viewer.offer());
  await viewer.accept(answerSdp);
  return { viewer, peer, answerSdp };
}

describe('fan-out to werift viewers', () => {
  it('delivers H.264 and Opus to a viewer with the payload types it chose', async () => {
    const { source, factory } = await setup();
    const { viewer, answerSdp, peer } = await connectViewer(factory, source);
    await waitFor(
      'video and audio',
      () => viewer.received.video.length > 20 && viewer.received.audio.length > 5,
    );
    expect(peer.state).toBe('connected');
    expect(answerSdp).toMatch(/a=rtpmap:\d+ H264\/90000/);
    expect(answerSdp.match(/a=rtcp-mux-only/g)).toHaveLength(2);
    expect(new Set(answerSdp.match(/a=msid:\S+/g))).toEqual(new Set(['a=msid:dragon-cam']));
    expect(answerSdp).toMatch(/a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
    expect(answerSdp).not.toContain('a=ice-options:trickle');
    expect(source.subscriberCount).toBe(1);
    expect(factory.connectionCount).toBe(1);
    expect(peer.stats().packetsSent).toBeGreaterThan(0);
  });

  it("sends nothing beyond loopback: no lookup of werift's default public STUN server", async () => {
    const lookups: string[] = [];
    const destinations: string[] = [];
    const originalLookup = dns.promises.lookup;
    const originalSend = Socket.prototype.send;
    dns.promises.lookup = ((host: string, ...rest: unknown[]) => {
      lookups.push(host);
      return (originalLookup as (...args: unknown[]) => unknown).call(dns.promises, host, ...rest);
    }) as typeof dns.promises.lookup;
    Socket.prototype.send = function (this: Socket, ...args: unknown[]) {
      const address = args.find((arg) => typeof arg === 'string' && isIP(arg) !== 0);
      if (typeof address === 'string') destinations.push(address);
      return (originalSend as (...a: unknown[]) => void).apply(this, args);
    } as typeof Socket.prototype.send;
    cleanups.push(() => {
      dns.promises.lookup = originalLookup;
      Socket.prototype.send = originalSend;
    });
    const { source, factory } = await setup();
    const { viewer } = await connectViewer(factory, source);
    await waitFor('media', () => viewer.received.video.length > 5);
    expect(lookups).toEqual([]);
    expect(destinations.length).toBeGreaterThan(0);
    expect(destinations.filter((address) => !isLoopbackAddress(address))).toEqual([]);
  });

  it('keeps ten viewers playing when one leaves', async () => {
    const { source, factory } = await setup();
    const viewers = await Promise.all(Array.from({ length: 10 }, () => connectViewer(factory, source)));
    await waitFor('all ten receiving', () => viewers.every(({ viewer }) => viewer.received.video.length > 5));
    viewers[0]!.peer.close();
    expect(source.subscriberCount).toBe(9);
    const before = viewers.slice(1).map(({ viewer }) => viewer.received.video.length);
    await waitFor('the other nine still receiving', () =>
      viewers.slice(1).every(({ viewer }, index) => viewer.received.video.length > before[index]! + 10),
    );
    expect(factory.connectionCount).toBe(9);
  });

  it('keeps sequence numbers continuous and one SSRC across an FFmpeg restart', async () => {
    const { source, factory, sender } = await setup();
    const { viewer } = await connectViewer(factory, source);
    await waitFor('packets before the restart', () => viewer.received.video.length > 20);
    sender.restart();
    const seen = viewer.received.video.length;
    await waitFor('packets after the restart', () => viewer.received.video.length > seen + 20);
    const packets = viewer.received.video;
    expect(new Set(packets.map((packet) => packet.ssrc)).size).toBe(1);
    for (let index = 1; index < packets.length; index++) {
      expect((packets[index - 1]!.seq + 1) & 0xffff).toBe(packets[index]!.seq);
    }
  });

  it('primes a late viewer with the packets since the last keyframe', async () => {
    const { source, factory } = await setup();
    await waitFor('a keyframe and more at the source', () => source.stats().video.packets > 40);
    const { viewer } = await connectViewer(factory, source);
    await waitFor('first packets', () => viewer.received.video.length > 0);
    // The first packet a late viewer gets is the SPS that opens the cached GOP.
    const firstTs = viewer.received.video[0]!.ts;
    expect(viewer.received.video.filter((packet) => packet.ts === firstTs).length).toBeGreaterThanOrEqual(3);
  });

  it('reaps a viewer that vanishes without a word', async () => {
    const { source, factory } = await setup({ disconnectTimeoutMs: 8000 });
    const { viewer, peer } = await connectViewer(factory, source);
    await waitFor('connected', () => viewer.received.video.length > 5);
    const reasons: string[] = [];
    peer.on('closed', (reason) => reasons.push(reason));
    // Stop the viewer's network without any goodbye: its ICE sockets close, nothing more is sent.
    await viewer.vanish();
    await waitFor('the peer reaped', () => peer.state === 'closed', 20_000);
    expect(reasons).toEqual(['disconnected-timeout']);
    expect(source.subscriberCount).toBe(0);
    expect(factory.connectionCount).toBe(0);
  });

  it('answers 422-class errors for an offer with no usable codec, and closes peers with the source', async () => {
    const { source, factory } = await setup();
    await expect(factory.createPeer(source, vp8OnlyOffer)).rejects.toMatchObject({ code: 'NO_USABLE_CODEC' });
    await expect(factory.createPeer(source, 'hello')).rejects.toMatchObject({ code: 'INVALID_SDP' });
    const { peer } = await connectViewer(factory, source);
    const closed = new Promise((resolve) => peer.once('closed', resolve));
    source.close();
    expect(await closed).toBe('source-closed');
  });

  it('answers a viewer that offers VP8 only: its video section rejected, audio flowing', async () => {
    const { source, factory } = await setup();
    const vp8 = new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90_000 });
    const { viewer, answerSdp, peer } = await connectViewer(
      factory,
      source,
      new WeriftViewer({ videoCodecs: [vp8] }),
    );
    expectRejectedSection(answerSdp, 'video');
    await waitFor('audio at the viewer', () => viewer.received.audio.length > 10);
    expect(viewer.received.video).toEqual([]);
    expect(peer.state).toBe('connected');
  });

  it('answers an audio and video offer from a video-only source: the audio section rejected', async () => {
    const videoOnly = await RtpSource.open({ id: 'video-only', video: { payloadType: 96 } });
    const { factory } = await setup();
    const sender = new SyntheticSender({ video: videoOnly.videoPort });
    const timer = setInterval(() => sender.sendFrame(), 40);
    cleanups.push(
      () => videoOnly.close(),
      () => sender.close(),
      () => clearInterval(timer),
    );
    const { viewer, answerSdp } = await connectViewer(factory, videoOnly);
    expectRejectedSection(answerSdp, 'audio');
    await waitFor('video at the viewer', () => viewer.received.video.length > 10);
    expect(viewer.received.audio).toEqual([]);
  });

  it('answers an audio and video offer from a source whose run sends audio only: the video section rejected', async () => {
    const { source, factory } = await setup();
    source.setActiveTracks({ video: false, audio: true });
    const { viewer, answerSdp } = await connectViewer(factory, source);
    expectRejectedSection(answerSdp, 'video');
    await waitFor('audio at the viewer', () => viewer.received.audio.length > 10);
    expect(viewer.received.video).toEqual([]);
  });

  it("reports the video track's health: decodable keyframes, and timestamps that go back", async () => {
    const source = await RtpSource.open({ id: 'health', video: { payloadType: 96 } });
    const sender = new SyntheticSender({ video: source.videoPort });
    cleanups.push(
      () => source.close(),
      () => sender.close(),
    );
    for (let frame = 0; frame < 50; frame++) sender.sendFrame(25);
    await waitFor('50 frames at the source', () => source.health().video.accessUnits >= 50);
    const health = source.health().video;
    expect(health).toMatchObject({ keyframes: 2, decodableKeyframes: 2, reorderedAccessUnits: 0 });
    expect(health.packets).toBeGreaterThanOrEqual(52);
    expect(health.lastDecodableKeyframeAt).toBeTypeOf('number');

    // A B-frame: an access unit whose presentation time is before the previous one's.
    const back = Buffer.alloc(12);
    back[0] = 0x80;
    back[1] = 0x80 | 96;
    back.writeUInt16BE(60_000, 2);
    back.writeUInt32BE(1000, 4);
    back.writeUInt32BE(sender.ssrc.video, 8);
    sender.socket.send(Buffer.concat([back, Buffer.from([0x41, 0xab])]), source.videoPort, '127.0.0.1');
    await waitFor('the reordered access unit', () => source.health().video.reorderedAccessUnits > 0);
  });
});
