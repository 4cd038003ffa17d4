import { waitFor } from '@dragon/test-helpers';
import { blankOrigin, gatheredOffer, launchChromium } from '@dragon/test-helpers/chromium';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PublisherFactory, RtpSource } from '../src/index.js';

// Feedback to a publisher: Chromium adapts its encoder only from the receiver's congestion
// feedback. The server answers transport-cc with the transport-wide sequence number extension and
// writes the feedback itself; Chromium's send-side estimate then leaves its start rate.

let browser: Browser;
let source: RtpSource;
/** A blank page on loopback: `getUserMedia` needs a secure context, which about:blank is not. */
let blank: Awaited<ReturnType<typeof blankOrigin>>;
const publishers = new PublisherFactory({ interfaceAddresses: ['127.0.0.1'] });

beforeAll(async () => {
  blank = await blankOrigin();
  browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
  source = await RtpSource.open({ id: 'feedback', video: { payloadType: 96 }, audio: { payloadType: 111 } });
}, 60_000);

afterAll(async () => {
  await publishers.close();
  source?.close();
  await browser?.close();
  blank?.close();
});

/** Chromium's send-side estimate (`availableOutgoingBitrate` of the selected pair), bit/s; 0 before one. */
const estimate = (page: Page) =>
  page.evaluate(async () => {
    let bitrate = 0;
    (await (window as unknown as { pc: RTCPeerConnection }).pc.getStats()).forEach((report) => {
      if (report.type === 'candidate-pair' && report.nominated && report.availableOutgoingBitrate)
        bitrate = report.availableOutgoingBitrate;
    });
    return bitrate;
  });

it('answers a Chromium publisher transport-cc and its estimate climbs from the start rate', async () => {
  const page = await browser.newPage();
  await page.goto(blank.url);
  await page.evaluate(async () => {
    const media = await navigator.mediaDevices.getUserMedia({
      video: { width: 1280, height: 720, frameRate: 25 },
      audio: true,
    });
    const pc = new RTCPeerConnection();
    (window as unknown as { pc: RTCPeerConnection }).pc = pc;
    for (const track of media.getTracks()) {
      const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
      if (track.kind !== 'video') continue;
      const codecs = RTCRtpSender.getCapabilities('video')?.codecs ?? [];
      transceiver.setCodecPreferences(codecs.filter((codec) => codec.mimeType === 'video/H264'));
    }
  });
  const offer = await gatheredOffer(page);
  expect(offer).toMatch(/a=rtcp-fb:\d+ transport-cc/);

  const { publisher, answerSdp } = await publishers.createPublisher(source, offer, { video: 96, audio: 111 });
  await page.evaluate(
    (sdp) =>
      (window as unknown as { pc: RTCPeerConnection }).pc.setRemoteDescription({ type: 'answer', sdp }),
    answerSdp,
  );

  const video = answerSdp.slice(answerSdp.indexOf('m=video'));
  expect(video).toMatch(/^a=rtcp-fb:\d+ transport-cc$/m);
  expect(video).toMatch(
    /^a=extmap:\d+ http:\/\/www\.ietf\.org\/id\/draft-holmer-rmcat-transport-wide-cc-extensions-01$/m,
  );
  // Nothing the server does not send: no REMB, no FIR, no abs-send-time.
  expect(answerSdp).not.toMatch(/goog-remb|ccm fir|abs-send-time/);

  const start = await waitFor(
    'a first send-side estimate',
    async () => (await estimate(page)) || undefined,
    60_000,
  );
  const raised = await waitFor(
    'the estimate above twice its start',
    async () => {
      const now = await estimate(page);
      return now > 2 * start ? now : undefined;
    },
    90_000,
  );
  expect(raised).toBeGreaterThan(2 * start);
  expect(publisher.stats().transportFeedbacks).toBeGreaterThan(0);
  await page.close();
});
