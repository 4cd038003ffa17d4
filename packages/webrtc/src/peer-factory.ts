import { isIP } from 'node:net';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, type RTCRtpTransceiver } from 'werift';
import { IcePortsExhaustedError, InvalidSdpError, SourceClosedError } from './errors.js';
import { Peer } from './peer.js';
import { isLoopbackAddress } from './rtp-header.js';
import type { RtpSource } from './rtp-source.js';
import { finishAnswer, planOffer } from './sdp-negotiation.js';

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface PeerFactoryOptions {
  /** STUN/TURN servers. Empty by default: werift's default public STUN server only adds a timeout. @default [] */
  iceServers?: IceServer[];
  /** Addresses advertised as host candidates (public IP, NAT 1:1). */
  publicIps?: string[];
  /** UDP range for viewer ICE sockets. */
  icePortRange?: [number, number];
  /** Gather host candidates only on these addresses (e.g. ['127.0.0.1']). */
  interfaceAddresses?: string[];
  /** A viewer silent (no RTCP, no ICE) for this long is dropped; RFC 7675 consent expires at 30 s. @default 15000 */
  disconnectTimeoutMs?: number;
  /** How long to wait for ICE gathering before answering. @default 5000 */
  gatherTimeoutMs?: number;
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
  readonly #options: Required<Omit<PeerFactoryOptions, 'icePortRange' | 'publicIps' | 'interfaceAddresses'>> &
    Pick<PeerFactoryOptions, 'icePortRange' | 'publicIps' | 'interfaceAddresses'>;
  readonly #peers = new Set<Peer>();
  readonly #reaper: NodeJS.Timeout;
  #closed = false;

  constructor(options: PeerFactoryOptions = {}) {
    const disconnectTimeoutMs = Math.min(options.disconnectTimeoutMs ?? 15_000, 30_000);
    this.#options = { iceServers: [], gatherTimeoutMs: 5000, ...options, disconnectTimeoutMs };
    this.#reaper = setInterval(() => this.#reap(), Math.min(1000, disconnectTimeoutMs / 2));
    this.#reaper.unref();
  }

  get peerCount(): number {
    return this.#peers.size;
  }

  /** Answers a viewer's offer: sendonly H.264 + Opus, every candidate in the answer (no trickle). */
  async createPeer(source: RtpSource, offerSdp: string): Promise<{ peer: Peer; answerSdp: string }> {
    if (source.closed) throw new SourceClosedError(source.id);
    const plan = planOffer(offerSdp, { hasAudio: source.hasAudio });
    const interfaces = this.#options.interfaceAddresses ?? [];
    const publicIps = this.#options.publicIps ?? [];
    const loopbackOnly = interfaces.length > 0 && interfaces.every(isLoopbackAddress);
    const pc = new RTCPeerConnection({
      codecs: { video: [h264()], audio: [opus()] },
      iceServers: this.#options.iceServers,
      iceUseIpv6: interfaces.some((address) => isIP(address) === 6),
      ...(this.#options.icePortRange ? { icePortRange: this.#options.icePortRange } : {}),
      ...(interfaces.length > 0 ? { iceInterfaceAddresses: interfaceMap(interfaces) } : {}),
      ...(interfaces.length > 0 || publicIps.length > 0
        ? { iceAdditionalHostAddresses: [...publicIps, ...interfaces] }
        : {}),
      // On loopback-only deployments (tests, a local relay) pair only with loopback viewers.
      ...(loopbackOnly
        ? { iceFilterCandidatePair: (pair) => isLoopbackAddress(pair.remoteCandidate.host) }
        : {}),
    });
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: plan.sdp });
    } catch (error) {
      await pc.close().catch(() => undefined);
      throw new InvalidSdpError((error as Error).message, { cause: error });
    }
    const senders: { video?: RTCRtpTransceiver['sender']; audio?: RTCRtpTransceiver['sender'] } = {};
    const streamId = `dragon-${source.id}`;
    for (const transceiver of pc.getTransceivers()) {
      const kind = transceiver.kind;
      if (kind !== 'video' && kind !== 'audio') continue;
      if (
        (kind === 'video' && plan.videoPayloadType === undefined) ||
        (kind === 'audio' && plan.audioPayloadType === undefined)
      )
        continue;
      if (senders[kind]) continue;
      // One track per viewer: werift caches sent packets per track for NACK, so sharing one would
      // retransmit with another viewer's SSRC.
      await transceiver.sender.replaceTrack(new MediaStreamTrack({ kind }));
      transceiver.setDirection('sendonly');
      senders[kind] = transceiver.sender;
    }
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await waitForGathering(pc, this.#options.gatherTimeoutMs);
    const allowed = interfaces.length > 0 ? new Set([...interfaces, ...publicIps]) : undefined;
    const finished = finishAnswer(pc.localDescription?.sdp ?? '', { streamId, candidateAddresses: allowed });
    if (finished.candidates === 0) {
      await pc.close().catch(() => undefined);
      throw new IcePortsExhaustedError();
    }
    const peer = new Peer(pc, source, senders);
    this.#peers.add(peer);
    peer.once('closed', () => this.#peers.delete(peer));
    return { peer, answerSdp: finished.sdp };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#reaper);
    for (const peer of [...this.#peers]) peer.close('closed');
  }

  /** A viewer that vanished (no RTCP, never connected) is dropped within the disconnect bound. */
  #reap(): void {
    const now = Date.now();
    const bound = this.#options.disconnectTimeoutMs;
    for (const peer of this.#peers) {
      const silentFor = now - peer.lastHeardAt;
      if (
        peer.state === 'connected' ? silentFor > bound : silentFor > bound && now - peer.createdAt > bound
      ) {
        peer.close('disconnected-timeout');
      }
    }
  }
}

function interfaceMap(addresses: string[]): { udp4?: string; udp6?: string } {
  const v4 = addresses.find((address) => isIP(address) === 4);
  const v6 = addresses.find((address) => isIP(address) === 6);
  return { ...(v4 ? { udp4: v4 } : {}), ...(v6 ? { udp6: v6 } : {}) };
}

async function waitForGathering(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const subscription = pc.iceGatheringStateChange.subscribe((state) => {
      if (state !== 'complete') return;
      clearTimeout(timer);
      subscription.unSubscribe();
      resolve();
    });
  });
}
