import { createSocket } from 'node:dgram';
import { waitFor } from '@dragon/test-helpers';
import { SyntheticSender, WeriftViewer } from '@dragon/test-helpers/werift';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerFactory, RtpSource, UdpMux, UdpMuxError } from '../src/index.js';
import { bindingRequest } from './forged-packets.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const udpSockets = () => process.getActiveResourcesInfo().filter((name) => name === 'UDPWRAP').length;

async function setup(factoryOptions: { publicIps?: string[] } = {}) {
  const mux = await UdpMux.open({ port: 0, address: '127.0.0.1' });
  const source = await RtpSource.open({ id: 'cam', video: { payloadType: 96 }, audio: { payloadType: 111 } });
  const factory = new PeerFactory({ interfaceAddresses: ['127.0.0.1'], udpMux: mux, ...factoryOptions });
  const sender = new SyntheticSender({ video: source.videoPort, audio: source.audioPort! });
  const timer = setInterval(() => sender.sendFrame(), 40);
  cleanups.push(
    () => mux.close(),
    () => source.close(),
    () => factory.close(),
    () => sender.close(),
    () => clearInterval(timer),
  );
  return { mux, source, factory };
}

describe('UDP mux: one socket for every viewer', () => {
  it('serves twenty werift viewers through one UDP socket and frees each entry on leave', async () => {
    const { mux, source, factory } = await setup();
    const viewers = Array.from({ length: 20 }, () => new WeriftViewer());
    cleanups.push(() => Promise.all(viewers.map((viewer) => viewer.close())));
    const offers = await Promise.all(viewers.map((viewer) => viewer.offer()));
    const socketsBefore = udpSockets();
    const peers = [];
    for (const [index, viewer] of viewers.entries()) {
      const { peer, answerSdp } = await factory.createPeer(source, offers[index]!);
      expect(answerSdp).toContain(`127.0.0.1 ${mux.port} typ host`);
      await viewer.accept(answerSdp);
      peers.push(peer);
    }
    // The server side opened no socket for the twenty viewers: they all share the mux.
    expect(udpSockets()).toBe(socketsBefore);
    expect(mux.bindingCount).toBe(20);
    // Twenty werift viewers decrypt on the same cores as the server: a generous deadline for busy CI.
    await waitFor(
      'every viewer receiving video and audio',
      () => viewers.every((viewer) => viewer.received.video.length > 10 && viewer.received.audio.length > 3),
      45_000,
    );
    expect(peers.every((peer) => peer.state === 'connected')).toBe(true);

    peers[0]!.close();
    expect(mux.bindingCount).toBe(19);
    const before = viewers.slice(1).map((viewer) => viewer.received.video.length);
    await waitFor(
      'the other nineteen still receiving',
      () => viewers.slice(1).every((viewer, index) => viewer.received.video.length > before[index]! + 10),
      45_000,
    );
    for (const peer of peers) peer.close();
    expect(mux.bindingCount).toBe(0);
    expect(mux.remoteCount).toBe(0);
  });

  it('drops datagrams from unknown senders and with unknown ICE credentials', async () => {
    const { mux, source, factory } = await setup();
    const viewer = new WeriftViewer();
    cleanups.push(() => viewer.close());
    const { answerSdp } = await factory.createPeer(source, await viewer.offer());
    await viewer.accept(answerSdp);
    await waitFor('media through the mux', () => viewer.received.video.length > 10);

    const stranger = createSocket('udp4');
    cleanups.push(() => stranger.close());
    const strangerBinding = Buffer.alloc(32);
    strangerBinding.writeUInt16BE(0x0001, 0); // binding request
    strangerBinding.writeUInt16BE(12, 2);
    strangerBinding.writeUInt32BE(0x2112a442, 4);
    strangerBinding.writeUInt16BE(0x0006, 20); // USERNAME "abcd:wxyz"
    strangerBinding.writeUInt16BE(9, 22);
    strangerBinding.write('abcd:wxyz', 24);
    const dropped = mux.stats.dropped;
    for (const datagram of [
      Buffer.from('not rtp, not stun'),
      Buffer.from([0x80, 0x60, 0, 1]),
      strangerBinding,
    ]) {
      stranger.send(datagram, mux.port, '127.0.0.1');
    }
    await waitFor('three datagrams dropped', () => mux.stats.dropped >= dropped + 3);
    expect(mux.bindingCount).toBe(1);
    const seen = viewer.received.video.length;
    await waitFor('the viewer still receiving', () => viewer.received.video.length > seen + 10);
  });

  it('advertises the NAT 1:1 address on the mux port', async () => {
    const { mux, source, factory } = await setup({ publicIps: ['203.0.113.7'] });
    const viewer = new WeriftViewer();
    cleanups.push(() => viewer.close());
    const { answerSdp } = await factory.createPeer(source, await viewer.offer());
    expect(answerSdp).toContain(`203.0.113.7 ${mux.port} typ host`);
    const candidates = answerSdp.match(/^a=candidate:.*$/gm) ?? [];
    expect(candidates.length).toBeGreaterThan(0);
    for (const candidate of candidates) expect(candidate).toContain(` ${mux.port} typ host`);
  });

  it('advertises ICE-TCP on the shared TCP port for the NAT 1:1 address too', async () => {
    const { IceTcpMux } = await import('../src/index.js');
    const tcpMux = await IceTcpMux.open({ port: 0, address: '127.0.0.1' });
    cleanups.push(() => tcpMux.close());
    const { mux, source } = await setup();
    const factory = new PeerFactory({
      interfaceAddresses: ['127.0.0.1'],
      publicIps: ['203.0.113.7'],
      udpMux: mux,
      tcpMux,
    });
    cleanups.push(() => factory.close());
    const viewer = new WeriftViewer();
    cleanups.push(() => viewer.close());
    const { answerSdp } = await factory.createPeer(source, await viewer.offer());
    for (const address of ['203.0.113.7', '127.0.0.1']) {
      expect(answerSdp).toContain(`${address} ${mux.port} typ host`);
      expect(answerSdp).toContain(`${address} ${tcpMux.port} typ host tcptype passive`);
    }
    expect(answerSdp).not.toContain('tcptype active');
    expect(tcpMux.bindingCount).toBe(1);
  });

  it('refuses a port that is taken, with a typed error', async () => {
    const { mux } = await setup();
    await expect(UdpMux.open({ port: mux.port, address: '127.0.0.1' })).rejects.toBeInstanceOf(UdpMuxError);
  });
});

