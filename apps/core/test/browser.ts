import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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
 * Runs inside the page: a plain WHEP client (non-trickle), then waits until video frames are
 * decoded and audio bytes arrive, or the deadline passes. Leaves the peer connection on `window`.
 * With `videoCodec` (e.g. `video/VP8`) it offers only that for video, as a browser without an
 * H.264 decoder does, and waits for audio alone.
 */
export async function playInPage(
  page: import('playwright-core').Page,
  endpoint: string,
  token?: string,
  options: { videoCodec?: string } = {},
): Promise<WhepPlayResult> {
  return page.evaluate(
    async ({ endpoint, token, videoCodec }) => {
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
        setTimeout(resolve, 3000);
      });
      const headers: Record<string, string> = { 'Content-Type': 'application/sdp' };
      if (token) headers.Authorization = `Bearer ${token}`;
      const response = await fetch(endpoint, { method: 'POST', headers, body: pc.localDescription!.sdp });
      const location = response.headers.get('Location');
      if (response.status !== 201) {
        return {
          status: response.status,
          location,
          framesDecoded: 0,
          audioBytes: 0,
          audioSamples: 0,
          error: await response.text(),
        };
      }
      const answerSdp = await response.text();
      await pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
      const deadline = Date.now() + 20_000;
      let framesDecoded = 0;
      let audioBytes = 0;
      let audioSamples = 0;
      while (Date.now() < deadline && ((!videoCodec && framesDecoded === 0) || audioSamples === 0)) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const stats = await pc.getStats();
        stats.forEach((report) => {
          if (report.type !== 'inbound-rtp') return;
          if (report.kind === 'video') framesDecoded = report.framesDecoded ?? 0;
          if (report.kind === 'audio') {
            audioBytes = report.bytesReceived ?? 0;
            audioSamples = report.totalSamplesReceived ?? 0;
          }
        });
      }
      return { status: response.status, location, framesDecoded, audioBytes, audioSamples, answerSdp };
    },
    {
      endpoint,
      ...(token ? { token } : {}),
      ...(options.videoCodec ? { videoCodec: options.videoCodec } : {}),
    },
  );
}
