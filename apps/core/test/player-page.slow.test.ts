import {
  freePort,
  jsonBody,
  testPatternInput as patternInput,
  type RunningServer,
  startServer,
  stopAllServers,
  waitFor,
} from '@dragon/test-helpers/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './browser.js';
import { type FFmpegChild, runFFmpeg, stopFFmpegs, testPatternInput } from './ffmpeg-child.js';

// The player page as a user meets it, in headless Chromium against the built server: what the page
// says when there is nothing to play, and when the input stalls under a connected viewer.

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  server = await startServer();
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stopFFmpegs();
  await stopAllServers();
});

/** What a test keeps on the page's window: status lines shown, DTLS transport states seen. */
type GoodbyeWatch = Window & {
  dragonPlayer: { peerConnection: RTCPeerConnection | null };
  shown: string[];
  dtlsStates: string[];
};

/** The player's own view: its state, its status line, and the document's loading state. */
async function player(page: Page): Promise<{ state: string; text: string; readyState: string }> {
  return page.evaluate(() => ({
    state: (window as unknown as { dragonPlayer?: { state: string } }).dragonPlayer?.state ?? '',
    text: document.getElementById('status')?.textContent ?? '',
    readyState: document.readyState,
  }));
}

async function createProcess(
  id: string,
  input: Record<string, unknown>,
  autostart: boolean,
  on: RunningServer = server,
): Promise<void> {
  await on.json(
    '/api/v3/process',
    jsonBody({
      id,
      input: [{ id: 'in', ...input }],
      output: [],
      autostart,
      reconnect: true,
      reconnect_delay_seconds: 1,
      webrtc: { enabled: true },
    }),
  );
}

