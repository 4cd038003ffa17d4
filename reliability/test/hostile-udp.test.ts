import { createSocket } from 'node:dgram';
import { type RunningServer, stopAllServers, waitFor } from '@dragon/test-helpers/server';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { joinOverWhep, startServerWithProcess } from './helpers.js';

const seed = 20261125;
let server: RunningServer;

beforeAll(async () => {
  server = await startServerWithProcess('target');
});
afterAll(stopAllServers);

/** Datagrams that look like RTP, RTCP or STUN (valid headers, random or cut-off bodies) and noise. */
const datagram = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 1500 }),
  fc
    .tuple(fc.integer({ min: 0, max: 127 }), fc.uint8Array({ minLength: 0, maxLength: 1300 }), fc.boolean())
    .map(([payloadType, body, marker]) =>
      Buffer.concat([Buffer.from([0x80, (marker ? 0x80 : 0) | payloadType]), body]),
    ),
  fc
    .tuple(
      fc.constantFrom(200, 201, 202, 203, 204, 205, 206),
      fc.uint8Array({ minLength: 0, maxLength: 200 }),
    )
    .map(([packetType, body]) => Buffer.concat([Buffer.from([0x81, packetType, 0x00, 0x07]), body])),
  fc
    .tuple(fc.constantFrom(0x0001, 0x0101, 0x0111, 0x0011), fc.uint8Array({ minLength: 0, maxLength: 120 }))
    .map(([type, body]) => {
      const header = Buffer.alloc(20);
      header.writeUInt16BE(type, 0);
      header.writeUInt16BE(body.length, 2);
      header.writeUInt32BE(0x2112a442, 4);
      return Buffer.concat([header, body]);
    }),
);

it('survives random RTP, RTCP and STUN datagrams at the source and ICE ports, and keeps playing', async () => {
  const { command } = await server.json<{ command: string[] }>('/api/v3/process/target/state');
  const sourcePorts = command.flatMap((argument) => {
    const match = /^udp:\/\/127\.0\.0\.1:(\d+)/.exec(argument);
    return match ? [Number(match[1])] : [];
  });
  expect(sourcePorts.length).toBe(2);
  const { viewer } = await waitFor('a viewer', async () =>
    joinOverWhep(server, 'target').catch(() => undefined),
  );
  expect(await viewer.connected()).toBe(true);
  const icePorts = [
    ...viewer.pc.remoteDescription!.sdp.matchAll(/ udp \d+ 127\.0\.0\.1 (\d+) typ host/g),
  ].map((match) => Number(match[1]));
  expect(icePorts.length).toBeGreaterThan(0);
  const stored = await server.json('/api/v3/process?filter=config,metadata');

  const attacker = createSocket('udp4');
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...sourcePorts, ...icePorts), datagram, async (port, bytes) => {
      await new Promise<void>((resolve) => attacker.send(bytes, port, '127.0.0.1', () => resolve()));
    }),
    { seed, numRuns: 3000 },
  );
  attacker.close();

  // Still alive, still the same process, and the viewer still gets media on the same connection.
  expect((await server.api('/ping')).status).toBe(200);
  expect(server.child.exitCode).toBeNull();
  expect((await server.json<{ exec: string }>('/api/v3/process/target/state')).exec).toBe('running');
  const seen = viewer.received.video.length;
  await waitFor('media after the noise', () => (viewer.received.video.length > seen + 50 ? true : undefined));
  expect(viewer.pc.connectionState).toBe('connected');
  expect(await server.json('/api/v3/process?filter=config,metadata')).toEqual(stored);
  await viewer.close();
});
