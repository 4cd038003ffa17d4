import { handwrittenOffer, waitFor } from '@dragon/test-helpers';
import { SyntheticSender, WeriftViewer } from '@dragon/test-helpers/werift';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  GenericNack,
  PictureLossIndication,
  RtcpPayloadSpecificFeedback,
  RtcpReceiverInfo,
  RtcpRrPacket,
  RtcpTransportLayerFeedback,
} from 'werift';
import { PeerFactory, RtpSource, UdpMux } from '../src/index.js';
import {
  authenticCloseNotify,
  bindingRequest,
  forgedRecords,
  iceCredentials,
  listeningSocket,
  selectedPath,
  stunTransaction,
} from './forged-packets.js';

// What a party without the session keys can do to a viewer: forge DTLS records from its address,
// replay the plaintext ICE USERNAME from elsewhere, or name a third party in its candidates.
// Every case runs with one socket per viewer and through the shared UDP mux.

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Mode = 'socket per viewer' | 'UDP mux';
const modes: Mode[] = ['socket per viewer', 'UDP mux'];

async function setup(mode: Mode, options: { disconnectTimeoutMs?: number } = {}) {
  const mux = mode === 'UDP mux' ? await UdpMux.open({ port: 0, address: '127.0.0.1' }) : undefined;
  const source = await RtpSource.open({ id: 'cam', video: { payloadType: 96 }, audio: { payloadType: 111 } });
  const factory = new PeerFactory({
    interfaceAddresses: ['127.0.0.1'],
    ...(mux ? { udpMux: mux } : {}),
    ...options,
  });
  const sender = new SyntheticSender({ video: source.videoPort, audio: source.audioPort! });
  const timer = setInterval(() => sender.sendFrame(), 40);
  cleanups.push(
    () => mux?.close(),
    () => source.close(),
    () => factory.close(),
    () => sender.close(),
    () => clearInterval(timer),
  );
  return { mux, source, factory };
}

async function connectViewer(factory: PeerFactory, source: RtpSource) {
  const viewer = new WeriftViewer();
  cleanups.push(() => viewer.close());
  const offerSdp = await viewer.offer();
  const { peer, answerSdp } = await factory.createPeer(source, offerSdp);
  const reasons: string[] = [];
  peer.on('closed', (reason) => reasons.push(reason));
  await viewer.accept(answerSdp);
  await waitFor('video at the viewer', () => viewer.received.video.length > 10);
  const serverPort = Number(/^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host/m.exec(answerSdp)?.[1]);
  return {
    viewer,
    peer,
    reasons,
    server: iceCredentials(answerSdp),
    client: iceCredentials(offerSdp),
    serverPort,
  };
}

