import { type RunningServer, stopAllServers, waitFor } from '@dragon/test-helpers/server';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  ffmpegPlay,
  ffmpegPublish,
  handshake,
  RtmpProbe,
  rawChunk,
  serverMessages,
} from '../../packages/ingest/test/rtmp-bytes.js';
import { joinOverWhep, rssBytes, startServerWithProcess, virtualBytes } from './helpers.js';

// Anyone who reaches the RTMP port, before any token is asked for: malformed messages, declarations of
// huge messages, endless bytes without a publish, slow handshakes, more connections than allowed.
// The built server, with a WebRTC viewer and an RTMP publisher that must not notice.

const seed = 20261207;
const probes: RtmpProbe[] = [];
let server: RunningServer;
let rtmpPort = 0;

beforeAll(async () => {
  server = await startServerWithProcess('watched', {
    CORE_RTMP_ENABLE: 'true',
    CORE_RTMP_ADDRESS: '127.0.0.1:0',
    CORE_RTMP_HANDSHAKE_TIMEOUT_SEC: '1',
    CORE_RTMP_START_TIMEOUT_SEC: '2',
    CORE_RTMP_MAX_CONNECTIONS: '40',
    CORE_RTMP_MAX_CONNECTIONS_PER_ADDRESS: '20',
  });
  rtmpPort = await waitFor('the RTMP port', () => {
    const line = server.logLines
      .map((entry) => JSON.parse(entry) as { msg?: string; address?: string })
      .find((entry) => entry.msg === 'RTMP server listening');
    return line?.address ? Number(line.address.slice(line.address.lastIndexOf(':') + 1)) : undefined;
  });
});
afterAll(async () => {
  for (const probe of probes.splice(0)) probe.close();
  await stopAllServers();
});

async function open(): Promise<RtmpProbe> {
  const probe = await RtmpProbe.open(rtmpPort);
  probes.push(probe);
  return probe;
}

/** Sends `bytes` on a new connection and closes our side: the server reads them all the same. */
async function sendAndLeave(bytes: Buffer): Promise<void> {
  const probe = await open();
  await new Promise<void>((resolve) => probe.socket.end(bytes, () => resolve()));
  await probe.closed;
}

function logged(message: RegExp): number {
  return server.logLines.filter((line) => message.test((JSON.parse(line) as { msg?: string }).msg ?? ''))
    .length;
}

it('survives malformed RTMP messages from anyone: the API, a WebRTC viewer and an RTMP publisher carry on', async () => {
  const { viewer } = await waitFor('a viewer', () => joinOverWhep(server, 'watched').catch(() => undefined));
  expect(await viewer.connected()).toBe(true);
  const publisher = await open();
  publisher.send(ffmpegPublish());
  await waitFor(
    'the publish',
    async () =>
      (await server.json<{ name: string }[]>('/api/v3/rtmp')).some(
        (channel) => channel.name === '/live/cam',
      ) || undefined,
  );

  // Each of these, sent after the handshake with no connect or token, ended the process on cc9f7d8.
  for (const bytes of [
    rawChunk({ type: 20, payload: [0x00] }),
    rawChunk({ type: 20, payload: [0x02, 0x00] }),
    rawChunk({ type: 17, payload: [] }),
    rawChunk({ type: 17, payload: [0x00] }),
    rawChunk({ type: 17, payload: [0x00, 0x00, 0x3f] }),
  ]) {
    await sendAndLeave(Buffer.concat([handshake(), bytes]));
    expect((await server.api('/ping')).status).toBe(200);
  }
  // And whatever else a chunk may say: random headers and payloads after FFmpeg's own connect.
  const connect = ffmpegPublish().subarray(0, 1 + 2 * 1536 + 400);
  const chunk = fc.record({
    format: fc.integer({ min: 0, max: 3 }),
    chunkStreamId: fc.constantFrom(2, 3, 4, 6, 8, 100, 1000),
    type: fc.integer({ min: 0, max: 25 }),
    length: fc.oneof(fc.nat({ max: 200 }), fc.constant(0xffffff)),
    timestamp: fc.oneof(fc.nat({ max: 100 }), fc.constant(0xffffff)),
    payload: fc.uint8Array({ maxLength: 160 }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(chunk, { minLength: 1, maxLength: 8 }), async (chunks) => {
      await sendAndLeave(Buffer.concat([connect, ...chunks.map(rawChunk)]));
    }),
    { seed, numRuns: 150 },
  );

  expect(server.child.exitCode).toBe(null);
  expect((await server.api('/ping')).status).toBe(200);
  const seen = viewer.received.video.length;
  await waitFor('more video at the WebRTC viewer', () => viewer.received.video.length > seen + 50);
  expect(publisher.isClosed).toBe(false);
  const player = await open();
  player.send(ffmpegPlay());
  await waitFor(
    'the published video at an RTMP player',
    () => serverMessages(player.received()).some((message) => message.type === 9) || undefined,
  );
  player.close();
  await viewer.close();
});

it('holds little for clients that have not published, whatever they declare or send', async () => {
  const pid = server.child.pid!;
  const virtualBefore = virtualBytes(pid);
  const residentBefore = rssBytes(pid);

  // 36 KB: 250 chunk streams, each opening a 16 MiB video message with one 128-byte chunk.
  // node-media-server reserved each declared length: 4 GiB of address space.
  const declarations = Array.from({ length: 250 }, (_, index) =>
    rawChunk({ chunkStreamId: 3 + index, type: 9, length: 0xffffff, payload: Buffer.alloc(128) }),
  );
  await sendAndLeave(Buffer.concat([handshake(), ...declarations]));
  expect(virtualBytes(pid) - virtualBefore).toBeLessThan(512 * 1024 * 1024);

  // 256 MiB offered without a publish: the server closes the connection long before.
  const probe = await open();
  probe.send(handshake());
  const offered = await probe.flood(256 * 1024 * 1024);
  await probe.closed;
  expect(offered).toBeLessThan(256 * 1024 * 1024);
  expect(rssBytes(pid) - residentBefore).toBeLessThan(128 * 1024 * 1024);
  // The line reaches the server's stdout after the socket closed.
  await waitFor(
    'the line saying why',
    () => logged(/^connection closed: bytes before publish or play/) > 0 || undefined,
  );
});

it('closes slow clients at their deadlines and refuses connections beyond the caps', async () => {
  const deadlinesBefore = logged(/no handshake within 1000 ms/);
  // 30 connections from one address, each sending a byte every 200 ms: never idle, never handshaken.
  const slow = await Promise.all(Array.from({ length: 30 }, () => open()));
  for (const probe of slow) probe.send(Buffer.from([3]));
  const trickle = setInterval(() => {
    for (const probe of slow) probe.send(Buffer.from([0]));
  }, 200);
  try {
    await waitFor(
      'every slow connection closed',
      () => slow.every((probe) => probe.isClosed) || undefined,
      60_000,
    );
  } finally {
    clearInterval(trickle);
  }
  await waitFor(
    'a line per kind of closing',
    () =>
      (logged(/no handshake within 1000 ms/) > deadlinesBefore &&
        logged(/^connection refused: 20 connections from this address/) > 0) ||
      undefined,
  );

  // The slots are free again: FFmpeg's play is admitted and gets the stream.
  const player = await open();
  player.send(ffmpegPlay());
  await waitFor(
    'the published video at an RTMP player',
    () => serverMessages(player.received()).some((message) => message.type === 9) || undefined,
  );
});
