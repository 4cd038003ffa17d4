import { waitFor } from '@dragon/test-helpers';
import { blankOrigin, gatheredOffer, launchChromium } from '@dragon/test-helpers/chromium';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PeerFactory, PublisherFactory, RtpSource } from '../src/index.js';

// Simulcast in: headless Chromium (fake 1280×720 camera) publishes three layers, each becomes a
// rendition of the source, and a Chromium viewer pinned to each in turn decodes that layer's size.

let browser: Browser;
let source: RtpSource;
/** A blank page on loopback: `getUserMedia` needs a secure context, which about:blank is not. */
let blank: Awaited<ReturnType<typeof blankOrigin>>;
const publishers = new PublisherFactory({ interfaceAddresses: ['127.0.0.1'] });
const viewers = new PeerFactory({ interfaceAddresses: ['127.0.0.1'] });

beforeAll(async () => {
  blank = await blankOrigin();
  browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
  source = await RtpSource.open({
    id: 'simulcast',
    video: { payloadType: 96 },
    renditions: [
      { id: 'h', payloadType: 96, bitrateKbit: 0 },
      { id: 'q', payloadType: 96, bitrateKbit: 0 },
    ],
    audio: { payloadType: 111 },
  });
}, 60_000);

afterAll(async () => {
  await viewers.close();
  await publishers.close();
  source?.close();
  await browser?.close();
  blank?.close();
});

const applyAnswer = (page: Page, sdp: string) =>
  page.evaluate(
    (sdp) =>
      (window as unknown as { pc: RTCPeerConnection }).pc.setRemoteDescription({ type: 'answer', sdp }),
    sdp,
  );

it('takes Chromium’s three simulcast layers as renditions and serves a viewer each of them', async () => {
  const publisherPage = await browser.newPage();
  await publisherPage.goto(blank.url);
  await publisherPage.evaluate(async () => {
    const media = await navigator.mediaDevices.getUserMedia({
      video: { width: 1280, height: 720, frameRate: 25 },
      audio: true,
    });
    const pc = new RTCPeerConnection();
    (window as unknown as { pc: RTCPeerConnection }).pc = pc;
    const [video] = media.getVideoTracks();
    const transceiver = pc.addTransceiver(video!, {
      direction: 'sendonly',
      // Listed top first, as the source's renditions are: the first layer feeds the top.
      sendEncodings: [
        { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
        { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
        { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
      ],
    });
    const codecs = RTCRtpSender.getCapabilities('video')?.codecs ?? [];
    transceiver.setCodecPreferences(codecs.filter((codec) => codec.mimeType === 'video/H264'));
    // On a busy machine Chromium would shrink the capture, and below 960×540 it sends two layers.
    const parameters = transceiver.sender.getParameters();
    await transceiver.sender.setParameters({ ...parameters, degradationPreference: 'maintain-resolution' });
    pc.addTransceiver(media.getAudioTracks()[0]!, { direction: 'sendonly' });
  });
  const offer = await gatheredOffer(publisherPage);
  expect(offer).toContain('a=simulcast:send f;h;q');

  const { publisher, answerSdp } = await publishers.createPublisher(source, offer, { video: 96, audio: 111 });
  await applyAnswer(publisherPage, answerSdp);

  expect(answerSdp).toContain('a=simulcast:recv f;h;q');
  expect(answerSdp).toMatch(/a=extmap:\d+ urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id/);
  await waitFor(
    'packets on all three renditions',
    () => source.renditions().every((rendition) => rendition.packets > 0),
    120_000,
  );

  const viewerPage = await browser.newPage();
  await viewerPage.goto(blank.url);
  await viewerPage.evaluate(() => {
    const pc = new RTCPeerConnection();
    (window as unknown as { pc: RTCPeerConnection }).pc = pc;
    pc.addTransceiver('video', { direction: 'recvonly' });
    const stream = new MediaStream();
    (document.getElementById('v') as HTMLVideoElement).srcObject = stream;
    pc.ontrack = (event) => stream.addTrack(event.track);
  });
  const { peer, answerSdp: viewerAnswer } = await viewers.createPeer(source, await gatheredOffer(viewerPage));
  await applyAnswer(viewerPage, viewerAnswer);
  const decodedHeight = () =>
    viewerPage.evaluate(async () => {
      let height = 0;
      (await (window as unknown as { pc: RTCPeerConnection }).pc.getStats()).forEach((report) => {
        if (report.type === 'inbound-rtp' && report.kind === 'video') height = report.frameHeight ?? 0;
      });
      return height;
    });
  const first = await waitFor(
    'the viewer decoding the top',
    async () => (await decodedHeight()) || undefined,
    60_000,
  );

  const heights: number[] = [];
  for (const rendition of [2, 1, 0]) {
    peer.pinRendition(rendition);
    // The switch waits for the layer's next keyframe: the publisher is asked for one.
    const height = await waitFor(
      `the viewer decoding rendition ${rendition}`,
      async () => {
        source.requestKeyframe();
        if (peer.rendition !== rendition) return undefined;
        const now = await decodedHeight();
        return now > 0 && now !== (heights.at(-1) ?? first) ? now : undefined;
      },
      60_000,
    );
    heights.push(height);
  }

  // q, h, f: each layer's own size, smallest first (Chromium may scale all down under CPU load).
  expect(heights[0]!).toBeLessThan(heights[1]!);
  expect(heights[1]!).toBeLessThan(heights[2]!);
  expect(publisher.stats().keyframeRequests).toBeGreaterThan(0);
  expect(source.renditions().map((rendition) => rendition.bitrateBps > 0)).toEqual([true, true, true]);
  await viewerPage.close();
  await publisherPage.close();
});