describe('the player page', () => {
  it('finishes loading when there is nothing to play', async () => {
    await createProcess(
      'idle',
      { address: 'testsrc2=size=320x240:rate=25', options: ['-f', 'lavfi'] },
      false,
    );
    const page = await browser.newPage();
    try {
      await page.goto(`${server.baseUrl}/player/idle`, { waitUntil: 'domcontentloaded' });
      // A media element holding a stream without a frame delays the load event: a page that gave
      // it one at once would never finish loading (the browser's spinner turning for ever).
      const shown = await waitFor(
        'the player says the process is stopped and the page has loaded',
        async () => {
          const now = await player(page);
          return now.state === 'stopped' && now.readyState === 'complete' ? now : undefined;
        },
        30_000,
      );
      expect(shown.text).toBe('stopped');
    } finally {
      await page.close();
    }
  }, 60_000);

  it('does not claim audio while the input is stalled', async () => {
    const port = await freePort('udp');
    await createProcess('stall', { address: `udp://127.0.0.1:${port}`, options: [] }, true);
    let publisher: FFmpegChild | undefined = runFFmpeg([
      ...testPatternInput(),
      ...['-f', 'mpegts', `udp://127.0.0.1:${port}?pkt_size=1316`],
    ]);
    const page = await browser.newPage();
    try {
      await page.goto(`${server.baseUrl}/player/stall`, { waitUntil: 'domcontentloaded' });
      await waitFor(
        'the player plays video with audio',
        async () => {
          const now = await player(page);
          return now.text.startsWith('playing') && now.text.endsWith('with audio') ? now : undefined;
        },
        120_000,
      );
      // Every status line the page shows from now on.
      await page.evaluate(() => {
        const status = document.getElementById('status')!;
        const shown: string[] = [];
        (window as unknown as { shown: string[] }).shown = shown;
        new MutationObserver(() => shown.push(status.textContent ?? '')).observe(status, {
          childList: true,
          characterData: true,
          subtree: true,
        });
      });
      publisher.child.kill('SIGKILL');
      await publisher.exited;
      publisher = undefined;
      // The server's FFmpeg waits on its UDP input: the viewer stays connected and nothing arrives.
      // Chromium conceals the missing audio for seconds (totalSamplesReceived counts that too).
      const frozen = await waitFor(
        'the player has said "frozen" at five updates',
        async () => {
          const shown = await page.evaluate(() => (window as unknown as { shown: string[] }).shown);
          const lines = shown.filter((text) => text.startsWith('frozen'));
          return lines.length >= 5 ? lines : undefined;
        },
        60_000,
      );
      // The first updates may straddle the last packets (audio trails video through two muxers);
      // after them, anything called audio is the browser's concealment.
      expect(frozen.slice(2).filter((text) => text.includes('with audio'))).toEqual([]);
    } finally {
      if (publisher) publisher.child.kill('SIGKILL');
      await page.close();
    }
  }, 240_000);

  it('starts a new session by itself after the server crashed and came back, before the connection is called failed', async () => {
    const address = `127.0.0.1:${await freePort('tcp')}`;
    const own = await startServer({ env: { CORE_ADDRESS: address } });
    await createProcess('again', patternInput('160x120'), true, own);
    type Watched = Window & {
      dragonPlayer: { peerConnection: RTCPeerConnection | null; state: string };
      first?: RTCPeerConnection;
      firstStates?: string[];
    };
    const page = await browser.newPage();
    try {
      await page.goto(`${own.baseUrl}/player/again`, { waitUntil: 'domcontentloaded' });
      await waitFor(
        'the player plays',
        async () => ((await player(page)).state === 'playing' ? true : undefined),
        120_000,
      );
      // Every state the first connection goes through from now on (close() itself fires none).
      await page.evaluate(() => {
        const w = window as unknown as Watched;
        const first = w.dragonPlayer.peerConnection!;
        w.first = first;
        w.firstStates = [];
        first.addEventListener('connectionstatechange', () => w.firstStates!.push(first.connectionState));
      });
      // A crash says no goodbye: the player notices the connection disconnected.
      await own.kill();
      await startServer({ dataDir: own.dataDir, env: { CORE_ADDRESS: address } });
      await waitFor(
        'a new session playing',
        async () => {
          const now = await page.evaluate(() => {
            const w = window as unknown as Watched;
            const pc = w.dragonPlayer.peerConnection;
            return { fresh: pc !== null && pc !== w.first, state: w.dragonPlayer.state };
          });
          return now.fresh && now.state === 'playing' ? true : undefined;
        },
        120_000,
      );
      const states = await page.evaluate(() => (window as unknown as Watched).firstStates);
      expect(states).toContain('disconnected');
      expect(states).not.toContain('failed');
    } finally {
      await page.close();
    }
  });

  it('reconnects at the server’s goodbye, retries while it is away, and plays again once it is back', async () => {
    const address = `127.0.0.1:${await freePort('tcp')}`;
    const own = await startServer({ env: { CORE_ADDRESS: address } });
    await createProcess('away', patternInput('160x120'), true, own);
    const page = await browser.newPage();
    // Offers that reached no server: the player's retries while the server is away.
    let unanswered = 0;
    page.on('requestfailed', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/whep')) unanswered += 1;
    });
    try {
      await page.goto(`${own.baseUrl}/player/away`, { waitUntil: 'domcontentloaded' });
      await waitFor(
        'the player plays',
        async () => ((await player(page)).state === 'playing' ? true : undefined),
        120_000,
      );
      // Every status line from now on, and every state of the session's DTLS transport.
      await page.evaluate(() => {
        const w = window as unknown as GoodbyeWatch;
        const status = document.getElementById('status')!;
        w.shown = [];
        new MutationObserver(() => w.shown.push(status.textContent ?? '')).observe(status, {
          childList: true,
          characterData: true,
          subtree: true,
        });
        w.dtlsStates = [];
        const dtls = w.dragonPlayer.peerConnection!.getReceivers()[0]!.transport!;
        dtls.addEventListener('statechange', () => w.dtlsStates.push(dtls.state));
      });
      // A graceful stop: the server ends every session with a DTLS close_notify.
      expect(await own.stop()).toBe(0);
      // Away for longer than several retries: the player must still be trying, and say so.
      await waitFor('four offers without an answer', () => unanswered >= 4, 120_000);
      const away = await player(page);
      expect(away.state).toBe('unreachable');
      expect(away.text).toMatch(/^server unreachable · retrying in \d+ s$/);
      const seen = await page.evaluate(() => {
        const w = window as unknown as GoodbyeWatch;
        return { shown: w.shown, dtlsStates: w.dtlsStates };
      });
      expect(seen.dtlsStates).toContain('closed');
      expect(seen.shown[0]).toBe('the server ended the session, reconnecting…');
      await startServer({ dataDir: own.dataDir, env: { CORE_ADDRESS: address } });
      await waitFor(
        'the player plays again by itself',
        async () => ((await player(page)).state === 'playing' ? true : undefined),
        120_000,
      );
    } finally {
      await page.close();
    }
  }, 300_000);
});
