import { isIP } from 'node:net';
import { isLoopbackAddress } from '@dragon/portalloc';
import { RTCPeerConnection, RTCRtpCodecParameters, type RTCRtpHeaderExtensionParameters } from 'werift';
import { IcePortsExhaustedError, InvalidSdpError } from '../errors.js';
import type { IceTcpMux } from '../ice/ice-tcp-mux.js';
import type { RemoteCandidatePolicy } from '../ice/remote-candidates.js';
import type { UdpMux, UdpMuxBinding } from '../ice/udp-mux.js';
import type { VideoCodec } from '../ingest/keyframes.js';
import { paceConnectivityChecks } from '../werift/check-pacing.js';
import { withoutDefaultStunServer } from '../werift/default-stun.js';
import { guardDtlsRecords } from '../werift/dtls-record-guard.js';
import { closeUnadvertisedSockets, passiveTcpProtocols } from '../werift/ice-internals.js';
import { startRestartedIce } from '../werift/restarted-ice.js';
import { requireAuthenticatedStun } from '../werift/stun-request-guard.js';
import { iceGatheringComplete } from './ice-gathering.js';
import { offerWithIceCredentials } from './ice-restart.js';
import { type CongestionFeedback, finishAnswer, type OfferPlan } from './sdp-negotiation.js';

// What viewers' and publishers' peers share: one werift connection answering one offer, on the
// same ICE transport (UDP mux, ICE-TCP mux, NAT 1:1 addresses) behind the same werift guards.

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** How the server's peers reach the network; the factories' options. */
export interface IceTransportOptions extends RemoteCandidatePolicy {
  /** STUN/TURN servers. Empty by default: werift's default public STUN server only adds a timeout. @default [] */
  iceServers?: IceServer[];
  /** Addresses advertised as host candidates (public IP, NAT 1:1). */
  publicIps?: string[];
  /** UDP range for per-peer ICE sockets. */
  icePortRange?: [number, number];
  /** Gather host candidates only on these addresses (e.g. ['127.0.0.1']). */
  interfaceAddresses?: string[];
  /** How long to wait for ICE gathering before answering. @default 5000 */
  gatherTimeoutMs?: number;
  /**
   * One UDP socket for all peers (see {@link UdpMux}). Candidates then carry the mux port, and
   * the server gathers no STUN/TURN candidates of its own: advertise `publicIps` instead.
   */
  udpMux?: UdpMux;
  /** Passive ICE-TCP on one port (see {@link IceTcpMux}), for clients whose network blocks UDP. */
  tcpMux?: IceTcpMux;
}

/**
 * What the server speaks, both ways: H.264 packetization-mode 1 (FU-A, what FFmpeg's RTP muxer
 * writes and every browser decodes) with NACK and PLI — or VP8, for a viewer the plan answers with
 * VP8 — and Opus. Fresh objects per peer: werift writes the negotiated payload type into them.
 */
export function serverCodecs(video: VideoCodec = 'h264'): {
  video: RTCRtpCodecParameters[];
  audio: RTCRtpCodecParameters[];
} {
  const feedback = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }];
  return {
    video: [
      video === 'vp8'
        ? new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90_000, rtcpFeedback: feedback })
        : new RTCRtpCodecParameters({
            mimeType: 'video/H264',
            clockRate: 90_000,
            rtcpFeedback: feedback,
            parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
          }),
    ],
    audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2 })],
  };
}

/** A peer connection being answered, with the transport resources it holds. */
export interface Answering {
  pc: RTCPeerConnection;
  binding: UdpMuxBinding | undefined;
  advertised: Set<string> | undefined;
}

/**
 * Opens a werift connection on the configured ICE transport, offering only `codecs` (and the video
 * header extensions given, which werift answers when offered: a simulcast publisher's mid and rid).
 */
