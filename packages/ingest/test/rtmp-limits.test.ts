import { connect as connectTls } from 'node:tls';
import { selfSignedCertificate, waitFor } from '@dragon/test-helpers';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeAmf0 } from '../src/rtmp-amf0.js';
import type { RtmpServerOptions } from '../src/rtmp-options.js';
import { RtmpServer } from '../src/rtmp-server.js';
import { RecordingAccounting } from './recording-accounting.js';
import { ffmpegPlay, ffmpegPublish, handshake, RtmpProbe, rawChunk, serverMessages } from './rtmp-bytes.js';

// The RTMP server against peers that break the protocol or its bounds, in process and without FFmpeg:
// publishers and players are FFmpeg's own bytes, replayed (test/fixtures/rtmp).

const servers: RtmpServer[] = [];
const probes: RtmpProbe[] = [];
afterEach(async () => {
  for (const probe of probes.splice(0)) probe.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function startRtmp(options: Partial<RtmpServerOptions> = {}) {
  const lines: { level: string; message: string; object: object }[] = [];
  const record = (level: string) => (object: object, message: string) =>
    lines.push({ level, message, object });
  const logger = {
    error: record('error'),
    warn: record('warn'),
    info: record('info'),
    debug: record('debug'),
  };
  const accounting = new RecordingAccounting();
  const server = await RtmpServer.start(
    { address: '127.0.0.1:0', idleTimeoutMs: 60_000, ...options },
    accounting,
    logger,
  );
  servers.push(server);
  const open = async (localAddress?: string) => {
    const probe = await RtmpProbe.open(server.port, localAddress);
    probes.push(probe);
    return probe;
  };
  const warnings = () => lines.filter((line) => line.level !== 'info').map((line) => line.message);
  return { server, open, warnings, accounting };
}

describe('the RTMP server under hostile peers', () => {
  it('closes each malformed message with one line and keeps its publisher and players', async () => {
    const { server, open, warnings } = await startRtmp({ app: '/live', token: 'secret' });
    const publisher = await open();
    publisher.send(ffmpegPublish());
    await waitFor('the publish', () => server.channels().includes('/live/cam') || undefined);

    // Each of these, after the handshake and before any connect, made node-media-server's engine
    // throw out of the socket's data handler: the process exited.
    const hostile = [
      rawChunk({ type: 20, payload: [0x00] }),
      rawChunk({ type: 20, payload: [0x02, 0x00, 0x07] }),
      rawChunk({ type: 17, payload: [] }),
      rawChunk({ type: 17, payload: [0x00, 0x00] }),
      rawChunk({ chunkStreamId: 2, type: 1, payload: [0x00, 0x01] }),
    ];
    for (const bytes of hostile) {
      const peer = await open();
      peer.send(handshake(), bytes);
      await peer.closed;
    }

    expect(server.channels()).toEqual(['/live/cam']);
    expect(publisher.isClosed).toBe(false);
    const player = await open();
    player.send(ffmpegPlay());
    await waitFor('video at the player', () =>
      serverMessages(player.received()).some((message) => message.type === 9) ? true : undefined,
    );
    const closed = warnings().filter((message) => message.startsWith('connection closed'));
    expect(closed).toHaveLength(hostile.length);
    expect(warnings()).toEqual(closed);
  });

  it('closes a peer whose handshake is not over by the deadline, however slowly it keeps sending', async () => {
    const { open, warnings } = await startRtmp({ handshakeTimeoutMs: 300 });
    const peer = await open();
    peer.send(Buffer.from([3]));
    // One byte of C1 at a time: never silent long enough for the idle timeout.
    const trickle = setInterval(() => peer.send(Buffer.from([0])), 50);
    await peer.closed.finally(() => clearInterval(trickle));
    expect(warnings()).toEqual(['connection closed: no handshake within 300 ms']);
  });

  it('closes a peer that does not publish or play by the deadline', async () => {
    const { open, warnings } = await startRtmp({ startTimeoutMs: 300 });
    const peer = await open();
    peer.send(handshake(), rawChunk({ payload: encodeAmf0(['connect', 1, { app: 'live' }]) }));
    // Connected, and then only acknowledgements: never idle, never publishing.
    const trickle = setInterval(
      () => peer.send(rawChunk({ chunkStreamId: 2, type: 3, payload: [0, 0, 0, 1] })),
      50,
    );
    await peer.closed.finally(() => clearInterval(trickle));
    expect(warnings()).toEqual(['connection closed: no publish or play within 300 ms']);
  });

  it('refuses connections past the per-address and the overall caps, and admits again once one ends', async () => {
    const { server, open, warnings } = await startRtmp({ maxConnections: 3, maxConnectionsPerAddress: 2 });
    const first = await open();
    await open();
    await waitFor('two connections', () => server.stats().connections === 2 || undefined);
    await (await open()).closed;
    const elsewhere = await open('127.0.0.2');
    await waitFor('three connections', () => server.stats().connections === 3 || undefined);
    await (await open('127.0.0.3')).closed;

    first.close();
    await waitFor('two connections', () => server.stats().connections === 2 || undefined);
    const again = await open();
    await waitFor('three connections again', () => server.stats().connections === 3 || undefined);
    expect([first.isClosed, elsewhere.isClosed, again.isClosed]).toEqual([true, false, false]);
    expect(warnings()).toEqual([
      'connection refused: 2 connections from this address are open (rtmp.max_connections_per_address)',
      'connection refused: 3 connections are open (rtmp.max_connections)',
    ]);
  });

  it('holds no more than maxBytesBeforeStart for a peer that has not published, whatever its headers declare', async () => {
    const { server, open, warnings } = await startRtmp({ maxChunkStreams: 64 });
    // Chunk streams each carrying the first 128-byte chunk of a long video message: node-media-server
    // reserved each declared length (36 KB sent, 4 GiB of address space). Declared 16 MiB, the first
    // is refused from its header; declared 16,000 bytes, the fifth goes past the 64 KiB a peer may
    // hold before it publishes.
    for (const length of [0xffffff, 16_000]) {
      const peer = await open();
      peer.send(handshake());
      for (let id = 3; id < 63; id++) {
        peer.send(rawChunk({ chunkStreamId: id, type: 9, length, payload: Buffer.alloc(128) }));
      }
      await peer.closed;
    }
    expect(server.stats()).toEqual({ connections: 0, bufferedBytes: 0 });
    expect(warnings()).toEqual([
      'connection closed: message length: 16777215 is over the limit of 16384',
      'connection closed: buffered message bytes: 80000 is over the limit of 65536',
    ]);
  });

  it('closes a peer that streams without publishing once it has sent maxBytesBeforeStart', async () => {
    const { server, open, warnings } = await startRtmp();
    const peer = await open();
    peer.send(handshake());
    expect(await peer.flood(256 * 1024 * 1024)).toBeLessThan(256 * 1024 * 1024);
    await peer.closed;
    expect(server.stats().connections).toBe(0);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatch(
      /^connection closed: bytes before publish or play: \d+ is over the limit of 65536$/,
    );
  });

  it('counts RTMPS connections against the caps before TLS, and its handshake inside the deadline', async () => {
    const { certFile, keyFile, remove } = selfSignedCertificate();
    try {
      const { server, open, warnings } = await startRtmp({
        tls: { address: '127.0.0.1:0', certFile, keyFile },
        handshakeTimeoutMs: 500,
        maxConnectionsPerAddress: 1,
      });
      // A client that finishes TLS, then trickles RTMP: closed at the deadline counted from accept.
      const secure = connectTls({ host: '127.0.0.1', port: server.tlsPort, rejectUnauthorized: false });
      const closed = new Promise((resolve) => secure.once('close', resolve));
      secure.on('error', () => undefined);
      await new Promise((resolve) => secure.once('secureConnect', resolve));
      secure.write(Buffer.from([3]));
      const trickle = setInterval(() => secure.write(Buffer.from([0])), 50);
      // Meanwhile the address's one slot is taken: a plain connection is refused.
      await (await open()).closed;
      await closed.finally(() => clearInterval(trickle));
      expect(warnings()).toEqual([
        'connection refused: 1 connections from this address are open (rtmp.max_connections_per_address)',
        'connection closed: no handshake within 500 ms',
      ]);
    } finally {
      remove();
    }
  });
});

describe("the RTMP server's session accounting", () => {
  it('reports a publisher and a player with their bytes, and their end', async () => {
    const { server, open, accounting } = await startRtmp({ app: '/live', token: 'secret' });
    const publisher = await open();
    publisher.send(ffmpegPublish());
    await waitFor('the publisher counted', () => accounting.find('publish:/live/cam'));
    const player = await open();
    player.send(ffmpegPlay());
    await waitFor('the player counted', () => accounting.find('play:/live/cam'));
    // Bytes count from the publish and the play on: one more AAC frame on FFmpeg's audio chunk stream.
    publisher.send(
      rawChunk({ chunkStreamId: 4, type: 8, streamId: 1, timestamp: 1300, payload: [0xaf, 1, 0x21, 0x10] }),
    );
    const [published, playing] = await waitFor('bytes both ways', () => {
      const both = [accounting.find('publish:/live/cam'), accounting.find('play:/live/cam')] as const;
      return both[0] && both[1] && both[0].rx > 0 && both[1].tx > 0 ? both : undefined;
    });

    expect(published).toMatchObject({
      reference: 'cam',
      remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
    expect(playing).toMatchObject({ reference: 'cam', remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    player.close();
    await waitFor('the player to end', () => accounting.ended.includes('play:/live/cam') || undefined);
    publisher.close();
    await waitFor('the publisher to end', () => server.channels().length === 0 || undefined);
    expect(accounting.ended).toEqual(['play:/live/cam', 'publish:/live/cam']);
    expect(accounting.sessions.size).toBe(0);
  });

  it('reports nothing of clients from an address the accounting ignores, and still serves them', async () => {
    const accounting = new RecordingAccounting(['127.0.0.1']);
    const quiet = { error() {}, warn() {}, info() {}, debug() {} };
    const server = await RtmpServer.start({ address: '127.0.0.1:0', app: '/live' }, accounting, quiet);
    servers.push(server);
    const publisher = await RtmpProbe.open(server.port);
    probes.push(publisher);
    publisher.send(ffmpegPublish());
    await waitFor('the publish', () => server.channels().includes('/live/cam') || undefined);

    expect(accounting.sessions.size).toBe(0);
  });
});
