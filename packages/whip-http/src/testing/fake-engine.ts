import { FakePeer } from '@dragon/test-helpers';
import type { IceRestartAnswer, IceRestartRequest } from '@dragon/webrtc';
import { InvalidSdpError, NoUsableCodecError } from '@dragon/webrtc';
import type { WhipPublisher, WhipRoutesOptions } from '../options.js';
import { createWhipRoutes } from '../whip-routes.js';

// An in-process stand-in for `@dragon/webrtc`'s publisher factory, injected through the options.

export const OFFER = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:pubu',
  'a=ice-pwd:publisherpassword0000000',
  'a=mid:0',
  'a=sendonly',
  'a=rtpmap:111 opus/48000/2',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=mid:1',
  'a=sendonly',
  'a=rtpmap:96 H264/90000',
  '',
].join('\r\n');

export const ANSWER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=recvonly\r\n';
export const TOKEN = 'server-secret';
export const BASE = 'http://localhost/api/v3/whip';

/** A publisher's peer that records what the routes do to it. */
export class FakePublisher extends FakePeer implements WhipPublisher {
  override state = 'connected';
  lastMediaAt: number | undefined = Date.now();

  /** The ICE restarts asked for; each is answered with new server credentials and one candidate. */
  readonly restarts: IceRestartRequest[] = [];
  /** What the next restart rejects with, as an engine refusing the restarted offer would. */
  restartFailure: unknown;

  constructor(
    id: string,
    readonly name: string,
  ) {
    super(id);
  }

  async restartIce(request: IceRestartRequest): Promise<IceRestartAnswer> {
    if (this.restartFailure !== undefined) throw this.restartFailure;
    this.restarts.push(request);
    const generation = this.restarts.length;
    return {
      ufrag: `srv${generation}`,
      pwd: `serverpasswordserverpw${generation}`,
      candidates: [`candidate:1 1 udp 2130706431 127.0.0.1 ${40000 + generation} typ host`],
    };
  }
}

/** Routes over a fake engine that judges offers like the real one: `m=` needed, H.264/VP8/Opus. */
export function harness(options: Partial<WhipRoutesOptions<FakePublisher>> = {}) {
  const publishers: FakePublisher[] = [];
  let failWith: unknown;
  const whip = createWhipRoutes<FakePublisher>({
    token: TOKEN,
    clientAddress: () => '192.0.2.1',
    createPublisher: async (offerSdp, { name }) => {
      if (failWith !== undefined) throw failWith;
      if (!offerSdp.includes('\nm=')) throw new InvalidSdpError('no media section');
      if (!/H264|VP8|opus/.test(offerSdp)) throw new NoUsableCodecError(['theora']);
      const publisher = new FakePublisher(`p${publishers.length}`, name);
      publishers.push(publisher);
      return { publisher, answerSdp: ANSWER };
    },
    ...options,
  });
  return {
    ...whip,
    publishers,
    failNext(error: unknown) {
      failWith = error;
    },
    post(
      name = 'cam',
      init: { token?: string | null; body?: string | Uint8Array; headers?: Record<string, string> } = {},
    ) {
      const token = init.token === undefined ? TOKEN : init.token;
      return whip.routes.request(`${BASE}/${name}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/sdp',
          ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
          ...init.headers,
        },
        body: init.body ?? OFFER,
      });
    },
  };
}
