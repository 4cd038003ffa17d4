import { isIP } from 'node:net';
import { isLoopbackAddress } from '@dragon/portalloc';
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { IcePortsExhaustedError, InvalidSdpError, SourceClosedError } from '../errors.js';
import type { IceTcpMux } from '../ice/ice-tcp-mux.js';
import { RemoteCandidateGate, type RemoteCandidatePolicy } from '../ice/remote-candidates.js';
import type { UdpMux, UdpMuxBinding } from '../ice/udp-mux.js';
import type { RtpSource } from '../ingest/rtp-source.js';
import { paceConnectivityChecks } from '../werift/check-pacing.js';
import { withoutDefaultStunServer } from '../werift/default-stun.js';
import { guardDtlsRecords } from '../werift/dtls-record-guard.js';
import { closeUnadvertisedSockets, passiveTcpProtocols } from '../werift/ice-internals.js';
import { requireAuthenticatedStun } from '../werift/stun-request-guard.js';
import { iceGatheringComplete } from './ice-gathering.js';
import { Peer } from './peer.js';
import { finishAnswer, type OfferPlan, planOffer } from './sdp-negotiation.js';
import { sendonlySenders } from './sendonly-senders.js';

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface PeerFactoryOptions extends RemoteCandidatePolicy {
  /** STUN/TURN servers. Empty by default: werift's default public STUN server only adds a timeout. @default [] */
  iceServers?: IceServer[];
  /** Addresses advertised as host candidates (public IP, NAT 1:1). */
  publicIps?: string[];
  /** UDP range for viewer ICE sockets. */
  icePortRange?: [number, number];
  /** Gather host candidates only on these addresses (e.g. ['127.0.0.1']). */
  interfaceAddresses?: string[];
  /**
   * A viewer silent (no RTCP, no ICE consent response) for this long is dropped; RFC 7675 consent
   * expires at 30 s. Clamped to 8–30 s: consent checks run every 4–6 s. @default 15000
   */
  disconnectTimeoutMs?: number;
  /** How long to wait for ICE gathering before answering. @default 5000 */
  gatherTimeoutMs?: number;
  /**
   * One UDP socket for all viewers (see {@link UdpMux}). Candidates then carry the mux port, and
   * the server gathers no STUN/TURN candidates of its own: advertise `publicIps` instead.
   */
  udpMux?: UdpMux;
  /** Passive ICE-TCP on one port (see {@link IceTcpMux}), for viewers whose network blocks UDP. */
  tcpMux?: IceTcpMux;
}

/** The H.264 every browser decodes and FFmpeg's RTP muxer sends: packetization-mode 1. */
const h264 = () =>
  new RTCRtpCodecParameters({
    mimeType: 'video/H264',
    clockRate: 90_000,
    rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
    parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  });
const opus = () => new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2 });

/** Creates viewers (werift peers) for sources and reaps those that vanish. */
export class PeerFactory {
  readonly #options: Required<
    Omit<
      PeerFactoryOptions,
      'icePortRange' | 'publicIps' | 'interfaceAddresses' | 'udpMux' | 'tcpMux' | keyof RemoteCandidatePolicy
    >
  > &
    Pick<
      PeerFactoryOptions,
      'icePortRange' | 'publicIps' | 'interfaceAddresses' | 'udpMux' | 'tcpMux' | keyof RemoteCandidatePolicy
    >;
  readonly #peers = new Set<Peer>();
  /** Peers that closed and are still telling their viewer so (see `Peer.close`). */
  readonly #ending = new Set<Promise<void>>();
  readonly #reaper: NodeJS.Timeout;
  #closed = false;

  constructor(options: PeerFactoryOptions = {}) {
    const disconnectTimeoutMs = Math.min(Math.max(options.disconnectTimeoutMs ?? 15_000, 8000), 30_000);
    this.#options = { iceServers: [], gatherTimeoutMs: 5000, ...options, disconnectTimeoutMs };
    this.#reaper = setInterval(() => this.#reap(), Math.min(1000, disconnectTimeoutMs / 2));
    this.#reaper.unref();
  }

  /**
   * werift peer connections this factory holds open (being answered, connecting or connected): a
   * resource count for leak checks. The viewer count is the WHEP session count.
   */
  get connectionCount(): number {
    return this.#peers.size;
  }