describe.each(modes)('only authenticated traffic affects a session (%s)', (mode) => {
  it("keeps the video flowing through forged DTLS records sent from the viewer's address", async () => {
    const { source, factory } = await setup(mode);
    const { viewer, peer, reasons } = await connectViewer(factory, source);
    const { socket, remote } = selectedPath(viewer.pc);

    for (const record of Object.values(forgedRecords)) socket.send(record, remote[1], remote[0]);

    const seen = viewer.received.video.length;
    await waitFor('fifty more video packets at the viewer', () => viewer.received.video.length > seen + 50);
    expect(peer.state).toBe('connected');
    expect(reasons).toEqual([]);
    expect(source.subscriberCount).toBe(1);
  });

  it("neither answers nor re-maps for the viewer's USERNAME without a valid MESSAGE-INTEGRITY", async () => {
    const { mux, source, factory } = await setup(mode);
    const { viewer, peer, reasons, server, client, serverPort } = await connectViewer(factory, source);
    const third = await listeningSocket('127.0.0.66');
    cleanups.push(() => third.socket.close());
    const username = `${server.ufrag}:${client.ufrag}`;
    const port = mux?.port ?? serverPort;
    const remotes = mux?.remoteCount;

    const forged = [bindingRequest(username, undefined), bindingRequest(username, 'not-the-ice-password')];
    for (const request of forged) third.socket.send(request, port, '127.0.0.1');
    // On the old mux, one such request moved the viewer's address here, and this alert to the viewer.
    third.socket.send(forgedRecords['a plaintext close_notify']!, port, '127.0.0.1');
    if (mux) {
      await waitFor('both requests refused by the mux', () => mux.stats.unauthenticated >= 2);
      expect(mux.remoteCount).toBe(remotes);
    }
    // A request made with the password, sent last on the same path: its answer is the first.
    const control = bindingRequest(username, server.pwd);
    third.socket.send(control, port, '127.0.0.1');

    const firstAnswer = await waitFor('an answer to the authenticated request', () =>
      third.received.map(stunTransaction).find((transaction) => transaction?.success),
    );
    expect(firstAnswer.id).toBe(stunTransaction(control)?.id);
    const seen = viewer.received.video.length;
    await waitFor('the viewer still receiving', () => viewer.received.video.length > seen + 50);
    expect(peer.state).toBe('connected');
    expect(reasons).toEqual([]);
  });

  it('sends a bounded number of checks for an offer naming 200 candidates at a third address', async () => {
    const { source, factory } = await setup(mode, { disconnectTimeoutMs: 8000 });
    const targets = await Promise.all(Array.from({ length: 200 }, () => listeningSocket('127.0.0.77')));
    cleanups.push(() => {
      for (const target of targets) target.socket.close();
    });
    const offer = handwrittenOffer(
      'video',
      targets.map(
        ({ socket }, index) =>
          `a=candidate:${index} 1 udp ${2_000_000_000 - index} 127.0.0.77 ${socket.address().port} typ host`,
      ),
    );

    const { peer } = await factory.createPeer(source, offer);
    // Nobody answers the checks: the peer is reaped, which ends its checks and retransmissions.
    await waitFor('the unanswered peer reaped', () => peer.state === 'closed', 30_000);

    const perTarget = targets.map(({ received }) => received.length);
    const checked = perTarget.filter((count) => count > 0).length;
    // 24 candidates at most, one local candidate, a check and at most 4 retransmissions each.
    expect(checked).toBeGreaterThan(0);
    expect(checked).toBeLessThanOrEqual(24);
    expect(Math.max(...perTarget)).toBeLessThanOrEqual(5);
    expect(perTarget.reduce((sum, count) => sum + count, 0)).toBeLessThanOrEqual(24 * 5);
  });

  it('keeps the session through authentic RTCP that is malformed, cut off or nonsensical', async () => {
    const { source, factory } = await setup(mode);
    const { viewer, peer, reasons } = await connectViewer(factory, source);
    // The viewer's own SRTCP keys: what it sends authenticates and reaches the server's RTCP handling.
    const transport = viewer.pc.dtlsTransports[0] as unknown as {
      srtcp: { encrypt(plain: Buffer): Buffer };
      iceTransport: { connection: { send(data: Buffer): Promise<void> } };
    };
    const mediaSsrc = viewer.received.video[0]!.ssrc;
    // Seed: the compound packet a viewer sends, receiver report + NACK + PLI, as werift builds them.
    const compound = Buffer.concat([
      new RtcpRrPacket({
        ssrc: 1,
        reports: [
          new RtcpReceiverInfo({
            ssrc: mediaSsrc,
            fractionLost: 0,
            packetsLost: 0,
            highestSequence: 1,
            jitter: 0,
            lsr: 0,
            dlsr: 0,
          }),
        ],
      }).serialize(),
      new RtcpTransportLayerFeedback({
        feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: mediaSsrc, lost: [1, 2, 3, 65_535] }),
      }).serialize(),
      new RtcpPayloadSpecificFeedback({
        feedback: new PictureLossIndication({ senderSsrc: 1, mediaSsrc }),
      }).serialize(),
    ]);
    const mutated = fc
      .tuple(
        fc.array(
          fc.tuple(fc.integer({ min: 2, max: compound.length - 1 }), fc.integer({ min: 0, max: 255 })),
          {
            maxLength: 6,
          },
        ),
        fc.integer({ min: 8, max: compound.length }),
      )
      .map(([edits, cut]) => {
        const bytes = Buffer.from(compound.subarray(0, cut));
        for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
        return bytes;
      });
    await fc.assert(
      fc.asyncProperty(mutated, async (plain) => {
        await transport.iceTransport.connection.send(transport.srtcp.encrypt(plain));
      }),
      { seed: 20261207, numRuns: 300 },
    );

    const seen = viewer.received.video.length;
    await waitFor('fifty more video packets at the viewer', () => viewer.received.video.length > seen + 50);
    expect(peer.state).toBe('connected');
    expect(reasons).toEqual([]);
  });

  it('drops a viewer whose DTLS really closed and stops counting it', async () => {
    const { source, factory } = await setup(mode);
    const { viewer, peer, reasons } = await connectViewer(factory, source);

    // What a browser sends when its page closes the connection: a close_notify under the session keys.
    await viewer.pc.iceTransports[0]!.connection.send(authenticCloseNotify(viewer.pc));

    await waitFor('the peer closed', () => peer.state === 'closed');
    expect(reasons).toEqual(['dtls-closed']);
    expect(source.subscriberCount).toBe(0);
    expect(factory.connectionCount).toBe(0);
    const sent = peer.stats().packetsSent;
    const before = source.stats().video.packets;
    await waitFor('more packets from the source', () => source.stats().video.packets > before + 20);
    expect(peer.stats().packetsSent).toBe(sent);
  });
});
