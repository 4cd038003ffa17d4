import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { waitFor } from '@dragon/test-helpers';
import { SyntheticSender, WeriftViewer } from '@dragon/test-helpers/werift';
import { afterEach, describe, expect, it } from 'vitest';
import { type Peer, PeerFactory, RtpSource, UdpMux } from '../src/index.js';

// A closed viewer must be held by nothing the server keeps (source listeners, the factory, the
// data plane, timers, the UDP mux): otherwise every join/leave leaks a werift connection. Checked
// with weak references and forced full collections, polled while werift's own timers wind down.
// And the viewer of a session the server ends is told so.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: { mux?: boolean } = {}) {
  const source = await RtpSource.open({ id: 'cam', video: { payloadType: 96 }, audio: { payloadType: 111 } });
  const udpMux = options.mux ? await UdpMux.open({ port: 0, address: '127.0.0.1' }) : undefined;
  const factory = new PeerFactory({ interfaceAddresses: ['127.0.0.1'], ...(udpMux ? { udpMux } : {}) });
  const sender = new SyntheticSender({ video: source.videoPort, audio: source.audioPort! });
  const timer = setInterval(() => sender.sendFrame(), 40);
  cleanups.push(
    () => source.close(),
    () => factory.close(),
    () => udpMux?.close(),
    () => sender.close(),
    () => clearInterval(timer),
  );
  return { source, factory, udpMux };
}

function newViewer(): WeriftViewer {
  const viewer = new WeriftViewer();
  cleanups.push(() => viewer.close());
  return viewer;
}

function closed(peer: Peer): Promise<boolean> {
  return waitFor('the peer closed', () => peer.state === 'closed');
}

/**
 * Connects a viewer, waits for media, then ends it — `server`: as a WHEP DELETE does; `viewer`: the
 * viewer closes its connection. Returns only a weak reference to the server's peer. No closure
 * here may capture the peer: V8 would keep it in the context the other closures share.
 */
async function joinAndLeave(
  factory: PeerFactory,
  source: RtpSource,
  leave: 'server' | 'viewer',
): Promise<WeakRef<Peer>> {
  const viewer = newViewer();
  const { peer, answerSdp } = await factory.createPeer(source, await viewer.offer());
  await viewer.accept(answerSdp);
  await waitFor('media', () => viewer.received.video.length > 5);
  if (leave === 'server') peer.close();
  else await viewer.close();
  await closed(peer);
  return new WeakRef(peer);
}

function collected(refs: WeakRef<Peer>[]): boolean {
  collectGarbage();
  return refs.every((ref) => ref.deref() === undefined);
}

describe('a viewer that left', () => {
  it('is held by nothing the server keeps, whichever side ended it', async () => {
    const { source, factory } = await setup();

    const refs = [
      await joinAndLeave(factory, source, 'server'),
      await joinAndLeave(factory, source, 'viewer'),
    ];

    await waitFor('both peers collected', () => collected(refs));
    expect(factory.connectionCount).toBe(0);
    expect(source.subscriberCount).toBe(0);
  });

  it('is held by nothing the server keeps behind the UDP mux', async () => {
    const { source, factory, udpMux } = await setup({ mux: true });

    const refs = [
      await joinAndLeave(factory, source, 'server'),
      await joinAndLeave(factory, source, 'viewer'),
    ];

    await waitFor('both peers collected', () => collected(refs));
    expect(udpMux!.bindingCount).toBe(0);
    expect(udpMux!.remoteCount).toBe(0);
  });
});

// A session the server ends is over for the viewer at once: it gets a DTLS close_notify and closes
// its DTLS transport, instead of finding out from failing ICE consent checks seconds later.
describe('a session the server ends', () => {
  /** A viewer receiving media, with every state its DTLS transport goes through from then on. */
  async function watchingViewer(factory: PeerFactory, source: RtpSource) {
    const viewer = newViewer();
    const { peer, answerSdp } = await factory.createPeer(source, await viewer.offer());
    await viewer.accept(answerSdp);
    await waitFor('media', () => viewer.received.video.length > 5);
    const dtlsStates: string[] = [];
    for (const transport of viewer.pc.dtlsTransports) {
      transport.onStateChange.subscribe((state) => dtlsStates.push(state));
    }
    return { peer, dtlsStates };
  }

  it.each([
    ['its own ICE socket', false],
    ['the UDP mux', true],
  ])('closes the viewer’s DTLS transport over %s', async (_name, mux) => {
    const { source, factory } = await setup({ mux });
    const { peer, dtlsStates } = await watchingViewer(factory, source);

    await peer.close();

    await waitFor('the viewer’s DTLS transport closed', () => dtlsStates.includes('closed'));
  });

  it('closes every viewer’s DTLS transport when the factory closes, sessions ended first or not', async () => {
    const { source, factory } = await setup();
    const ended = await watchingViewer(factory, source);
    const open = await watchingViewer(factory, source);

    // A server ends its WHEP sessions, then closes the factory: that waits for both goodbyes.
    void ended.peer.close();
    await factory.close();

    expect(ended.peer.state).toBe('closed');
    expect(open.peer.state).toBe('closed');
    await waitFor('both viewers’ DTLS transports closed', () =>
      [ended, open].every(({ dtlsStates }) => dtlsStates.includes('closed')),
    );
  });
});