  /** Answers a viewer's offer: sendonly H.264 + Opus, every candidate in the answer (no trickle). */
  async createPeer(source: RtpSource, offerSdp: string): Promise<{ peer: Peer; answerSdp: string }> {
    if (source.closed) throw new SourceClosedError(source.id);
    const candidates = new RemoteCandidateGate(this.#options);
    const plan = planOffer(offerSdp, { hasAudio: source.hasAudio, hasVideo: source.hasVideo, candidates });
    const interfaces = this.#options.interfaceAddresses ?? [];
    const publicIps = this.#options.publicIps ?? [];
    const loopbackOnly = interfaces.length > 0 && interfaces.every(isLoopbackAddress);
    const advertised = interfaces.length > 0 ? new Set([...interfaces, ...publicIps]) : undefined;
    const mux = this.#options.udpMux;
    const binding = mux?.createBinding();
    const interfaceAddresses = interfaces.length > 0 ? interfaceMap(interfaces) : mux ? {} : undefined;
    const pc = new RTCPeerConnection({
      codecs: { video: [h264()], audio: [opus()] },
      // Behind the mux the advertised addresses replace server-side STUN/TURN gathering.
      iceServers: mux ? [] : this.#options.iceServers,
      iceUseIpv6: !mux && interfaces.some((address) => isIP(address) === 6),
      ...(this.#options.icePortRange && !mux ? { icePortRange: this.#options.icePortRange } : {}),
      ...(this.#options.tcpMux ? { iceUseTcp: true, iceTcpPassive: true } : {}),
      ...(interfaceAddresses
        ? { iceInterfaceAddresses: binding ? binding.tag(interfaceAddresses) : interfaceAddresses }
        : {}),
      ...(interfaces.length > 0 || publicIps.length > 0
        ? { iceAdditionalHostAddresses: [...publicIps, ...interfaces] }
        : {}),
      // Check only from candidates the answer advertises (werift also gathers the machine's other
      // addresses, which would double every check); on loopback-only deployments (tests, a local
      // relay) pair only with loopback viewers.
      ...(advertised
        ? {
            iceFilterCandidatePair: (pair) =>
              advertised.has(pair.localCandidate.host) &&
              (!loopbackOnly || isLoopbackAddress(pair.remoteCandidate.host)),
          }
        : {}),
    });
    try {
      return await this.#answer(pc, source, { plan, binding, candidates, advertised });
    } catch (error) {
      binding?.release();
      await pc.close().catch(() => undefined);
      throw error;
    }
  }

  async #answer(
    pc: RTCPeerConnection,
    source: RtpSource,
    {
      plan,
      binding,
      candidates,
      advertised,
    }: {
      plan: OfferPlan;
      binding: UdpMuxBinding | undefined;
      candidates: RemoteCandidateGate;
      advertised: Set<string> | undefined;
    },
  ): Promise<{ peer: Peer; answerSdp: string }> {
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: plan.sdp });
    } catch (error) {
      // werift's exception text describes werift, not the offer: it stays in `cause` (for the log).
      throw new InvalidSdpError('the WebRTC stack could not apply it', { cause: error });
    }
    const senders = sendonlySenders(pc, plan);
    const streamId = `dragon-${source.id}`;
    withoutDefaultStunServer(pc);
    requireAuthenticatedStun(pc);
    paceConnectivityChecks(pc);
    guardDtlsRecords(pc);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await iceGatheringComplete(pc, this.#options.gatherTimeoutMs);
    // The answer carries only the advertised candidates: sockets gathered for others go.
    if (advertised) closeUnadvertisedSockets(pc, advertised);
    const tcpMux = this.#options.tcpMux;
    const finished = finishAnswer(pc.localDescription?.sdp ?? '', plan, {
      streamId,
      candidateAddresses: advertised,
      tcpPort: tcpMux?.port,
    });
    if (finished.candidates === 0) throw new IcePortsExhaustedError();
    const serverUfrag = iceAttribute(finished.sdp, 'ice-ufrag');
    const serverPwd = iceAttribute(finished.sdp, 'ice-pwd');
    const viewerUfrag = iceAttribute(plan.sdp, 'ice-ufrag');
    if (binding) binding.activate(serverUfrag, viewerUfrag, serverPwd);
    const releaseTcp = tcpMux ? routeTcp(pc, tcpMux, serverUfrag, viewerUfrag, serverPwd) : undefined;
    const peer = new Peer(pc, source, senders, candidates);
    this.#peers.add(peer);
    peer.once('closed', () => {
      this.#peers.delete(peer);
      // The peer's goodbye is on its way already: the mux's own socket stays open for it.
      binding?.release();
      releaseTcp?.();
      const ended = peer.ended;
      if (ended) {
        this.#ending.add(ended);
        void ended.finally(() => this.#ending.delete(ended));
      }
    });
    return { peer, answerSdp: finished.sdp };
  }

  /**
   * Closes every peer and resolves once each has told its viewer (a DTLS close_notify, see
   * `Peer.close`), including peers closed just before (a server ending its WHEP sessions first).
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      clearInterval(this.#reaper);
      for (const peer of [...this.#peers]) void peer.close('closed');
    }
    await Promise.allSettled([...this.#ending]);
  }

  /** A viewer that vanished (no RTCP, never connected) is dropped within the disconnect bound. */
  #reap(): void {
    const now = Date.now();
    const bound = this.#options.disconnectTimeoutMs;
    for (const peer of this.#peers) {
      peer.refreshLiveness(now);
      const silentFor = now - peer.lastHeardAt;
      if (
        peer.state === 'connected' ? silentFor > bound : silentFor > bound && now - peer.createdAt > bound
      ) {
        peer.close('disconnected-timeout');
      }
    }
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
  viewerUfrag: string,
  serverPwd: string,
) {
  const passive = passiveTcpProtocols(pc);
  for (const protocol of passive) protocol.server.close();
  const first = passive[0];
  // Without a passive protocol the viewer simply has no TCP candidate to use.
  return first ? tcpMux.register(serverUfrag, viewerUfrag, serverPwd, first) : undefined;
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
