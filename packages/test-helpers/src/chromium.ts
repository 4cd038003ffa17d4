import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium, type LaunchOptions, type Page } from 'playwright-core';

/**
 * What headless Chromium needs here: Debian's build run as root in a closed network (no sandbox,
 * no GPU, no background connections that the network refuses), media that plays without a click,
 * and WebRTC on loopback (Chromium hides loopback candidates and uses mDNS names by default; neither
 * works without multicast).
 */
export const chromiumArgs: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

/**
 * Launches Debian's Chromium (`/usr/bin/chromium`, or `CHROMIUM_PATH`) headless through
 * playwright-core, which downloads no browser of its own.
 * @example const browser = await launchChromium(); const page = await browser.newPage();
 */
export function launchChromium(
  extraArgs: readonly string[] = [],
  options: LaunchOptions = {},
): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    ...options,
    args: [...chromiumArgs, ...extraArgs],
  });
}

/** What a page's connection has received and decoded so far (its inbound RTP statistics). */
export interface InboundMedia {
  framesDecoded: number;
  /** The size of the last decoded frame (0 before one). */
  frameWidth: number;
  frameHeight: number;
  /** Chromium's own figure: frames decoded over the last second. */
  framesPerSecond: number;
  /** Freezes Chromium counted (a frame late by max(3 × the mean frame time, mean + 150 ms)) and their total, seconds. */
  freezeCount: number;
  totalFreezesDuration: number;
  /** Audio bytes received (`bytesReceived`). */
  audioBytes: number;
  /** Audio samples played out (`totalSamplesReceived`, concealment included). */
  audioSamples: number;
  /** Of those, samples made up for missing or late packets. */
  concealedSamples: number;
  /** `concealedSamples / audioSamples` (0 before any sample). */
  concealedRatio: number;
}

/**
 * Reads the inbound RTP statistics of an `RTCPeerConnection` of the page: by default the one it
 * keeps at `window.pc` ({@link recvonlyPage}); `connection` is another path from `window`, e.g.
 * `dragonPlayer.peerConnection` for the server's player page. All zeros while there is none. Poll
 * it with `waitFor` until what the test needs has arrived.
 * @example await waitFor('frames', async () => ((await inboundMedia(page)).framesDecoded > 0 ? true : undefined));
 */
export function inboundMedia(page: Page, connection = 'pc'): Promise<InboundMedia> {
  return page.evaluate(async (connection) => {
    let pc: unknown = window;
    for (const step of connection.split('.')) pc = (pc as Record<string, unknown> | null | undefined)?.[step];
    const media = {
      framesDecoded: 0,
      frameWidth: 0,
      frameHeight: 0,
      framesPerSecond: 0,
      freezeCount: 0,
      totalFreezesDuration: 0,
      audioBytes: 0,
      audioSamples: 0,
      concealedSamples: 0,
      concealedRatio: 0,
    };
    if (!(pc instanceof RTCPeerConnection)) return media;
    (await pc.getStats()).forEach((report) => {
      if (report.type !== 'inbound-rtp') return;
      if (report.kind === 'video') {
        media.framesDecoded = report.framesDecoded ?? 0;
        media.frameWidth = report.frameWidth ?? 0;
        media.frameHeight = report.frameHeight ?? 0;
        media.framesPerSecond = report.framesPerSecond ?? 0;
        media.freezeCount = report.freezeCount ?? 0;
        media.totalFreezesDuration = report.totalFreezesDuration ?? 0;
      }
      if (report.kind === 'audio') {
        media.audioBytes = report.bytesReceived ?? 0;
        media.audioSamples = report.totalSamplesReceived ?? 0;
        media.concealedSamples = report.concealedSamples ?? 0;
      }
    });
    media.concealedRatio = media.audioSamples > 0 ? media.concealedSamples / media.audioSamples : 0;
    return media;
  }, connection);
}

/**
 * The transport protocol (`udp`, `tcp`) of the selected candidate pair of the page's
 * `RTCPeerConnection` at `window[variable]`; `''` before one is selected.
 */
export function selectedProtocol(page: Page, variable = 'pc'): Promise<string> {
  return page.evaluate(async (variable) => {
    const pc = (window as unknown as Record<string, RTCPeerConnection>)[variable]!;
    const reports = new Map<string, Record<string, string | undefined>>();
    (await pc.getStats()).forEach((report) => {
      reports.set(report.id, report);
    });
    for (const report of reports.values()) {
      if (report.type !== 'transport' || !report.selectedCandidatePairId) continue;
      const pair = reports.get(report.selectedCandidatePairId);
      return reports.get(pair?.localCandidateId ?? '')?.protocol ?? '';
    }
    return '';
  }, variable);
}

/**
 * The non-trickle offer of the page's `RTCPeerConnection` at `window[variable]`: created, set as
 * the local description, and read once ICE gathering is complete (every candidate in it).
 */
export function gatheredOffer(page: Page, variable = 'pc'): Promise<string> {
  return page.evaluate(async (variable) => {
    const pc = (window as unknown as Record<string, RTCPeerConnection>)[variable]!;
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
      // A bound, not a wait: on loopback gathering completes at once.
      setTimeout(resolve, 15_000);
    });
    return pc.localDescription!.sdp;
  }, variable);
}

/**
 * Opens a page of `browser` that receives video and audio over WebRTC: its offer (every candidate
 * gathered) goes to `answer`, whose answer the page applies. The page keeps its connection at
 * `window.pc` (see {@link inboundMedia}).
 */
export async function recvonlyPage(
  browser: Browser,
  answer: (offerSdp: string) => Promise<string>,
): Promise<Page> {
  const page = await browser.newPage();
  await page.setContent('<video id="v" autoplay muted playsinline></video>');
  await page.evaluate(() => {
    const pc = new RTCPeerConnection();
    (window as unknown as { pc: RTCPeerConnection }).pc = pc;
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const stream = new MediaStream();
    (document.getElementById('v') as HTMLVideoElement).srcObject = stream;
    pc.ontrack = (event) => stream.addTrack(event.track);
  });
  const answerSdp = await answer(await gatheredOffer(page));
  await page.evaluate(async (sdp) => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    await pc.setRemoteDescription({ type: 'answer', sdp });
  }, answerSdp);
  return page;
}

/**
 * A blank page served on 127.0.0.1 (with a `<video id="v">`): a secure context, which `getUserMedia`
 * needs and about:blank is not. `close()` stops the server.
 */
export async function blankOrigin(): Promise<{ url: string; close(): void }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html' });
    response.end('<!doctype html><title>blank</title><video id="v" autoplay muted playsinline></video>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => server.close(),
  };
}
