import { type RunningServer, stopAllServers, waitFor } from '@dragon/test-helpers/server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ffmpegChildren, joinOverWhep, startServerWithProcess } from './helpers.js';

let server: RunningServer;

beforeAll(async () => {
  server = await startServerWithProcess('cam', {}, { reconnect_delay_seconds: 1 });
});
afterAll(stopAllServers);

it('keeps a watching viewer playing, with continuous sequence numbers, when FFmpeg is killed -9', async () => {
  const { viewer } = await waitFor('a viewer', async () =>
    joinOverWhep(server, 'cam').catch(() => undefined),
  );
  expect(await viewer.connected()).toBe(true);
  await waitFor('media before the crash', () => (viewer.received.video.length > 50 ? true : undefined));
  const [ffmpeg] = ffmpegChildren(server.child.pid!);
  expect(ffmpeg).toBeDefined();
  process.kill(ffmpeg!, 'SIGKILL');
  const receivedAtCrash = viewer.received.video.length;

  await waitFor('a new FFmpeg', () => {
    const now = ffmpegChildren(server.child.pid!);
    return now.length === 1 && now[0] !== ffmpeg ? true : undefined;
  });
  await waitFor('media after the crash', () =>
    viewer.received.video.length > receivedAtCrash + 100 ? true : undefined,
  );
  expect((await server.json<{ exec: string }>('/api/v3/process/cam/state')).exec).toBe('running');

  // Same connection, never renegotiated; one SSRC and no jump in sequence numbers across the crash.
  expect(viewer.pc.connectionState).toBe('connected');
  expect(viewer.pc.signalingState).toBe('stable');
  const packets = viewer.received.video;
  expect(new Set(packets.map((packet) => packet.ssrc)).size).toBe(1);
  const jumps = packets
    .slice(1)
    .filter((packet, index) => ((packets[index]!.seq + 1) & 0xffff) !== packet.seq);
  expect(jumps).toEqual([]);
  await viewer.close();
});
