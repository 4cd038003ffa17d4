import { createSocket, Socket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { waitFor } from '@dragon/test-helpers';
import { afterEach, describe, expect, it } from 'vitest';
import { RTCPeerConnection, UdpTransport } from 'werift';
import { weriftCheckedVersion } from './checked-version.js';
import { withoutDefaultStunServer } from './default-stun.js';
import { closeNotifyOf, sendCloseNotify } from './dtls-close-notify.js';
import {
  closeUnadvertisedSockets,
  consentResponses,
  dropIceSockets,
  filterIncoming,
  passiveTcpProtocols,
} from './ice-internals.js';
import { selectedTarget } from './selected-transport.js';
import { recordSenderReport, senderCname } from './sender-internals.js';
import { srtpSendKeys, useKeyObjectsForSrtp } from './srtp-keys.js';

// Each test here pins one werift shape this folder (or ice/udp-mux.ts) relies on, on real werift
// peers: a werift upgrade that moves a field fails here, not silently in production.

const peers: RTCPeerConnection[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((pc) => pc.close().catch(() => undefined)));
});

function loopbackPeer(options: { tcp?: boolean } = {}): RTCPeerConnection {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceFilterCandidatePair: (pair) => pair.remoteCandidate.host === '127.0.0.1',
    ...(options.tcp ? { iceUseTcp: true, iceTcpPassive: true } : {}),
  });
  peers.push(pc);
  return pc;
}

function gathered(pc: RTCPeerConnection): Promise<void> {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.iceGatheringStateChange.subscribe((state) => state === 'complete' && resolve());
  });
}

function connected(pc: RTCPeerConnection): Promise<void> {
  return new Promise((resolve) => {
    if (pc.connectionState === 'connected') return resolve();
    pc.connectionStateChange.subscribe((state) => state === 'connected' && resolve());
  });
}

/** Whether a UDP socket can bind `port` on 127.0.0.1 (false while another socket holds it). */
async function bindable(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  const bound = await new Promise<boolean>((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => resolve(true));
  });
  socket.close();
  return bound;
}

/** Two werift peers on loopback, connected (ICE + DTLS, so SRTP keys exist). */
async function connectedPair(
  beforeConnecting: (offerer: RTCPeerConnection, answerer: RTCPeerConnection) => void = () => undefined,
): Promise<[RTCPeerConnection, RTCPeerConnection]> {
  const offerer = loopbackPeer();
  const answerer = loopbackPeer();
  offerer.addTransceiver('video', { direction: 'sendonly' });
  withoutDefaultStunServer(offerer);
  await offerer.setLocalDescription(await offerer.createOffer());
  await gathered(offerer);
  await answerer.setRemoteDescription(offerer.localDescription!);
  withoutDefaultStunServer(answerer);
  await answerer.setLocalDescription(await answerer.createAnswer());
  await gathered(answerer);
  beforeConnecting(offerer, answerer);
  await offerer.setRemoteDescription(answerer.localDescription!);
  await Promise.all([connected(offerer), connected(answerer)]);
  return [offerer, answerer];
}

/** werift's own package.json is not exported: it is found above the module `werift` resolves to. */
function installedWerift(): { name?: string; version?: string } {
  let dir = dirname(createRequire(import.meta.url).resolve('werift'));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'werift') return manifest;
    }
    if (dirname(dir) === dir) return {};
    dir = dirname(dir);
  }
}

describe('the werift these touches were checked against', () => {
  it('is the version the package pins and the one installed', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const installed = installedWerift();

    expect(manifest.dependencies.werift).toBe(weriftCheckedVersion);
    expect(installed).toMatchObject({ name: 'werift', version: weriftCheckedVersion });
  });
});

