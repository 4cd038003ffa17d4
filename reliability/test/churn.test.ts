import { metric, type RunningServer, stopAllServers, waitFor } from '@dragon/test-helpers/server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { joinOverWhep, openFiles, rssBytes, startServerWithProcess } from './helpers.js';

const cycles = Number(process.env.RELIABILITY_CHURN_CYCLES ?? 500);
const batch = 10;
let server: RunningServer;

beforeAll(async () => {
  server = await startServerWithProcess('churn', {
    CORE_WEBRTC_MAX_OFFERS_PER_MINUTE: '0',
    CORE_WEBRTC_DISCONNECT_TIMEOUT_SECONDS: '8',
    // Half the viewers vanish and count until reaped (8 s); how many are waiting then depends on
    // how fast the machine joins, and the viewer limit is not what this test is about.
    CORE_WEBRTC_MAX_VIEWERS: '0',
  });
});
afterAll(stopAllServers);

const viewers = () => metric(server, 'dragon_process_viewers', 'process_id="churn"');

it(`leaves no peer, socket or file behind after ${cycles} WHEP join/leave cycles`, async () => {
  const pid = server.child.pid!;
  // One warm-up cycle so lazily opened things (certificates, code) are in the baseline.
  await waitFor('a first viewer', async () => {
    try {
      const { viewer, location } = await joinOverWhep(server, 'churn');
      await viewer.connected();
      await server.api(location, { method: 'DELETE' });
      await viewer.close();
      return true;
    } catch {
      return undefined; // 409 until media flows
    }
  });
  await waitFor('no viewers', async () => ((await viewers()) === 0 ? true : undefined));
  const before = openFiles(pid);
  const rssBefore = rssBytes(pid);

  let joined = 0;
  for (let done = 0; done < cycles; done += batch) {
    const round = await Promise.all(Array.from({ length: batch }, () => joinOverWhep(server, 'churn')));
    joined += (await Promise.all(round.map(({ viewer }) => viewer.connected()))).filter(Boolean).length;
    await Promise.all(
      round.map(async ({ viewer, location }, index) => {
        // Even ones say goodbye with DELETE; odd ones just vanish and must be reaped.
        if (index % 2 === 0) expect((await server.api(location, { method: 'DELETE' })).status).toBe(200);
        else await viewer.vanish();
        await viewer.close();
      }),
    );
  }
  expect(joined).toBe(cycles);

  await waitFor(
    'every vanished viewer reaped',
    async () => ((await viewers()) === 0 ? true : undefined),
    45_000,
  );
  // A closed peer says goodbye (a DTLS close_notify) before its ICE sockets close: wait for them.
  const after = await waitFor('the sockets and files of the baseline', () => {
    const now = openFiles(pid);
    return now.udp === before.udp && now.files === before.files ? now : undefined;
  });
  // TCP: only the HTTP keep-alive connections of this test's client may come and go.
  expect(after.tcpOrOther).toBeLessThanOrEqual(before.tcpOrOther + batch * 2);
  // Bounded: measured growth is ~0.3 MiB per cycle while werift's closed peers await their timers,
  // most of it returned to the JS heap within 40 s; a real per-viewer leak would pass this bound.
  expect(rssBytes(pid) - rssBefore).toBeLessThan(cycles * 1024 * 1024);
});