export function openAnswering(
  options: IceTransportOptions,
  codecs: { video: RTCRtpCodecParameters[]; audio: RTCRtpCodecParameters[] },
  videoExtensions: RTCRtpHeaderExtensionParameters[] = [],
): Answering {
  const interfaces = options.interfaceAddresses ?? [];
  const publicIps = options.publicIps ?? [];
  const loopbackOnly = interfaces.length > 0 && interfaces.every(isLoopbackAddress);
  const advertised = interfaces.length > 0 ? new Set([...interfaces, ...publicIps]) : undefined;
  const mux = options.udpMux;
  const binding = mux?.createBinding();
  const interfaceAddresses = interfaces.length > 0 ? interfaceMap(interfaces) : mux ? {} : undefined;
  const pc = new RTCPeerConnection({
    codecs,
    ...(videoExtensions.length > 0 ? { headerExtensions: { video: videoExtensions, audio: [] } } : {}),
    // Behind the mux the advertised addresses replace server-side STUN/TURN gathering.
    iceServers: mux ? [] : (options.iceServers ?? []),
    iceUseIpv6: !mux && interfaces.some((address) => isIP(address) === 6),
    ...(options.icePortRange && !mux ? { icePortRange: options.icePortRange } : {}),
    ...(options.tcpMux ? { iceUseTcp: true, iceTcpPassive: true } : {}),
    ...(interfaceAddresses
      ? { iceInterfaceAddresses: binding ? binding.tag(interfaceAddresses) : interfaceAddresses }
      : {}),
    ...(interfaces.length > 0 || publicIps.length > 0
      ? { iceAdditionalHostAddresses: [...publicIps, ...interfaces] }
      : {}),
    // Check only from candidates the answer advertises (werift also gathers the machine's other
    // addresses, which would double every check); on loopback-only deployments (tests, a local
    // relay) pair only with loopback clients.
    ...(advertised
      ? {
          iceFilterCandidatePair: (pair) =>
            advertised.has(pair.localCandidate.host) &&
            (!loopbackOnly || isLoopbackAddress(pair.remoteCandidate.host)),
        }
      : {}),
  });
  return { pc, binding, advertised };
}

type AnswerOptions = IceTransportOptions & { streamId: string; congestionFeedback?: CongestionFeedback };

/**
 * Answers the planned offer with every candidate (no trickle): werift guards installed, gathering
 * waited for, the answer finished for WHEP/WHIP, the UDP mux binding and the ICE-TCP registration
 * keyed to the new ICE credentials. `prepare` runs between the remote description and the answer
 * (a viewer's senders are made there). Returns the answer, the function that releases the
 * transport resources once the peer closes, and `restartIce`, which re-applies the last offer with
 * the remote peer's new ICE credentials (RFC 8839 §4.4.1.1.1), answers it the same way and re-keys
 * the transport routes to the new credentials; on failure the caller closes `pc` and the binding.
 * @throws InvalidSdpError, IcePortsExhaustedError
 */
export async function answerPlannedOffer<T>(
  answering: Answering,
  plan: OfferPlan,
  options: AnswerOptions,
  prepare: (pc: RTCPeerConnection) => T,
): Promise<{
  answerSdp: string;
  prepared: T;
  releaseTransport: () => void;
  restartIce: (ice: { ufrag: string; pwd: string }) => Promise<string>;
}> {
  const { pc } = answering;
  await applyOffer(pc, plan.sdp);
  const prepared = prepare(pc);
  withoutDefaultStunServer(pc);
  requireAuthenticatedStun(pc);
  paceConnectivityChecks(pc);
  guardDtlsRecords(pc);
  const routes = new TransportRoutes(answering, options.tcpMux);
  const answerSdp = await answerAndRoute(answering, plan, options, routes);
  let offered = plan;
  return {
    answerSdp,
    prepared,
    releaseTransport: () => routes.release(),
    restartIce: async (ice) => {
      const restarted = { ...offered, sdp: offerWithIceCredentials(offered.sdp, ice) };
      await applyOffer(pc, restarted.sdp);
      const restartedAnswer = await answerAndRoute(answering, restarted, options, routes);
      offered = restarted;
      startRestartedIce(pc);
      return restartedAnswer;
    },
  };
}

