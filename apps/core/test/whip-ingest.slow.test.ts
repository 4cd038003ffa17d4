import { gatheredOffer, inboundMedia, selectedProtocol } from '@dragon/test-helpers/chromium';
import {
  freePort,
  type RunningServer,
  startServer,
  stopAllServers,
  waitFor,
} from '@dragon/test-helpers/server';
import {
  iceFragment,
  sdpfrag,
  WeriftPublisher,
  WeriftViewer,
  withIceFragment,
} from '@dragon/test-helpers/werift';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, playInPage, startOtherOrigin } from './browser.js';

// WHIP ingest end to end on the built server, through the UDP mux and over ICE-TCP: headless
// Chromium with a fake camera and microphone publishes (from a script, and from the publish page)
// and another Chromium page plays it over WHEP; a werift publisher (deterministic frames) is played
// by a werift viewer across a publisher takeover and across an ICE restart.

const token = 'publisher-secret';
let server: RunningServer;
let tcpPort: number;
let browser: Browser;
let origin: Awaited<ReturnType<typeof startOtherOrigin>>;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  tcpPort = await freePort('tcp');
  server = await startServer({
    env: {
      CORE_WHIP_ENABLE: 'true',
      CORE_WHIP_TOKEN: token,
      CORE_WHIP_RECONNECT_GRACE_SECONDS: '30',
      // The takeover test offers until the stale publisher's name is free.
      CORE_WHIP_MAX_OFFERS_PER_MINUTE: '0',
      CORE_WEBRTC_UDP_MUX_PORT: String(await freePort('udp')),
      CORE_WEBRTC_TCP_MUX_PORT: String(tcpPort),
      CORE_METRICS_ENABLE_PROMETHEUS: 'true',
    },
  });
  browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
  origin = await startOtherOrigin();
}, 60_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await browser?.close();
  await origin?.close();
  await stopAllServers();
});

interface Publication {
  name: string;
  state: string;
  viewers: number;
  reconnects: number;
  since: string;
  forwarded: { packets: number; bytes: number };
  video: {
    codec: string | null;
    packets: number;
    layers: { rid: string; packets: number; bitrate_kbit: number }[];
  };
  audio: { codec: string | null; packets: number };
  publisher?: { address: string; since: string };
}

async function publication(name: string): Promise<Publication | undefined> {
  const list = await server.json<Publication[]>('/api/v3/whip');
  return list.find((entry) => entry.name === name);
}

/**
 * A browser publisher: camera and microphone from `getUserMedia` (fake devices), offering only
 * `videoCodec` (H.264 unless told), non-trickle, POSTed to the WHIP endpoint. Leaves the connection
 * on `window.publisher`. With `tcpOnly`, UDP candidates are struck from the offer and the answer:
 * ICE-TCP is the only path.
 */