describe('ICE-TCP on one port', () => {
  it('closes connections whose first frame is not a known ICE binding request', async () => {
    const { IceTcpMux } = await import('../src/index.js');
    const { connect } = await import('node:net');
    const tcpMux = await IceTcpMux.open({ port: 0, address: '127.0.0.1' });
    cleanups.push(() => tcpMux.close());
    for (const payload of [Buffer.from([0x00, 0x05, 1, 2, 3, 4, 5]), Buffer.from([0xff, 0xff, 0])]) {
      const socket = connect({ port: tcpMux.port, host: '127.0.0.1' });
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => {
        socket.on('connect', () => socket.write(payload));
        socket.on('close', () => resolve());
      });
    }
    expect(tcpMux.stats).toEqual({ accepted: 0, rejected: 2 });
  });

  it("hands a connection to a peer only when its first request proves the peer's ICE password", async () => {
    const { IceTcpMux } = await import('../src/index.js');
    const { connect } = await import('node:net');
    const tcpMux = await IceTcpMux.open({ port: 0, address: '127.0.0.1' });
    cleanups.push(() => tcpMux.close());
    const handed: unknown[] = [];
    const release = tcpMux.register('srvr', 'view', 'the-server-ice-password', {
      registerSocket: (socket) => {
        handed.push(socket);
        socket.destroy();
      },
    });
    cleanups.push(release);
    const framed = (message: Buffer) =>
      Buffer.concat([Buffer.from([message.length >> 8, message.length & 0xff]), message]);
    for (const password of [undefined, 'not-the-password', 'the-server-ice-password']) {
      const socket = connect({ port: tcpMux.port, host: '127.0.0.1' });
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => {
        socket.on('connect', () => socket.write(framed(bindingRequest('srvr:view', password))));
        socket.on('close', () => resolve());
      });
    }
    expect(tcpMux.stats).toEqual({ accepted: 1, rejected: 2 });
    expect(handed).toHaveLength(1);
  });
});
