import { waitFor } from '@dragon/test-helpers';
import { SyntheticSender, WeriftViewer } from '@dragon/test-helpers/werift';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerFactory, RtpSource } from '../src/index.js';

// The warm-up a server runs at start (so that its first viewer is answered as fast as the next):
// it must hold nothing afterwards (no connection, no socket, no timer) and leave the factory
// answering as before.
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const udpSockets = () => process.getActiveResourcesInfo().filter((kind) => kind === 'UDPWrap').length;

describe('PeerFactory.warmUp', () => {
  it('negotiates without binding or keeping anything, and viewers connect afterwards', async () => {
    const factory = new PeerFactory({ interfaceAddresses: ['127.0.0.1'] });
    cleanups.push(() => factory.close());
    const socketsBefore = udpSockets();

    await factory.warmUp();
    await factory.warmUp(); // twice: nothing accumulates

    expect(factory.connectionCount).toBe(0);
    expect(udpSockets()).toBe(socketsBefore);

    const source = await RtpSource.open({
      id: 'cam',
      video: { payloadType: 96 },
      audio: { payloadType: 111 },
    });
    cleanups.push(() => source.close());

    const sender = new SyntheticSender({ video: source.videoPort, audio: source.audioPort! });
    const timer = setInterval(() => sender.sendFrame(), 40);
    const viewer = new WeriftViewer();
    cleanups.push(
      () => viewer.close(),
      () => clearInterval(timer),
      () => sender.close(),
    );
    const { answerSdp } = await factory.createPeer(source, await viewer.offer());
    await viewer.accept(answerSdp);
    await waitFor('video at the viewer', () => viewer.received.video.length > 5);
  });
});
