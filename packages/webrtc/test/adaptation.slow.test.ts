import { waitFor } from '@dragon/test-helpers';
import { type CappedLink, createCappedLink, watchSource } from '@dragon/test-helpers/adaptive';
import { inboundMedia, launchChromium } from '@dragon/test-helpers/chromium';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerFactory, RtpSource } from '../src/index.js';
import { type LadderFixture, openLadder } from './adaptive/ladder-fixture.js';

// A 720p ~2 Mbit/s source with a ladder (480p, 360p, 240p), watched by two headless Chromiums:
// one on loopback, one in a network namespace whose link the test caps with tbf. Each viewer's
// congestion control (REMB from its browser, NACKs as its loss reports) must move the capped one
// and leave the other alone. Only outcomes are asserted, each waited for with a deadline; the
// figures (time to settle, freezes, fps) are bench/adaptation.mjs's.

const link = createCappedLink('adapt');
const skip = typeof link === 'string' ? link : undefined;
if (skip) console.warn(`adaptation tests skipped: ${skip}`);

let fixture: LadderFixture | undefined;
let source: RtpSource;
let factory: PeerFactory;
const browsers: Browser[] = [];

beforeAll(async () => {
  if (typeof link === 'string') return;
  // Both browsers reach the server at its end of the link (the loopback one without crossing it).
  fixture = await openLadder(link.host);
  ({ source, factory } = fixture);
}, 90_000);

afterAll(async () => {
  for (const browser of browsers) await browser.close().catch(() => undefined);
  await fixture?.close();
  if (typeof link !== 'string') link.remove();
});

describe.skipIf(skip !== undefined)('adaptive playback behind a capped link', () => {
  it('moves a capped viewer down, to audio only below the lowest rung, and back up when the cap goes; an uncapped one keeps the top', async () => {
    const capped = link as CappedLink;
    capped.cap('600kbit');
    const [near, far] = await Promise.all([
      watch(await launchChromium()),
      watch(await launchChromium([], { executablePath: capped.chromiumPath })),
    ]);

    // 600 kbit/s: a lower rung that plays.
    await waitFor('the capped viewer on a lower rung', () => (far.peer.rendition ?? 0) > 0, 60_000);
    const framesThen = (await inboundMedia(far.page)).framesDecoded;
    await waitFor(
      'the capped viewer decoding',
      async () => (await inboundMedia(far.page)).framesDecoded >= framesThen + 50,
      60_000,
    );
    expect(far.peer.rendition).toBeGreaterThan(0);
    expect(far.peer.adaptation()).toMatchObject({ rendition: expect.stringMatching(/^(360p|240p|480p)$/) });
    expect(far.peer.adaptation()!.switches).toBeGreaterThan(0);
    expect(near.peer.rendition).toBe(0);
    expect((await inboundMedia(near.page)).framesDecoded).toBeGreaterThan(0);

    // 150 kbit/s, below the lowest rung's need: audio only, and the audio goes on.
    capped.cap('150kbit');
    await waitFor('the capped viewer on audio only', () => far.peer.rendition === -1, 60_000);
    const audioThen = (await inboundMedia(far.page)).audioBytes;
    await waitFor(
      'audio arriving on audio only',
      async () => (await inboundMedia(far.page)).audioBytes >= audioThen + 16_000,
      30_000,
    );

    // No cap: back to the top, decoding.
    capped.cap(undefined);
    await waitFor('the viewer back on the top', () => far.peer.rendition === 0, 120_000);
    const framesTop = (await inboundMedia(far.page)).framesDecoded;
    await waitFor(
      'the viewer decoding the top',
      async () => (await inboundMedia(far.page)).framesDecoded >= framesTop + 25,
      60_000,
    );
    expect(near.peer.rendition).toBe(0);
  }, 420_000);
});

/** A page of `browser` watching the source: its peer (the server's end) and the page. */
function watch(browser: Browser) {
  browsers.push(browser);
  return watchSource(browser, (offer) => factory.createPeer(source, offer));
}