async function applyOffer(pc: RTCPeerConnection, sdp: string): Promise<void> {
  try {
    await pc.setRemoteDescription({ type: 'offer', sdp });
  } catch (error) {
    // werift's exception text describes werift, not the offer: it stays in `cause` (for the log).
    throw new InvalidSdpError('the WebRTC stack could not apply it', { cause: error });
  }
}

/** The answer to the offer just applied, with every candidate, and the routes keyed to its credentials. */
async function answerAndRoute(
  answering: Answering,
  plan: OfferPlan,
  options: AnswerOptions,
  routes: TransportRoutes,
): Promise<string> {
  const { pc, advertised } = answering;
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  await iceGatheringComplete(pc, options.gatherTimeoutMs ?? 5000);
  // The answer carries only the advertised candidates: sockets gathered for others go.
  if (advertised) closeUnadvertisedSockets(pc, advertised);
  const finished = finishAnswer(pc.localDescription?.sdp ?? '', plan, {
    streamId: options.streamId,
    candidateAddresses: advertised,
    tcpPort: options.tcpMux?.port,
    congestionFeedback: options.congestionFeedback,
  });
  if (finished.candidates === 0) throw new IcePortsExhaustedError();
  routes.route(
    iceAttribute(finished.sdp, 'ice-ufrag'),
    iceAttribute(plan.sdp, 'ice-ufrag'),
    iceAttribute(finished.sdp, 'ice-pwd'),
  );
  return finished.sdp;
}

/** The peer's routes on the shared UDP and ICE-TCP ports, keyed to its current ICE credentials. */
class TransportRoutes {
  readonly #answering: Answering;
  readonly #tcpMux: IceTcpMux | undefined;
  #releaseTcp: (() => void) | undefined;

  constructor(answering: Answering, tcpMux: IceTcpMux | undefined) {
    this.#answering = answering;
    this.#tcpMux = tcpMux;
  }

  /** Routes `serverUfrag:clientUfrag` here, in place of the credentials of a previous answer. */
  route(serverUfrag: string, clientUfrag: string, serverPwd: string): void {
    this.#answering.binding?.activate(serverUfrag, clientUfrag, serverPwd);
    this.#releaseTcp?.();
    this.#releaseTcp = this.#tcpMux
      ? routeTcp(this.#answering.pc, this.#tcpMux, serverUfrag, clientUfrag, serverPwd)
      : undefined;
  }

  release(): void {
    this.#answering.binding?.release();
    this.#releaseTcp?.();
  }
}

/**
 * werift opened a passive ICE-TCP listener per peer while gathering; connections arrive on the
 * shared port instead, so those listeners are closed and the peer's protocol is registered there.
 */
function routeTcp(
  pc: RTCPeerConnection,
  tcpMux: IceTcpMux,
  serverUfrag: string,
  clientUfrag: string,
  serverPwd: string,
) {
  const passive = passiveTcpProtocols(pc);
  for (const protocol of passive) protocol.server.close();
  const first = passive[0];
  // Without a passive protocol the client simply has no TCP candidate to use.
  return first ? tcpMux.register(serverUfrag, clientUfrag, serverPwd, first) : undefined;
}

function iceAttribute(sdp: string, name: 'ice-ufrag' | 'ice-pwd'): string {
  const value = new RegExp(`^a=${name}:(\\S+)`, 'm').exec(sdp)?.[1];
  if (!value) throw new InvalidSdpError(`no a=${name}`);
  return value;
}

function interfaceMap(addresses: string[]): { udp4?: string; udp6?: string } {
  const v4 = addresses.find((address) => isIP(address) === 4);
  const v6 = addresses.find((address) => isIP(address) === 6);
  return { ...(v4 ? { udp4: v4 } : {}), ...(v6 ? { udp6: v6 } : {}) };
}
