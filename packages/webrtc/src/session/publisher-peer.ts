import type { RTCPeerConnection, RTCRtpReceiver } from 'werift';
import type { RemoteCandidateGate } from '../ice/remote-candidates.js';
import type { ForwarderStats, PublicationForwarder } from '../ingest/publication-forwarder.js';
import type { RtpSource } from '../ingest/rtp-source.js';
import { type RestartAnswering, type SessionCloseReason, SessionPeer } from './session-peer.js';
import type { TransportFeedbackSender } from './transport-feedback-sender.js';

export type { SessionState as PublisherState } from './session-peer.js';
export type PublisherCloseReason = SessionCloseReason | 'media-timeout';

/** One keyframe request per this long at most: a burst of viewer PLIs is one for the publisher. */
const keyframeRequestIntervalMs = 500;
const ignore = () => undefined;

/**
 * One WHIP publisher: its own werift connection (ICE, DTLS, SRTP, RTCP — werift's receiver sends
 * the receiver reports) whose decrypted RTP a {@link PublicationForwarder} hands to the
 * publication's {@link RtpSource}. Keyframe requests of the source's viewers become PLIs to the
 * publisher, at most one per 500 ms.
 */
export class PublisherPeer extends SessionPeer<'media-timeout'> {
  readonly #source: RtpSource;
  readonly #forwarder: PublicationForwarder;
  readonly #videoReceiver: RTCRtpReceiver | undefined;
  readonly #feedback: TransportFeedbackSender | undefined;
  #lastKeyframeRequestAt = Number.NEGATIVE_INFINITY;
  #keyframeRequests = 0;
  readonly #onSourceClosed = () => this.close('source-closed');
  readonly #onKeyframeRequest = () => this.requestKeyframe();

  constructor(
    pc: RTCPeerConnection,
    source: RtpSource,
    forwarder: PublicationForwarder,
    candidates: RemoteCandidateGate,
    restartAnswering: RestartAnswering,
    feedback?: TransportFeedbackSender,
  ) {
    super(pc, source.id, candidates, restartAnswering);
    this.#feedback = feedback;
    this.#source = source;
    this.#forwarder = forwarder;
    this.#videoReceiver = pc.getTransceivers().find((t) => t.kind === 'video')?.receiver;
    source.once('closed', this.#onSourceClosed);
    source.on('keyframeRequest', this.#onKeyframeRequest);
    // Every decrypted RTP packet of the transport, before werift's router (which still runs: its
    // receivers keep the statistics the receiver reports are made of).
    for (const transport of pc.dtlsTransports)
      transport.onRtp.subscribe((packet) => forwarder.forward(packet));
  }

  /** When the last media packet arrived (ms since the epoch); `undefined` before the first. */
  get lastMediaAt(): number | undefined {
    return this.#forwarder.lastMediaAt;
  }

  /**
   * The codecs negotiated with the publisher, by kind (`h264`, `opus`: the mime subtype, lower
   * case); a kind it does not send is absent.
   */
  get codecs(): { video?: string; audio?: string } {
    const codecs: { video?: string; audio?: string } = {};
    for (const transceiver of this.pc.getTransceivers()) {
      const mimeType = transceiver.codecs[0]?.mimeType;
      if (mimeType && (transceiver.kind === 'video' || transceiver.kind === 'audio'))
        codecs[transceiver.kind] = mimeType.split('/')[1]!.toLowerCase();
    }
    return codecs;
  }

  /**
   * What arrived from the publisher and was handed to the source, the PLIs sent to it and the
   * transport-wide feedback packets (0 when its offer did not ask for transport-cc).
   */
  stats(): ForwarderStats & { keyframeRequests: number; transportFeedbacks: number } {
    return {
      ...this.#forwarder.stats(),
      keyframeRequests: this.#keyframeRequests,
      transportFeedbacks: this.#feedback?.sent ?? 0,
    };
  }

  /**
   * Asks the publisher for a keyframe (RTCP PLI, RFC 4585 §6.3.1) — of every simulcast layer, since
   * the request does not say which rendition a viewer waits for — unless one was asked for in the
   * last 500 ms or no video has arrived yet (a PLI names the SSRC it is about). Returns whether a
   * PLI went out.
   */
  requestKeyframe(now = Date.now()): boolean {
    const ssrcs = this.#forwarder.videoSsrcs;
    const receiver = this.#videoReceiver;
    if (this.state !== 'connected' || ssrcs.length === 0 || receiver === undefined) return false;
    if (now - this.#lastKeyframeRequestAt < keyframeRequestIntervalMs) return false;
    this.#lastKeyframeRequestAt = now;
    this.#keyframeRequests += 1;
    for (const ssrc of ssrcs) if (ssrc !== undefined) void receiver.sendRtcpPLI(ssrc).catch(ignore);
    return true;
  }

  protected override onClose(): void {
    this.#source.off('closed', this.#onSourceClosed);
    this.#source.off('keyframeRequest', this.#onKeyframeRequest);
    this.#forwarder.close();
    this.#feedback?.close();
  }

  protected override onConnected(): boolean {
    return true;
  }
}