async function publishFromPage(
  page: Page,
  endpoint: string,
  bearer: string,
  tcpOnly = false,
  videoCodec = 'video/H264',
) {
  return page.evaluate(
    async ({ endpoint, bearer, tcpOnly, videoCodec }) => {
      const onlyTcp = (sdp: string) =>
        tcpOnly ? sdp.replace(/^a=candidate:\S+ \d+ udp .*\r\n/gim, '') : sdp;
      const media = await navigator.mediaDevices.getUserMedia({
        video: { width: 640, height: 360, frameRate: 25 },
        audio: true,
      });
      const pc = new RTCPeerConnection();
      (window as unknown as { publisher: RTCPeerConnection }).publisher = pc;
      for (const track of media.getTracks()) {
        const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
        if (track.kind === 'video') {
          const codecs = RTCRtpSender.getCapabilities('video')?.codecs ?? [];
          transceiver.setCodecPreferences(codecs.filter((codec) => codec.mimeType === videoCodec));
        }
      }
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === 'complete') return resolve();
        pc.addEventListener(
          'icegatheringstatechange',
          () => pc.iceGatheringState === 'complete' && resolve(),
        );
        // A bound, not a wait: on loopback gathering completes at once.
        setTimeout(resolve, 15_000);
      });
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${bearer}` },
        body: onlyTcp(pc.localDescription!.sdp),
      });
      const location = response.headers.get('Location');
      const text = await response.text();
      if (response.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: onlyTcp(text) });
      return { status: response.status, location, text };
    },
    { endpoint, bearer, tcpOnly, videoCodec },
  );
}

async function weriftViewer(name: string): Promise<WeriftViewer> {
  const viewer = new WeriftViewer();
  cleanups.push(() => viewer.close());
  const response = await server.api(`/api/v3/whip/${name}/whep`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp' },
    body: await viewer.offer(),
  });
  expect(response.status).toBe(201);
  await viewer.accept(await response.text());
  return viewer;
}

describe('WHIP ingest', () => {
  it('refuses a publisher without the token, or with a wrong one, before any media is set up', async () => {
    const client = new WeriftPublisher();
    cleanups.push(() => client.close());
    const offer = await client.offer();
    const post = (headers: Record<string, string>) =>
      server.api('/api/v3/whip/cam', {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', ...headers },
        body: offer,
      });

    const none = await post({});
    const wrong = await post({ Authorization: 'Bearer guess' });

    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ code: 401, details: ['UNAUTHORIZED'] });
    expect(await publication('cam')).toBeUndefined();
  });

  it('answers a hostile offer with a clear 400 and no internal text', async () => {
    const res = await server.api('/api/v3/whip/cam', {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
      body: 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\n',
    });

    expect(res.status).toBe(400);
    const body = (await res.json()) as { message: string; details: string[] };
    expect(body.details[0]).toBe('INVALID_SDP');
    expect(body.message).not.toMatch(/werift|TypeError|at /);
  });

  it('takes a Chromium camera over WHIP and plays it in Chromium over WHEP, through the UDP mux, across a viewer’s ICE restart', async () => {
    const publisherPage = await browser.newPage();
    cleanups.push(() => publisherPage.close());
    await publisherPage.goto(origin.url);

    const published = await publishFromPage(publisherPage, `${server.baseUrl}/api/v3/whip/cam`, token);

    expect(published.status, published.text).toBe(201);
    expect(published.location).toMatch(/^\/api\/v3\/whip\/cam\/[A-Za-z0-9_-]{22}$/);
    await waitFor(
      'video and audio from the publisher',
      async () => {
        const now = await publication('cam');
        return now !== undefined && now.video.packets > 0 && now.audio.packets > 0;
      },
      60_000,
    );

    const viewerPage = await browser.newPage();
    cleanups.push(() => viewerPage.close());
    await viewerPage.goto(origin.url);
    const played = await playInPage(viewerPage, `${server.baseUrl}/api/v3/whip/cam/whep`);
    expect(played.status).toBe(201);
    expect(played.framesDecoded).toBeGreaterThan(0);
    expect(played.audioSamples).toBeGreaterThan(0);
    expect(await publication('cam')).toMatchObject({ state: 'live', viewers: 1 });

    // The viewer's network changes (`restartIce()`): its new credentials and candidates go out as
    // an sdpfrag PATCH, the server's come back in place of the answer's, and the session goes on.
    await viewerPage.evaluate(() => (window as unknown as { pc: RTCPeerConnection }).pc.restartIce());
    const restartOffer = iceFragment(await gatheredOffer(viewerPage));
    const restart = await server.api(played.location!, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': '*' },
      body: sdpfrag(restartOffer),
    });
    expect(restart.status).toBe(200);
    const restartAnswer = iceFragment(await restart.text());
    expect(played.answerSdp).not.toContain(`a=ice-ufrag:${restartAnswer.ufrag}`);
    await viewerPage.evaluate(
      (sdp) =>
        (window as unknown as { pc: RTCPeerConnection }).pc.setRemoteDescription({ type: 'answer', sdp }),
      withIceFragment(played.answerSdp!, restartAnswer),
    );
    const transportUfrag = () =>
      viewerPage.evaluate(async () => {
        let ufrag = '';
        (await (window as unknown as { pc: RTCPeerConnection }).pc.getStats()).forEach((report) => {
          if (report.type === 'transport' && report.dtlsState === 'connected')
            ufrag = report.iceLocalUsernameFragment ?? '';
        });
        return ufrag;
      });
    await waitFor(
      'the viewer’s transport on its new ICE credentials',
      async () => ((await transportUfrag()) === restartOffer.ufrag ? true : undefined),
      60_000,
    );
    const atRestart = (await inboundMedia(viewerPage)).framesDecoded;
    await waitFor(
      'frames decoded after the restart',
      async () => ((await inboundMedia(viewerPage)).framesDecoded > atRestart + 25 ? true : undefined),
      60_000,
    );
    expect(await publication('cam')).toMatchObject({ viewers: 1 });

    // The publisher ends its session: the publication lingers for a reconnect, its viewers stay.
    const deleted = await server.api(published.location!, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(deleted.status).toBe(200);
    expect(await publication('cam')).toMatchObject({ state: 'lingering', viewers: 1 });
    // Chromium's encoders are the heaviest thing here: none keeps running past its test.
    await publisherPage.close();
    await viewerPage.close();
  });

  it('passes a VP8-only Chromium camera through to a VP8 viewer, and answers an H.264-only viewer with audio alone', async () => {
    const publisherPage = await browser.newPage();
    cleanups.push(() => publisherPage.close());
    await publisherPage.goto(origin.url);

    const published = await publishFromPage(
      publisherPage,
      `${server.baseUrl}/api/v3/whip/vp8cam`,
      token,
      false,
      'video/VP8',
    );

    expect(published.status, published.text).toBe(201);
    expect(published.text).toMatch(/^a=rtpmap:\d+ VP8\/90000/m);
    expect(published.text).not.toMatch(/H264/);
    await waitFor(
      'VP8 from the publisher',
      async () => {
        const now = await publication('vp8cam');
        return now?.video.codec === 'vp8' && now.video.packets > 0;
      },
      60_000,
    );
    // A Chromium viewer offering VP8 only: the publisher's frames as they arrive, no transcoding.
    const viewerPage = await browser.newPage();
    cleanups.push(() => viewerPage.close());
    await viewerPage.goto(origin.url);
    const played = await playInPage(viewerPage, `${server.baseUrl}/api/v3/whip/vp8cam/whep`, undefined, {
      videoCodec: 'video/VP8',
    });
    expect(played.status).toBe(201);
    expect(played.framesDecoded).toBeGreaterThan(0);
    expect(await publication('vp8cam')).toMatchObject({ viewers: 1 });
    // A viewer that decodes only H.264 cannot take this publication's video: its answer rejects
    // the video section (port 0) and carries the audio alone.
    const h264Only = new WeriftViewer();
    cleanups.push(() => h264Only.close());
    const audioOnly = await server.api('/api/v3/whip/vp8cam/whep', {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: await h264Only.offer(),
    });
    expect(audioOnly.status).toBe(201);
    const answer = await audioOnly.text();
    expect(answer).toMatch(/^m=video 0 /m);
    expect(answer).toMatch(/^m=audio [1-9]\d* /m);
    await server.api(new URL(audioOnly.headers.get('location') ?? '', server.baseUrl).pathname, {
      method: 'DELETE',
    });
    await publisherPage.close();
    await viewerPage.close();
  });

  it('takes a Chromium camera over ICE-TCP and plays it to a Chromium viewer over ICE-TCP', async () => {
    const publisherPage = await browser.newPage();
    cleanups.push(() => publisherPage.close());
    await publisherPage.goto(origin.url);

    const published = await publishFromPage(
      publisherPage,
      `${server.baseUrl}/api/v3/whip/tcp-cam`,
      token,
      true,
    );

    expect(published.status, published.text).toBe(201);
    expect(published.text).toMatch(
      new RegExp(`tcp \\d+ 127\\.0\\.0\\.1 ${tcpPort} typ host tcptype passive`),
    );
    await waitFor(
      'video from the publisher over TCP',
      async () => ((await publication('tcp-cam'))?.video.packets ?? 0) > 0,
      60_000,
    );
    expect(await selectedProtocol(publisherPage, 'publisher')).toBe('tcp');

    const viewerPage = await browser.newPage();
    cleanups.push(() => viewerPage.close());
    await viewerPage.goto(origin.url);
    const played = await playInPage(viewerPage, `${server.baseUrl}/api/v3/whip/tcp-cam/whep`, undefined, {
      tcpOnly: true,
    });
    expect(played.status).toBe(201);
    expect(played.framesDecoded).toBeGreaterThan(0);
    expect(played.audioSamples).toBeGreaterThan(0);
    expect(await selectedProtocol(viewerPage)).toBe('tcp');
    await publisherPage.close();
    await viewerPage.close();
  });

  it('publishes three simulcast layers from the publish page with the token in the fragment, and says why a wrong token fails', async () => {
    const refused = await browser.newPage();
    cleanups.push(() => refused.close());
    await refused.goto(`${server.baseUrl}/publish/page-cam#token=wrong`);
    await refused.click('#camera');
    await waitFor('the refusal shown', async () =>
      (await refused.locator('#status').getAttribute('data-state')) === 'error' ? true : undefined,
    );
    expect(await refused.locator('#status').textContent()).toContain(
      'refused (401): the server refused the token',
    );
    await refused.close();

    const page = await browser.newPage();
    cleanups.push(() => page.close());
    const status = () => page.locator('#status').getAttribute('data-state');
    await page.goto(`${server.baseUrl}/publish/page-cam#token=${token}`);
    // The token leaves the address bar at once; the fragment never reached the server.
    expect(new URL(page.url()).hash).toBe('');
    await page.check('#simulcast');
    await page.click('#camera');
    await waitFor(
      'the page publishing',
      async () => ((await status()) === 'publishing' ? true : undefined),
      60_000,
    );
    await waitFor(
      'the bitrate the page shows',
      async () =>
        ((await page.locator('#status').textContent()) ?? '').match(/publishing · [1-9]\d* kbit\/s/) ??
        undefined,
      60_000,
    );
    expect(await page.locator('#player').getAttribute('href')).toBe('../player/whip/page-cam');

    // Each layer is a rendition of the publication: the listing and the metrics show them.
    const listed = await waitFor(
      'three layers with media',
      async () => {
        const now = await publication('page-cam');
        return now?.video.layers.length === 3 && now.video.layers.every((layer) => layer.packets > 0)
          ? now
          : undefined;
      },
      120_000,
    );
    expect(listed.video.layers.map((layer) => layer.rid)).toEqual(['f', 'h', 'q']);
    expect(listed).toMatchObject({
      state: 'live',
      video: { codec: 'h264' },
      audio: { codec: 'opus' },
      publisher: { address: '127.0.0.1' },
    });
    expect(listed.forwarded.bytes).toBeGreaterThan(0);
    expect(Date.parse(listed.since)).not.toBeNaN();
    const metrics = await (await server.api('/metrics')).text();
    expect(metrics).toMatch(/^dragon_whip_publications\{state="live"\} [1-9]/m);
    expect(metrics).toMatch(/^dragon_whip_publication_bytes_received_total\{name="page-cam"\} [1-9]/m);
    for (const rid of ['f', 'h', 'q'])
      expect(metrics).toContain(
        `dragon_whip_publication_bitrate_bps{name="page-cam",track="video",layer="${rid}"}`,
      );

    const viewerPage = await browser.newPage();
    cleanups.push(() => viewerPage.close());
    await viewerPage.goto(origin.url);
    const played = await playInPage(viewerPage, `${server.baseUrl}/api/v3/whip/page-cam/whep`);
    expect(played.framesDecoded).toBeGreaterThan(0);
    expect(played.audioSamples).toBeGreaterThan(0);

    // Stop sends the DELETE: the publication lingers for a reconnect.
    await page.click('#stop');
    await waitFor('the publisher gone', async () =>
      (await publication('page-cam'))?.state === 'lingering' ? true : undefined,
    );
  }, 240_000);

  it('keeps a viewer’s session when its publisher vanishes without a DELETE and another takes over', async () => {
    const offerFrom = async () => {
      const client = new WeriftPublisher();
      const timer = setInterval(() => client.sendFrame(), 40);
      cleanups.push(
        () => clearInterval(timer),
        () => client.close(),
      );
      return { client, offer: await client.offer(), stop: () => clearInterval(timer) };
    };
    const post = (offer: string) =>
      server.api('/api/v3/whip/studio', {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
        body: offer,
      });
    const first = await offerFrom();
    const answered = await post(first.offer);
    expect(answered.status).toBe(201);
    await first.client.accept(await answered.text());
    await waitFor(
      'the first publisher’s media',
      async () => ((await publication('studio'))?.video.packets ?? 0) > 0,
    );
    const viewer = await weriftViewer('studio');
    await waitFor(
      'video and audio at the werift viewer',
      () => viewer.received.video.length > 10 && viewer.received.audio.length > 10,
    );
    const second = await offerFrom();
    expect((await post(second.offer)).status).toBe(409);

    // The first publisher's network goes away: no DELETE, no goodbye, no more media.
    first.stop();
    await first.client.close();
    // Silent past the stale bound (2 s), it is replaced although the rule is to reject a second.
    const taken = await waitFor(
      'the name to be free for the second publisher',
      async () => {
        const res = await post(second.offer);
        return res.status === 201 ? res : undefined;
      },
      60_000,
    );
    await second.client.accept(await taken.text());
    const before = viewer.received.video.length;

    await waitFor(
      'video from the second publisher',
      () => viewer.received.video.length > before + 30,
      60_000,
    );
    expect(await publication('studio')).toMatchObject({ state: 'live', viewers: 1, reconnects: 1 });
  });

  it('restarts a werift publisher’s ICE through the UDP mux with an sdpfrag PATCH, and its viewer keeps receiving video', async () => {
    const client = new WeriftPublisher();
    const timer = setInterval(() => client.sendFrame(), 40);
    cleanups.push(
      () => clearInterval(timer),
      () => client.close(),
    );
    const authorization = `Bearer ${token}`;
    const answered = await server.api('/api/v3/whip/restarting', {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Authorization: authorization },
      body: await client.offer(),
    });
    expect(answered.status).toBe(201);
    const etag = answered.headers.get('etag')!;
    await client.accept(await answered.text());
    await waitFor(
      'the publisher’s media',
      async () => ((await publication('restarting'))?.video.packets ?? 0) > 0,
    );
    const viewer = await weriftViewer('restarting');
    await waitFor('video before the restart', () => viewer.received.video.length > 10);

    // A WHIP client's restart: only the sdpfrag goes out, only the fragment comes back.
    const offered = await client.restartIceOffer();
    const res = await server.api(answered.headers.get('location')!, {
      method: 'PATCH',
      headers: {
        'Content-Type': 'application/trickle-ice-sdpfrag',
        'If-Match': etag,
        Authorization: authorization,
      },
      body: sdpfrag(offered),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/trickle-ice-sdpfrag');
    expect(res.headers.get('etag')).not.toBe(etag);
    const answer = iceFragment(await res.text());
    await client.acceptIceRestart(answer);
    await waitFor('the publisher’s ICE connected with the server’s new credentials', () =>
      client.iceConnectedTo(answer.ufrag),
    );
    const atRestart = viewer.received.video.length;

    await waitFor('video after the restart', () => viewer.received.video.length > atRestart + 30, 60_000);
    expect(await publication('restarting')).toMatchObject({ state: 'live', viewers: 1, reconnects: 0 });
  });
});
