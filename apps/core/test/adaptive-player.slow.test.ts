import { type CappedLink, createCappedLink } from '@dragon/test-helpers/adaptive';
import { inboundMedia, launchChromium } from '@dragon/test-helpers/chromium';
import {
  jsonBody,
  metric,
  type RunningServer,
  startServer,
  stopAllServers,
  testPatternInput,
  testPatternProcess,
  waitFor,
} from '@dragon/test-helpers/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What a viewer and an operator see of adaptive playback, on the built server: a 720p test pattern
// with the `auto` ladder, played by the player page in a headless Chromium whose link (a network
// namespace, tbf) tightens to 600 kbit/s. The player names the rendition it is sent and what its
// link carries; the session listing and the metrics say the same. Outcomes only, each waited for.

const link = createCappedLink('visible');
const skip = typeof link === 'string' ? link : undefined;
if (skip) console.warn(`adaptive player tests skipped: ${skip}`);

let server: RunningServer;
let browser: Browser | undefined;

beforeAll(async () => {
  if (typeof link === 'string') return;
  server = await startServer({
    env: {
      // The page comes from the link's far end; the API is asked on loopback.
      CORE_ADDRESS: '0.0.0.0:0',
      CORE_WEBRTC_INTERFACES: link.host,
      CORE_WEBRTC_RENDITIONS: 'auto',
      CORE_WEBRTC_RENDITIONS_CPU_BUDGET: '1',
    },
  });
  await server.json(
    '/api/v3/process',
    jsonBody(testPatternProcess('ladder', { input: [testPatternInput('1280x720')] })),
  );
  await waitFor(
    'the top and its three rungs receiving keyframes',
    async () => {
      const state = await server.json<{ webrtc?: { renditions?: { id: string; keyframes: number }[] } }>(
        '/api/v3/process/ladder/state',
      );
      // VP8 is made only while a viewer without H.264 watches: not here.
      const h264 = (state.webrtc?.renditions ?? []).filter((rendition) => !rendition.id.startsWith('vp8'));
      return h264.length === 4 && h264.every((rendition) => rendition.keyframes > 0);
    },
    120_000,
  );
}, 180_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await stopAllServers();
  if (typeof link !== 'string') link.remove();
});

interface Shown {
  state: string;
  text: string;
  fps: number;
  rendition: { rendition: string; estimate_kbit: number } | null;
}

function shown(page: Page): Promise<Shown> {
  return page.evaluate(() => {
    const player = (
      window as unknown as {
        dragonPlayer: { state: string; stats: { fps: number }; rendition: Shown['rendition'] };
      }
    ).dragonPlayer;
    return {
      state: player.state,
      text: document.getElementById('status')?.textContent ?? '',
      fps: player.stats.fps,
      rendition: player.rendition,
    };
  });
}

describe.skipIf(skip !== undefined)('the player of a process with renditions', () => {
  it('shows the top, then the lower rendition and the link when the link tightens; the listing and metrics agree', async () => {
    const capped = link as CappedLink;
    browser = await launchChromium([], { executablePath: capped.chromiumPath });
    const page = await browser.newPage();
    const port = new URL(server.baseUrl).port;
    await page.goto(`http://${capped.host}:${port}/player/ladder`, { waitUntil: 'domcontentloaded' });

    // On the top: its name, no link figure.
    const onTop = await waitFor(
      'the player playing the top',
      async () => {
        const now = await shown(page);
        return now.state === 'playing' && now.fps > 0 && now.text.includes(' · 720p') ? now : undefined;
      },
      120_000,
    );
    // The fps figure joins the line only once its window has filled, which may be later than this.
    expect(onTop.text).toMatch(/^playing · 1280×720 · (\d+ fps · )?720p/);
    expect(onTop.text).not.toContain('link ~');

    capped.cap('600kbit');

    const lower = await waitFor(
      'the player on a lower rendition, saying what the link carries',
      async () => {
        const now = await shown(page);
        const rendition = now.rendition?.rendition ?? '';
        return ['480p', '360p', '240p'].includes(rendition) &&
          /· (480p|360p|240p) · link ~\d+ kbit\/s|lower quality: the link carries ~\d+ kbit\/s/.test(now.text)
          ? now
          : undefined;
      },
      120_000,
    );
    const rendition = lower.rendition!.rendition;
    expect(lower.rendition!.estimate_kbit).toBeGreaterThan(0);
    await waitFor(
      'a smaller picture decoded',
      async () => {
        const media = await inboundMedia(page, 'dragonPlayer.peerConnection');
        return media.frameHeight > 0 && media.frameHeight < 720;
      },
      60_000,
    );

    // The operator's view: the session's extra in the listing, the viewers by rendition in the metrics.
    await waitFor(
      'the listing and the metrics showing the viewer below the top',
      async () => {
        const active = await server.json<{ webrtc: { reference: string; extra: string }[] }>(
          '/api/v3/session/active?collectors=webrtc',
        );
        const extra = active.webrtc.find((session) => session.reference === 'ladder')?.extra ?? '';
        const listed = extra.match(/^(480p|360p|240p) · link ~\d+ kbit\/s · loss [\d.]+ % · \d+ switch/)?.[1];
        const counted = await metric(
          server,
          'dragon_whep_viewers_by_rendition',
          `process_id="ladder",rendition="${listed}"`,
        );
        return listed !== undefined && counted === 1;
      },
      30_000,
    );
    expect(await metric(server, 'dragon_whep_viewer_switches_total', 'process_id="ladder"')).toBeGreaterThan(
      0,
    );
    expect(['480p', '360p', '240p']).toContain(rendition);
  }, 420_000);
});
