import type { RTCPeerConnection, RTCRtpSender } from 'werift';
import type { PlaneViewer, ViewerTarget } from '../fanout/plane-handles.js';
import type { ShardViewerVideo } from '../fanout/shard.js';
import type { RemoteCandidateGate } from '../ice/remote-candidates.js';
import type { RtpSource } from '../ingest/rtp-source.js';
import type { TrackKind } from '../ingest/track-ingest.js';
import { consentResponses } from '../werift/ice-internals.js';
import { onPictureLoss } from '../werift/picture-loss.js';
import { onReceiverEstimate } from '../werift/receiver-estimate.js';
import { sameTarget, selectedTarget } from '../werift/selected-transport.js';
import { srtpSendKeys, useKeyObjectsForSrtp } from '../werift/srtp-keys.js';
import { SenderReports } from './sender-reports.js';
import {
  type RestartAnswering,
  type SessionCloseReason,
  SessionPeer,
  type SessionState,
} from './session-peer.js';

/** Where an adaptive viewer stands: see {@link Peer.adaptation}. */
export interface ViewerAdaptationState {
  /** The rendition's id (`RtpSource.renditions()`), or `'audio'` while its video is paused. */
  rendition: string;
  /** The estimate of the viewer's link, bit/s. */
  estimateBps: number;
  /** Fraction (0–1) of its video packets lost over the last second, before retransmission. */
  loss: number;
  /** Switches so far. */
  switches: number;
}

export type PeerState = SessionState;
export type PeerCloseReason = SessionCloseReason | 'disconnected-timeout';

/**
 * One viewer: its own werift connection (ICE, DTLS, SDP, RTCP) and, once connected, its place in
 * the source's data plane, which sends it RTP as SRTP under the SSRC and payload types of its
 * werift senders.
 */
export class Peer extends SessionPeer<'disconnected-timeout'> {
  /** Last sign of life from the viewer (RTCP, ICE state). */
  lastHeardAt = Date.now();
  readonly #source: RtpSource;
  readonly #senders: { kind: TrackKind; sender: RTCRtpSender }[];
  #consentResponses = 0;
  #viewer: PlaneViewer | undefined;
  #reports: SenderReports | undefined;
  #target: ViewerTarget = { type: 'none' };
  #adaptive = false;
  readonly #onSourceClosed = () => this.close('source-closed');

