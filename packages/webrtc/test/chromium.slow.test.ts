import { type ChildProcess, spawn } from 'node:child_process';
import { waitFor } from '@dragon/test-helpers';
import { gatheredOffer, inboundMedia, launchChromium, selectedProtocol } from '@dragon/test-helpers/chromium';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IceTcpMux, PeerFactory, RtpSource, UdpMux } from '../src/index.js';
import { expectRejectedSection } from './rejected-section.js';

let browser: Browser;
let ffmpeg: ChildProcess | undefined;
let source: RtpSource;
const factory = new PeerFactory({ interfaceAddresses: ['127.0.0.1'] });

beforeAll(async () => {
  source = await RtpSource.open({ id: 'pattern', video: { payloadType: 96 }, audio: { payloadType: 111 } });
  ffmpeg = playPattern(source);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  ffmpeg?.kill('SIGKILL');
  await factory.close();
  source?.close();
});

it('plays real FFmpeg RTP in headless Chromium: frames decoded and audio received', async () => {
  const result = await playInChromium(factory);
  expect(result.framesDecoded).toBeGreaterThan(0);
  expect(result.audioBytes).toBeGreaterThan(0);
});

it('plays in headless Chromium through the single-port UDP mux', async () => {
  const mux = await UdpMux.open({ port: 0, address: '127.0.0.1' });
  const muxFactory = new PeerFactory({ interfaceAddresses: ['127.0.0.1'], udpMux: mux });
  try {
    const result = await playInChromium(muxFactory);
    expect(result.answerSdp).toContain(`127.0.0.1 ${mux.port} typ host`);
    expect(result.framesDecoded).toBeGreaterThan(0);
    expect(result.audioBytes).toBeGreaterThan(0);
    expect(mux.bindingCount).toBe(1);
  } finally {
    await muxFactory.close();
    mux.close();
  }
});

it('plays in headless Chromium over ICE-TCP on one port when UDP cannot be used', async () => {
  const tcpMux = await IceTcpMux.open({ port: 0, address: '127.0.0.1' });
  const tcpFactory = new PeerFactory({ interfaceAddresses: ['127.0.0.1'], tcpMux });
  try {
    // With UDP candidates removed from both sides, TCP is the only path left.
    const result = await playInChromium(tcpFactory, { tcpOnly: true });
    expect(result.answerSdp).toMatch(
      new RegExp(`tcp \\d+ 127\\.0\\.0\\.1 ${tcpMux.port} typ host tcptype passive`),
    );
    expect(result.framesDecoded).toBeGreaterThan(0);
    expect(result.selectedProtocol).toBe('tcp');
    expect(tcpMux.stats.accepted).toBeGreaterThanOrEqual(1);
    // The page is closed: its TCP connection ends, so the peer goes and frees its entry.
    await waitFor('the TCP binding freed', () => tcpMux.bindingCount === 0);
  } finally {
    await tcpFactory.close();
    tcpMux.close();
  }
});

it('answers a browser that offers VP8 only: video rejected well-formed, audio decodes', async () => {
  const result = await playInChromium(factory, { videoCodec: 'video/VP8' });
  expect(result.error).toBeUndefined();
  expectRejectedSection(result.answerSdp, 'video');
  expect(result.audioSamples).toBeGreaterThan(0);
  expect(result.framesDecoded).toBe(0);
});

it('answers an audio and video offer from a video-only source with the audio section rejected', async () => {
  const videoOnly = await RtpSource.open({ id: 'video-only', video: { payloadType: 96 } });
  const encoder = playPattern(videoOnly);
  try {
    const result = await playInChromium(factory, { source: videoOnly });
    expect(result.error).toBeUndefined();
    expectRejectedSection(result.answerSdp, 'audio');
    expect(result.framesDecoded).toBeGreaterThan(0);
  } finally {
    encoder.kill('SIGKILL');
    videoOnly.close();
  }
});

/**
 * What the server's WebRTC legs look like: H.264 constrained baseline (and Opus when the source
 * has audio), RTP to the source's loopback ports.
 */
function playPattern(to: RtpSource): ChildProcess {
  return spawn(
    process.env.CORE_FFMPEG_BINARY ?? 'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi'],
      ...['-i', `testsrc2=size=320x240:rate=25[out0]${to.hasAudio ? ';sine[out1]' : ''}`],
      ...['-map', '0:v:0', '-c:v', 'libx264', '-profile:v', 'baseline', '-tune', 'zerolatency'],
      ...['-pix_fmt', 'yuv420p', '-g', '25'],
      ...['-payload_type', '96', '-f', 'rtp', `udp://127.0.0.1:${to.videoPort}?pkt_size=1200`],
      ...(to.hasAudio
        ? [
            ...['-map', '0:a:0', '-c:a', 'libopus', '-ar', '48000', '-ac', '2'],
            ...['-payload_type', '111', '-f', 'rtp', `udp://127.0.0.1:${to.audioPort}?pkt_size=1200`],
          ]
        : []),
    ],
    { stdio: 'ignore' },
  );
}

const withoutUdpCandidates = (sdp: string) =>
  sdp
    .split('\r\n')
    .filter((line) => !/^a=candidate:\S+ \d+ udp /i.test(line))
    .join('\r\n');

async function playInChromium(
  factory: PeerFactory,
  options: { tcpOnly?: boolean; videoCodec?: string; source?: RtpSource } = {},
) {
  const page = await browser.newPage();
  await page.setContent('<video id="v" autoplay muted playsinline></video>');
  await page.evaluate((videoCodec) => {
    const pc = new RTCPeerConnection();
    (window as unknown as { pc: RTCPeerConnection }).pc = pc;
    const video = pc.addTransceiver('video', { direction: 'recvonly' });
    // A browser without an H.264 decoder offers only what it has, video first.
    if (videoCodec) {
      const codecs = RTCRtpReceiver.getCapabilities('video')?.codecs ?? [];
      video.setCodecPreferences(codecs.filter((codec) => codec.mimeType === videoCodec));
    }
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const stream = new MediaStream();
    (document.getElementById('v') as HTMLVideoElement).srcObject = stream;
    pc.ontrack = (event) => stream.addTrack(event.track);
  }, options.videoCodec);
  const offer = await gatheredOffer(page);
  const from = options.source ?? source;
  const created = await factory.createPeer(from, options.tcpOnly ? withoutUdpCandidates(offer) : offer);
  const answerSdp = options.tcpOnly ? withoutUdpCandidates(created.answerSdp) : created.answerSdp;
  const expected = { video: !options.videoCodec, audio: from.hasAudio };
  const applied = await page.evaluate(async (answer) => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      return undefined;
    } catch (error) {
      return String(error);
    }
  }, answerSdp);
  if (applied !== undefined) {
    await page.close();
    return {
      error: applied,
      framesDecoded: 0,
      audioBytes: 0,
      audioSamples: 0,
      selectedProtocol: '',
      answerSdp,
    };
  }
  const media = await waitFor(
    'media decoded in the page',
    async () => {
      const now = await inboundMedia(page);
      return (!expected.video || now.framesDecoded > 0) && (!expected.audio || now.audioSamples > 0)
        ? now
        : undefined;
    },
    60_000,
  );
  const protocol = await selectedProtocol(page);
  await page.close();
  return { error: undefined, ...media, selectedProtocol: protocol, answerSdp };
}
