import { RTCPeerConnection } from 'werift';
import { SourceClosedError } from '../errors.js';
import { RemoteCandidateGate } from '../ice/remote-candidates.js';
import type { RtpSource } from '../ingest/rtp-source.js';
import { answerPlannedOffer, type IceTransportOptions, openAnswering, serverCodecs } from './answerer.js';
import { Peer } from './peer.js';
import { type OfferPlan, planOffer } from './sdp-negotiation.js';
import { sendonlySenders } from './sendonly-senders.js';

export type { IceServer } from './answerer.js';

export interface PeerFactoryOptions extends IceTransportOptions {
  /**
   * A viewer silent (no RTCP, no ICE consent response) for this long is dropped; RFC 7675 consent
   * expires at 30 s. Clamped to 8–30 s: consent checks run every 4–6 s. @default 15000
   */
  disconnectTimeoutMs?: number;
}

/** Creates viewers (werift peers) for sources and reaps those that vanish. */
export class PeerFactory {
  readonly #options: PeerFactoryOptions & { disconnectTimeoutMs: number };
  readonly #peers = new Set<Peer>();
  /** Peers that closed and are still telling their viewer so (see `Peer.close`). */
  readonly #ending = new Set<Promise<void>>();
  readonly #reaper: NodeJS.Timeout;
  #closed = false;

  constructor(options: PeerFactoryOptions = {}) {
    const disconnectTimeoutMs = Math.min(Math.max(options.disconnectTimeoutMs ?? 15_000, 8000), 30_000);
    this.#options = { ...options, disconnectTimeoutMs };
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

  /**
   * Answers a viewer's offer: sendonly H.264 (or VP8, for a viewer without H.264 of a source that
   * has a VP8 rendition) + Opus, every candidate in the answer (no trickle).
   */
  async createPeer(source: RtpSource, offerSdp: string): Promise<{ peer: Peer; answerSdp: string }> {
    if (source.closed) throw new SourceClosedError(source.id);
    const candidates = new RemoteCandidateGate(this.#options);
    const plan = planOffer(offerSdp, {
      hasAudio: source.hasAudio,
      hasVideo: source.hasVideo,
      videoCodecs: source.videoCodecs(),
      candidates,
    });
    const answering = openAnswering(this.#options, serverCodecs(plan.videoCodec));
    try {
      const { answerSdp, prepared, releaseTransport, restartIce } = await answerPlannedOffer(
        answering,
        plan,
        { ...this.#options, streamId: `dragon-${source.id}`, congestionFeedback: feedbackFor(source, plan) },
        (pc) => sendonlySenders(pc, plan),
      );
      const peer = new Peer(answering.pc, source, prepared, candidates, restartIce);
      this.#peers.add(peer);
      // Counted from the answer on, so a VP8 encode made on demand is running by the time it connects.
      const releaseDemand = plan.videoCodec ? source.addDemand(plan.videoCodec) : undefined;
      peer.once('closed', () => {
        releaseDemand?.();
        this.#peers.delete(peer);
        // The peer's goodbye is on its way already: the mux's own socket stays open for it.
        releaseTransport();
        const ended = peer.ended;
        if (ended) {
          this.#ending.add(ended);
          void ended.finally(() => this.#ending.delete(ended));
        }
      });
      return { peer, answerSdp };
    } catch (error) {
      answering.binding?.release();
      await answering.pc.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Makes the first viewer's answer as quick as the next ones': werift makes its DTLS certificate
   * (one per process) when it first answers, and the code of an answer runs cold then. Measured on
   * the built server, the first WHEP answer after a start took 0.4–1.2 s (0.6 s of it in the first
   * `createAnswer`), the next ones 20–50 ms. This negotiates once between two werift connections
   * that gather nothing and bind no socket, and closes them; call it at start, without waiting.
   */
  async warmUp(): Promise<void> {
    const codecs = serverCodecs();
    const offerer = new RTCPeerConnection({ codecs });
    const answerer = new RTCPeerConnection({ codecs });
    try {
      offerer.addTransceiver('video', { direction: 'recvonly' });
      offerer.addTransceiver('audio', { direction: 'recvonly' });
      const offer = await offerer.createOffer();
      await answerer.setRemoteDescription(offer);
      await answerer.createAnswer();
    } finally {
      await Promise.allSettled([offerer.close(), answerer.close()]);
    }
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
 * An H.264 viewer of a source with two H.264 renditions or more is adaptive (`Peer`): its answer
 * asks for REMB, which its congestion control reads. Every other viewer's asks for none.
 */
function feedbackFor(source: RtpSource, plan: OfferPlan): 'remb' | 'none' {
  if (plan.videoPayloadType === undefined) return 'none';
  const h264 = source.renditions().filter((rendition) => rendition.codec === 'h264').length;
  return h264 >= 2 ? 'remb' : 'none';
}
