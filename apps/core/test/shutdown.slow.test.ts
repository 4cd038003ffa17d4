import {
  jsonBody,
  type RunningServer,
  startServer,
  stopAllServers,
  testPatternProcess,
  waitFor,
} from '@dragon/test-helpers/server';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, playInPage, startOtherOrigin } from './browser.js';
import { offerWhep } from './cluster-harness.js';

// A server stopped gracefully (SIGTERM) says goodbye: every viewer gets a DTLS close_notify and
// knows at once that its session is over, rather than after its ICE consent checks fail (a browser
// calls the connection failed about 16 s after the last answer). The deadline below is a bound
// far under that, not a measurement: without the goodbye neither viewer ever sees the event.

/** The event must come well before ICE consent could tell the viewer anything. */
const goodbyeDeadlineMs = 8000;

let browser: Browser;
let otherOrigin: Awaited<ReturnType<typeof startOtherOrigin>>;

beforeAll(async () => {
  browser = await launchChromium();
  otherOrigin = await startOtherOrigin();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await otherOrigin?.close();
  await stopAllServers();
});

async function serverWithPattern(): Promise<RunningServer> {
  const server = await startServer();
  await server.json('/api/v3/process', jsonBody(testPatternProcess('cam', { webrtc: { enabled: true } })));
  return server;
}

describe('a graceful stop', () => {
  it('closes a werift viewer’s DTLS transport', async () => {
    const server = await serverWithPattern();
    // 409 until the process has media: the documented retry.
    const offered = await waitFor(
      'an answer',
      async () => {
        const attempt = await offerWhep(server, 'cam');
        return attempt.status === 409 ? undefined : attempt;
      },
      120_000,
    );
    try {
      expect(offered.status).toBe(201);
      await waitFor('media', () => offered.videoPackets > 10, 120_000);
      const states: string[] = [];
      for (const transport of offered.viewer.pc.dtlsTransports) {
        transport.onStateChange.subscribe((state) => states.push(state));
      }

      const stopped = server.stop();
      await waitFor('the viewer’s DTLS transport closed', () => states.includes('closed'), goodbyeDeadlineMs);

      expect(await stopped).toBe(0);
    } finally {
      await offered.close();
    }
  }, 300_000);

  it('closes a browser’s DTLS transport', async () => {
    const server = await serverWithPattern();
    const page = await browser.newPage();
    try {
      await page.goto(otherOrigin.url);
      const played = await waitFor(
        'a playing WHEP session',
        async () => {
          const result = await playInPage(page, `${server.baseUrl}/api/v3/process/cam/whep`);
          return result.status === 409 ? undefined : result;
        },
        120_000,
      );
      expect(played.status).toBe(201);
      const dtlsState = () =>
        page.evaluate(() => {
          const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
          return pc.getReceivers()[0]?.transport?.state ?? 'none';
        });
      expect(await dtlsState()).toBe('connected');

      const stopped = server.stop();
      await waitFor(
        'the browser’s DTLS transport closed',
        async () => ((await dtlsState()) === 'closed' ? true : undefined),
        goodbyeDeadlineMs,
      );

      expect(await stopped).toBe(0);
    } finally {
      await page.close();
    }
  }, 300_000);
});