  constructor(
    pc: RTCPeerConnection,
    source: RtpSource,
    senders: { video?: RTCRtpSender; audio?: RTCRtpSender },
    candidates: RemoteCandidateGate,
    restartAnswering?: RestartAnswering,
  ) {
    super(pc, source.id, candidates, restartAnswering);
    this.#source = source;
    this.#senders = (['video', 'audio'] as const).flatMap((kind) => {
      const sender = senders[kind];
      return sender ? [{ kind, sender }] : [];
    });
    source.once('closed', this.#onSourceClosed);
    // NACKs are answered from the source's shared history by the data plane. PLIs go to the
    // source, which passes them to a sender that can act on them (a WHIP publisher; FFmpeg cannot,
    // and new viewers are primed from the keyframe cache anyway).
    for (const { kind, sender } of this.#senders) {
      sender.onRtcp.subscribe(() => {
        this.lastHeardAt = Date.now();
      });
      sender.onGenericNack.subscribe((nack) => this.#viewer?.nack(kind, nack.lost));
      if (kind === 'video') onPictureLoss(pc, sender.ssrc, () => source.requestKeyframe());
    }
  }

  /**
   * Counts ICE consent responses (RFC 7675, every ~5 s) as signs of life, so a viewer that sends
   * no RTCP is not mistaken for a vanished one, and follows the ICE pair the media goes to (a
   * viewer may nominate another). Called by the factory's reaper.
   */
  refreshLiveness(now = Date.now()): void {
    const responses = consentResponses(this.pc) ?? 0;
    if (responses !== this.#consentResponses) {
      this.#consentResponses = responses;
      this.lastHeardAt = now;
    }
    if (this.#viewer) this.#followTarget();
  }

  /** RTP packets and their bytes (before SRTP) sent to this viewer, retransmissions included. */
  stats(): { packetsSent: number; bytesSent: number } {
    const stats = this.#viewer?.stats();
    return { packetsSent: stats?.packetsSent ?? 0, bytesSent: stats?.bytesSent ?? 0 };
  }

  protected override onClose(): void {
    this.#source.off('closed', this.#onSourceClosed);
    this.#reports?.stop();
    this.#viewer?.close();
  }

  /** Joins the source's data plane once DTLS has produced the SRTP keys. */
  #attach(): void {
    const keys = srtpSendKeys(this.pc);
    if (!keys || this.#source.closed) {
      // No keys after a completed handshake means werift changed shape (werift-shape.test.ts).
      this.close(this.#source.closed ? 'source-closed' : 'closed');
      return;
    }
    const streams = this.#senders.flatMap(({ kind, sender }) =>
      sender.codec ? [{ kind, ssrc: sender.ssrc, payloadType: sender.codec.payloadType }] : [],
    );
    this.#target = selectedTarget(this.pc);
    const video = this.#videoRenditions();
    this.#viewer = this.#source.attachViewer({
      keys,
      streams,
      target: this.#target,
      ...(video ? { video } : {}),
    });
    if (video?.adaptive) {
      this.#adaptive = true;
      const viewer = this.#viewer;
      onReceiverEstimate(this.pc, (bps) => viewer.receiverEstimate(bps));
    }
    this.#reports = new SenderReports(
      this.#senders.filter(({ sender }) => sender.codec !== undefined),
      this.#source.fanout,
      this.#viewer,
    );
  }

  /**
   * The renditions of the source in the codec the viewer's video negotiated; it starts on the top
   * and, with more than one, is adaptive (its congestion control told of its renditions' bitrates).
   */
  #videoRenditions(): ShardViewerVideo | undefined {
    const mimeType = this.#senders.find(({ kind }) => kind === 'video')?.sender.codec?.mimeType.toLowerCase();
    const renditions = this.#source.renditions();
    if (!mimeType || renditions.length < 2) return undefined;
    const decodable = (codec: string) => mimeType === `video/${codec}`;
    const eligible = renditions.filter((rendition) => decodable(rendition.codec)).map(({ index }) => index);
    if (eligible.length === 0) return undefined;
    const start = eligible[0]!;
    if (eligible.length < 2) return { eligible, start };
    // A rendition with no configured bitrate (a copied top, or a publisher's simulcast layer: its
    // encoder decides) is known by what it measured over the last second.
    const facts = renditions.map((rendition) => ({
      bitrateBps: rendition.bitrateKbit > 0 ? rendition.bitrateKbit * 1000 : rendition.bitrateBps,
      active: decodable(rendition.codec),
    }));
    return { eligible, start, adaptive: { renditions: facts, start, feedback: 'remb' } };
  }

  /**
   * Sends the viewer's video from another rendition (an index of `RtpSource.renditions()`), from
   * that rendition's next keyframe on, or pauses it (`'audio'`: audio only, resumed by the next
   * pin). Sequence numbers and timestamps stay continuous for the viewer. A rendition in a codec
   * the viewer did not negotiate is ignored. `'auto'` hands the viewer back to its congestion
   * control (a viewer with two renditions or more to choose from). Before the viewer is connected,
   * nothing happens.
   */
  pinRendition(rendition: number | 'audio' | 'auto'): void {
    this.#viewer?.pinRendition(rendition);
  }

  /** The rendition the viewer's video is sent from (-1: paused, audio only); undefined before it connects. */
  get rendition(): number | undefined {
    return this.#viewer?.streamCounters('video')?.rendition;
  }

  /**
   * Where an adaptive viewer stands (one whose congestion control picks its rendition): the
   * rendition it is sent (`RtpSource.renditions()` id, or `'audio'` while its video is paused), the
   * estimate of its link in bit/s, the fraction of its video packets lost over the last second (as
   * its reports say, before retransmission), and how many switches it made. Undefined for other
   * viewers and before it connects.
   */
  adaptation(): ViewerAdaptationState | undefined {
    const counters = this.#adaptive ? this.#viewer?.streamCounters('video') : undefined;
    if (!counters) return undefined;
    const rendition =
      counters.rendition < 0 ? 'audio' : (this.#source.renditions()[counters.rendition]?.id ?? 'top');
    return {
      rendition,
      estimateBps: Math.round(counters.estimateBps),
      loss: Math.round(counters.loss * 1000) / 1000,
      switches: counters.switches,
    };
  }

  #followTarget(): void {
    const target = selectedTarget(this.pc);
    if (sameTarget(target, this.#target)) return;
    this.#target = target;
    this.#viewer?.setTarget(target);
  }

  protected override onStateChange(): void {
    this.lastHeardAt = Date.now();
  }

  protected override onConnected(first: boolean): boolean {
    if (!first) {
      // Back after a disconnection or an ICE restart: the media follows the new pair.
      this.#followTarget();
      return true;
    }
    // werift still protects our RTCP and checks the viewer's: give it the faster keys too.
    useKeyObjectsForSrtp(this.pc);
    this.#attach();
    return this.state === 'connected';
  }
}