describe('werift shapes', () => {
  it('still defaults to a public STUN server, which withoutDefaultStunServer removes', async () => {
    const pc = loopbackPeer();
    pc.addTransceiver('video', { direction: 'recvonly' });
    const connection = pc.iceTransports[0]?.connection as unknown as {
      options: object;
      stunServer: unknown;
    };

    expect(connection.options).toBeTypeOf('object');
    expect(connection.stunServer).toEqual(['stun.l.google.com', 19302]);
    withoutDefaultStunServer(pc);
    expect(connection.stunServer).toBeUndefined();
  });

  it('has SRTP keys as Buffers in the DTLS transports of a connected peer, which become KeyObjects', async () => {
    const [offerer] = await connectedPair();

    expect(useKeyObjectsForSrtp(offerer)).toBeGreaterThanOrEqual(8);
    // Swapped once: nothing is left to swap.
    expect(useKeyObjectsForSrtp(offerer)).toBe(0);
  });

  it('counts STUN responses on the nominated pair of a connected peer', async () => {
    const [offerer, answerer] = await connectedPair();

    // The controlling side nominated a pair by a check that was answered.
    expect(consentResponses(offerer)).toBeGreaterThanOrEqual(1);
    expect(consentResponses(answerer)).toBeTypeOf('number');
  });

  it('keeps passive ICE-TCP listeners in the ICE protocols, each with its server', async () => {
    const pc = loopbackPeer({ tcp: true });
    pc.addTransceiver('video', { direction: 'recvonly' });
    withoutDefaultStunServer(pc);
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);

    const passive = passiveTcpProtocols(pc);
    expect(passive.length).toBeGreaterThanOrEqual(1);
    expect(passive[0]!.server.close).toBeTypeOf('function');
    expect(passive[0]!.registerSocket).toBeTypeOf('function');
  });

  it('gathers a UDP socket per additional host address, which closeUnadvertisedSockets closes', async () => {
    // The socket for 127.0.0.2 is bound to the interface address (127.0.0.1), as werift binds
    // every host candidate's socket there when an interface is given.
    const pc = new RTCPeerConnection({
      iceServers: [],
      iceUseIpv6: false,
      iceInterfaceAddresses: { udp4: '127.0.0.1' },
      iceAdditionalHostAddresses: ['127.0.0.1', '127.0.0.2'],
    });
    peers.push(pc);
    pc.addTransceiver('video', { direction: 'recvonly' });
    withoutDefaultStunServer(pc);
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const portOf = (host: string) =>
      Number(
        new RegExp(` ${host.replaceAll('.', '\\.')} (\\d+) typ host`).exec(pc.localDescription!.sdp)?.[1],
      );
    const kept = portOf('127.0.0.1');
    const unadvertised = portOf('127.0.0.2');
    expect(await bindable(unadvertised)).toBe(false);

    expect(closeUnadvertisedSockets(pc, new Set(['127.0.0.1']))).toBeGreaterThanOrEqual(1);

    await waitFor('the unadvertised socket to close', () => bindable(unadvertised));
    expect(await bindable(kept)).toBe(false);
    expect(closeUnadvertisedSockets(pc, new Set(['127.0.0.1']))).toBe(0);
  });

  it('closes ICE sockets through the protocols: the ports are free again', async () => {
    const [, answerer] = await connectedPair();
    const port = Number(/ 127\.0\.0\.1 (\d+) typ host/.exec(answerer.localDescription!.sdp)?.[1]);

    expect(await bindable(port)).toBe(false);
    await dropIceSockets(answerer);
    expect(await bindable(port)).toBe(true);
  });

  it('holds the SRTP sending keys and profile in the local context, as Buffers or KeyObjects', async () => {
    const [offerer] = await connectedPair();

    const keys = srtpSendKeys(offerer);
    expect(keys?.profile === 1 || keys?.profile === 7).toBe(true);
    expect(keys?.key.length).toBe(16);
    expect(keys?.salt.length).toBeGreaterThanOrEqual(12);
    useKeyObjectsForSrtp(offerer);
    expect(srtpSendKeys(offerer)).toEqual(keys);
  });

  it('sends media of a connected peer from the nominated pair’s UDP socket to the viewer’s address', async () => {
    const [offerer, answerer] = await connectedPair();
    const answererPort = Number(/ 127\.0\.0\.1 (\d+) typ host/.exec(answerer.localDescription!.sdp)?.[1]);
    const offererPort = Number(/ 127\.0\.0\.1 (\d+) typ host/.exec(offerer.localDescription!.sdp)?.[1]);

    const target = selectedTarget(offerer);
    expect(target.type).toBe('udp');
    if (target.type !== 'udp') return;
    expect(target.socket).toBeInstanceOf(Socket);
    expect(target.socket.address().port).toBe(offererPort);
    expect([target.host, target.port]).toEqual(['127.0.0.1', answererPort]);
  });

  it('keeps the CNAME and Sender Report counters in the RTCRtpSender, read by getStats', async () => {
    const [offerer] = await connectedPair();
    const sender = offerer.getSenders()[0]!;

    expect(senderCname(sender)).toMatch(/\S+/);
    recordSenderReport(
      sender,
      { ntpTimestamp: 1n << 32n, rtpTimestamp: 90, packetCount: 7, octetCount: 700 },
      1,
      2,
    );
    const stats = [...(await offerer.getStats()).values()].find((entry) => entry.type === 'outbound-rtp');
    expect(stats).toMatchObject({ packetsSent: 7, bytesSent: 700 });
  });

  it('hands every UDP datagram a peer receives to the filter of filterIncoming first', async () => {
    let filtered = 0;
    await connectedPair((_offerer, answerer) => {
      expect(
        filterIncoming(answerer, () => {
          filtered++;
          return true;
        }),
      ).toBeGreaterThan(0);
    });

    // ICE checks and the DTLS handshake all went through it.
    expect(filtered).toBeGreaterThan(2);
  });

  it('builds a close_notify from a connected DTLS socket, on which the other side closes its transport', async () => {
    const [offerer, answerer] = await connectedPair();
    const states: string[] = [];
    offerer.dtlsTransports[0]!.onStateChange.subscribe((state) => states.push(state));

    expect(await sendCloseNotify(answerer)).toBe(1);

    await waitFor('the other side’s DTLS transport closed', () => states.includes('closed'));
  });

  it('sends no close_notify before the DTLS handshake', async () => {
    const pc = loopbackPeer();
    pc.addTransceiver('video', { direction: 'recvonly' });

    expect(await sendCloseNotify(pc)).toBe(0);
    expect(closeNotifyOf(pc)).toBeUndefined();
  });

  it('exposes UdpTransport.init, the factory the UDP mux wraps (ice/udp-mux.ts)', () => {
    expect((UdpTransport as unknown as { init: unknown }).init).toBeTypeOf('function');
  });
});
