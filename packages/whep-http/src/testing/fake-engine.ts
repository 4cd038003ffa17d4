import { FakePeer as FakeEnginePeer } from '@dragon/test-helpers';
import type { WhepPeer, WhepProcessEntry, WhepRoutesOptions, WhepSource } from '../options.js';
import { createWhepRoutes } from '../whep-routes.js';

// In-process stand-ins for `@dragon/webrtc`, injected through the options (no module mocking).

export const OFFER = [
  'v=0',
  'o=- 5228595038118931041 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:zjkk',
  'a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y',
  'a=mid:0',
  'a=recvonly',
  'a=rtpmap:111 opus/48000/2',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=ice-ufrag:zjkk',
  'a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y',
  'a=mid:1',
  'a=recvonly',
  'a=rtpmap:96 H264/90000',
  '',
].join('\r\n');

export const ANSWER = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=ice-lite',
  'a=ice-options:trickle',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=ice-ufrag:server',
  'a=ice-pwd:serverpassword',
  'a=sendonly',
  '',
].join('\r\n');

/** A viewer's peer that records what the routes do to it. */
export class FakePeer extends FakeEnginePeer implements WhepPeer {
  /** What `stats()` reports as sent. */
  bytesSent = 0;

  constructor(
    id: string,
    readonly offerSdp: string,
  ) {
    super(id);
  }

  stats(): { bytesSent: number } {
    return { bytesSent: this.bytesSent };
  }

  /** What `adaptation()` reports; undefined: a viewer of one rendition. */
  adapting: { rendition: string; estimateBps: number; loss?: number; switches: number } | undefined;

  adaptation(): { rendition: string; estimateBps: number; switches: number } | undefined {
    return this.adapting;
  }
}

export class FakeSource implements WhepSource {
  hasMedia = true;
}

/** A process that runs and has media (or the given source). */
export function running(source = new FakeSource(), extra: Partial<WhepProcessEntry<FakeSource>> = {}) {
  return { state: 'running' as const, source, ...extra };
}

export interface Harness {
  processes: Map<string, WhepProcessEntry<FakeSource>>;
  peers: FakePeer[];
  /** Make the next createPeer calls fail with this. */
  failWith: Error | undefined;
  /** Runs inside createPeer, before it resolves or rejects. */
  duringCreate: (() => void) | undefined;
  routes: ReturnType<typeof createWhepRoutes>['routes'];
  sessions: ReturnType<typeof createWhepRoutes>['sessions'];
}

/** Routes over one enabled, running process `cam` (plus whatever the test adds). */
export function harness(options: Partial<WhepRoutesOptions<FakeSource>> = {}): Harness {
  const h = {
    processes: new Map<string, WhepProcessEntry<FakeSource>>([['cam', running()]]),
    peers: [] as FakePeer[],
    failWith: undefined as Error | undefined,
    duringCreate: undefined as (() => void) | undefined,
  };
  const { routes, sessions } = createWhepRoutes<FakeSource>({
    lookup: (id) => h.processes.get(id),
    createPeer: async (_source, offerSdp) => {
      h.duringCreate?.();
      if (h.failWith !== undefined) throw h.failWith;
      const peer = new FakePeer(`peer-${h.peers.length + 1}`, offerSdp);
      h.peers.push(peer);
      return { peer, answerSdp: ANSWER };
    },
    ...options,
  });
  return Object.assign(h, { routes, sessions });
}

export const URL_BASE = 'http://localhost/api/v3/process';

/** POSTs the standard offer to process `id`. */
export function postOffer(h: Harness, id = 'cam', headers: Record<string, string> = {}, body = OFFER) {
  return h.routes.request(`${URL_BASE}/${id}/whep`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', ...headers },
    body,
  });
}

/** POSTs an offer and returns the session URL and ETag. */
export async function openSession(h: Harness, id = 'cam', headers: Record<string, string> = {}) {
  const res = await postOffer(h, id, headers);
  if (res.status !== 201) throw new Error(`expected 201, got ${res.status}: ${await res.text()}`);
  return { url: `http://localhost${res.headers.get('location')}`, etag: res.headers.get('etag')! };
}

/** A trickle fragment the way medooze whip-whep-js builds it (credentials at session level). */
export function trickleFragment(
  candidates: string[],
  ufrag = 'zjkk',
  pwd = 'bP+XJMM09aR8AiX1jdukzR6Y',
): string {
  return [
    `a=ice-ufrag:${ufrag}`,
    `a=ice-pwd:${pwd}`,
    'm=audio 9 UDP/TLS/RTP/SAVPF 0',
    'a=mid:0',
    ...candidates.map((c) => `a=${c}`),
    'a=end-of-candidates',
    '',
  ].join('\r\n');
}
