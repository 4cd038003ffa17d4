import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PortAllocator } from '@dragon/portalloc';
import { waitFor } from '@dragon/test-helpers';
import { loopbackPeerConnection, SyntheticSender } from '@dragon/test-helpers/werift';
import { withoutDefaultStunServer } from '@dragon/webrtc/werift';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaStreamTrack, type RTCPeerConnection, type RTCRtpTransceiver } from 'werift';
import type { NodeRecord, ProcessRecord } from '../src/cluster-records.js';
import { EdgePull } from '../src/edge-pull.js';
import { EdgeSources } from '../src/edge-sources.js';

const host = '127.0.0.1';

/**
 * An origin's WHEP endpoint for one process, made of a werift peer that answers each offer sendonly
 * with known H.264 and Opus, and counts the PLIs that reach it about its video (read off the
 * transport, by media SSRC, as the server's own peers read them).
 */
class WeriftOrigin {
  readonly #server: Server;
  readonly #peers: RTCPeerConnection[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #senders: SyntheticSender[] = [];
  pictureLossIndications = 0;

  constructor() {
    this.#server = createServer((req, res) => {
      if (req.method === 'DELETE') {
        res.writeHead(200).end();
        return;
      }
      void this.#answer(req).then(
        (sdp) => res.writeHead(201, { 'Content-Type': 'application/sdp', Location: '/session/1' }).end(sdp),
        () => res.writeHead(500).end(),
      );
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, host, resolve));
    return `http://${host}:${(this.#server.address() as AddressInfo).port}`;
  }

  async #answer(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const pc = loopbackPeerConnection(host);
    this.#peers.push(pc);
    withoutDefaultStunServer(pc);
    await pc.setRemoteDescription({ type: 'offer', sdp: Buffer.concat(chunks).toString() });
    const tracks = {
      video: new MediaStreamTrack({ kind: 'video' }),
      audio: new MediaStreamTrack({ kind: 'audio' }),
    };
    const sending = (transceiver: RTCRtpTransceiver) => {
      transceiver.setDirection('sendonly');
      void transceiver.sender.replaceTrack(tracks[transceiver.kind as 'video' | 'audio']);
    };
    const transceivers = pc.getTransceivers();
    for (const transceiver of transceivers) sending(transceiver);
    await pc.setLocalDescription(await pc.createAnswer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      pc.iceGatheringStateChange.subscribe((state) => state === 'complete' && resolve());
    });
    const video = transceivers.find((t) => t.kind === 'video');
    pc.connectionStateChange.subscribe((state) => {
      if (state !== 'connected' || video === undefined) return;
      for (const transport of pc.dtlsTransports) {
        transport.onRtcp.subscribe((packet) => {
          const feedback = (packet as { type?: number; feedback?: { count?: number; mediaSsrc?: number } })
            .feedback;
          if (packet.type === 206 && feedback?.count === 1 && feedback.mediaSsrc === video.sender.ssrc) {
            this.pictureLossIndications += 1;
          }
        });
      }
      const frames = new SyntheticSender((kind, rtp) => tracks[kind].writeRtp(rtp));
      this.#senders.push(frames);
      this.#timers.push(setInterval(() => frames.sendFrame(25), 40));
    });
    return pc.localDescription?.sdp ?? '';
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    for (const frames of this.#senders) frames.close();
    await Promise.all(this.#peers.map((pc) => pc.close().catch(() => undefined)));
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function origin(): Promise<{ origin: WeriftOrigin; url: string }> {
  const server = new WeriftOrigin();
  cleanups.push(() => server.close());
  return { origin: server, url: await server.listen() };
}

function pullTarget(url: string): { record: ProcessRecord; origin: NodeRecord } {
  const now = Date.now();
  return {
    record: {
      id: 'cam',
      node: 'origin',
      reference: '',
      created_at: Math.floor(now / 1000),
      updated_at: Math.floor(now / 1000),
      written_at: now,
      order: 'start',
      exec: 'running',
      reconnect: true,
      failover: false,
      webrtc: { enabled: true, audio: true, token: '' },
      config: {},
      state: {},
      metadata: {},
    },
    origin: {
      id: 'origin',
      name: 'origin',
      url,
      version: 'test',
      started_at: new Date(now).toISOString(),
      heartbeat_at: now,
      load: { viewers: 0, max_viewers: 0, cpu_percent: 0, egress_bps: 0, pulls: 0, processes: 1 },
      pulling: [],
    },
  };
}

describe('keyframe requests from an edge to its origin', () => {
  it("sends a viewer's lost picture upstream: the edge source's request reaches the origin as a PLI", async () => {
    const { origin: server, url } = await origin();
    const edges = new EdgeSources({
      ports: new PortAllocator(),
      viewers: () => 1,
      onSourceClosed: () => undefined,
      resolve: async () => pullTarget(url),
      globalToken: '',
      interfaces: [host],
      idleTimeoutMs: 60_000,
      orphanTimeoutMs: 60_000,
      logger: pino({ level: 'silent' }),
    });
    cleanups.push(() => edges.close());

    const source = await edges.ensure('cam', 15_000);
    expect(source?.hasMedia).toBe(true);
    // What a viewer's PLI does on the edge (the session's picture-loss handler calls exactly this).
    source?.requestKeyframe();
    await waitFor('a PLI at the origin', () => server.pictureLossIndications >= 1, 10_000);
  });

  it("asks at most once per half second, and only once the origin's video is known", async () => {
    const { origin: server, url } = await origin();
    const pull = await EdgePull.open({
      processId: 'cam',
      endpoint: `${url}/api/v3/process/cam/whep`,
      videoPort: 9, // discard: what the edge would forward is not looked at here
      audioPort: 9,
      interfaces: [host],
    });
    cleanups.push(() => pull.close());
    await waitFor('the first request, once the video is known', () => pull.requestKeyframe(0), 10_000);
    expect(pull.requestKeyframe(100)).toBe(false);
    expect(pull.requestKeyframe(499)).toBe(false);
    expect(pull.requestKeyframe(500)).toBe(true);
    expect(pull.keyframeRequests).toBe(2);
    await waitFor('both PLIs at the origin', () => server.pictureLossIndications >= 2, 10_000);
    await pull.close();
    expect(pull.requestKeyframe(10_000)).toBe(false);
  });
});
