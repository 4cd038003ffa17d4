import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { waitFor } from '@dragon/test-helpers';
import { inboundMedia } from '@dragon/test-helpers/chromium';

// The one Chromium launcher (Debian's Chromium, the flags this machine needs) is a shared test helper.
export { launchChromium } from '@dragon/test-helpers/chromium';

/** A file the other origin serves besides its blank page. */
export interface OriginFile {
  type: string;
  body: string | Buffer;
}

/**
 * A blank page on its own port: a player on another origin than the server. `files` adds pages or
 * scripts by path (`/hls.min.js`, a page embedding the server's player).
 */
export async function startOtherOrigin(
  files: Record<string, OriginFile> = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const file = files[new URL(request.url ?? '/', 'http://x').pathname];
    if (file) {
      response.writeHead(200, { 'Content-Type': file.type });
      response.end(file.body);
      return;
    }
    response.writeHead(200, { 'Content-Type': 'text/html' });
    response.end('<!doctype html><title>viewer</title><video id="v" autoplay muted playsinline></video>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface WhepPlayResult {
  status: number;
  location: string | null;
  framesDecoded: number;
  audioBytes: number;
  /** Decoded audio samples (`totalSamplesReceived`). */
  audioSamples: number;
  answerSdp?: string;
  error?: string;
}

/**
 * A plain WHEP client (non-trickle) in the page, its peer connection left on `window.pc`; then
 * waits (`waitFor`, generously) until what the answer accepted arrives: video frames decoded and
 * audio samples. With `tcpOnly`, UDP candidates are struck from the offer and the answer, so the
 * session runs over ICE-TCP. With `videoCodec` (e.g. `video/VP8`) it offers only that for video, as a browser
 * without an H.264 decoder does, and the server's answer rejects video. An offer not answered 201
 * returns at once, with its status.
 */
export async function playInPage(
  page: import('playwright-core').Page,
  endpoint: string,
  token?: string,
  options: { videoCodec?: string; tcpOnly?: boolean } = {},
): Promise<WhepPlayResult> {
  const offered = await page.evaluate(
    async ({ endpoint, token, videoCodec, tcpOnly }) => {
      // UDP candidates struck from both sides: ICE-TCP is the only path left.
      const onlyTcp = (sdp: string) =>
        tcpOnly ? sdp.replace(/^a=candidate:\S+ \d+ udp .*\r\n/gim, '') : sdp;
      const pc = new RTCPeerConnection();
      (window as unknown as { pc: RTCPeerConnection }).pc = pc;
      const videoTransceiver = pc.addTransceiver('video', { direction: 'recvonly' });
      if (videoCodec) {
        const codecs = RTCRtpReceiver.getCapabilities('video')?.codecs ?? [];
        videoTransceiver.setCodecPreferences(codecs.filter((codec) => codec.mimeType === videoCodec));
      }
      pc.addTransceiver('audio', { direction: 'recvonly' });
      const video = document.getElementById('v') as HTMLVideoElement;
      const stream = new MediaStream();
      video.srcObject = stream;
      pc.ontrack = (event) => stream.addTrack(event.track);
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
      const headers: Record<string, string> = { 'Content-Type': 'application/sdp' };
      if (token) headers.Authorization = `Bearer ${token}`;
      const body = onlyTcp(pc.localDescription!.sdp);
      const response = await fetch(endpoint, { method: 'POST', headers, body });
      const location = response.headers.get('Location');
      if (response.status !== 201) return { status: response.status, location, error: await response.text() };
      const answerSdp = await response.text();
      await pc.setRemoteDescription({ type: 'answer', sdp: onlyTcp(answerSdp) });
      return { status: response.status, location, answerSdp };
    },
    {
      endpoint,
      ...(token ? { token } : {}),
      ...(options.videoCodec ? { videoCodec: options.videoCodec } : {}),
      tcpOnly: options.tcpOnly === true,
    },
  );
  if (offered.status !== 201) return { ...offered, framesDecoded: 0, audioBytes: 0, audioSamples: 0 };
  // What the answer accepted (a rejected section has port 0) is what must arrive.
  const answer = offered.answerSdp ?? '';
  const video = /^m=video [1-9]/m.test(answer);
  const audio = /^m=audio [1-9]/m.test(answer);
  const media = await waitFor(
    'media decoded in the page',
    async () => {
      const now = await inboundMedia(page);
      return (!video || now.framesDecoded > 0) && (!audio || now.audioSamples > 0) ? now : undefined;
    },
    60_000,
  );
  return { ...offered, ...media };
}
