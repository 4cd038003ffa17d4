import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { RTCPeerConnection, RTCRtpReceiver } from 'werift';
import { InvalidSdpError, RemoteCandidateRefusedError, SourceClosedError } from '../errors.js';
import type { RemoteCandidateGate } from '../ice/remote-candidates.js';
import type { ForwarderStats, PublicationForwarder } from '../ingest/publication-forwarder.js';
import type { RtpSource } from '../ingest/rtp-source.js';
import { sendCloseNotify } from '../werift/dtls-close-notify.js';
import { answerIceFragment, type IceRestartAnswer, type IceRestartRequest } from './ice-restart.js';
import type { TransportFeedbackSender } from './transport-feedback-sender.js';

export type PublisherState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'closed';
export type PublisherCloseReason =
  | 'closed'
  | 'ice-failed'
  | 'dtls-closed'
  | 'dtls-failed'
  | 'media-timeout'
  | 'source-closed';

/** One keyframe request per this long at most: a burst of viewer PLIs is one for the publisher. */
const keyframeRequestIntervalMs = 500;
const ignore = () => undefined;

/** Answers the publisher's last offer again with its new ICE credentials; returns the answer SDP. */
export type RestartAnswering = (ice: { ufrag: string; pwd: string }) => Promise<string>;

/**
 * One WHIP publisher: its own werift connection (ICE, DTLS, SRTP, RTCP — werift's receiver sends
 * the receiver reports) whose decrypted RTP a {@link PublicationForwarder} hands to the
 * publication's {@link RtpSource}. Keyframe requests of the source's viewers become PLIs to the
 * publisher, at most one per 500 ms.
 */
export class PublisherPeer extends EventEmitter<{ connected: []; closed: [reason: PublisherCloseReason] }> {
  /** 128 random bits, URL-safe. */
  readonly id = randomBytes(16).toString('base64url');
  readonly sourceId: string;
  readonly createdAt = Date.now();
  readonly #pc: RTCPeerConnection;
  readonly #source: RtpSource;
  readonly #forwarder: PublicationForwarder;
  readonly #candidates: RemoteCandidateGate;
  readonly #videoReceiver: RTCRtpReceiver | undefined;
  readonly #restartAnswering: RestartAnswering;
  readonly #feedback: TransportFeedbackSender | undefined;
  /** The restart being made: one at a time, since each re-applies the offer the last one left. */
  #restarting: Promise<unknown> = Promise.resolve();
  #state: PublisherState = 'new';
  #lastKeyframeRequestAt = Number.NEGATIVE_INFINITY;
  #keyframeRequests = 0;
  #ended: Promise<void> | undefined;
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
    super();
    this.#restartAnswering = restartAnswering;
    this.#feedback = feedback;
    this.#pc = pc;
    this.#source = source;
    this.sourceId = source.id;
    this.#forwarder = forwarder;
    this.#candidates = candidates;
    this.#videoReceiver = pc.getTransceivers().find((t) => t.kind === 'video')?.receiver;
    source.once('closed', this.#onSourceClosed);
    source.on('keyframeRequest', this.#onKeyframeRequest);
    // Every decrypted RTP packet of the transport, before werift's router (which still runs: its
    // receivers keep the statistics the receiver reports are made of).
    for (const transport of pc.dtlsTransports) {
      transport.onRtp.subscribe((packet) => forwarder.forward(packet));
      transport.onStateChange.subscribe((state) => {
        if (state === 'closed') this.close('dtls-closed');
        else if (state === 'failed') this.close('dtls-failed');
      });
    }
    pc.connectionStateChange.subscribe((state) => this.#onConnectionState(state));
  }

  get state(): PublisherState {
    return this.#state;
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
    for (const transceiver of this.#pc.getTransceivers()) {
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
    if (this.#state !== 'connected' || ssrcs.length === 0 || receiver === undefined) return false;
    if (now - this.#lastKeyframeRequestAt < keyframeRequestIntervalMs) return false;
    this.#lastKeyframeRequestAt = now;
    this.#keyframeRequests += 1;
    for (const ssrc of ssrcs) if (ssrc !== undefined) void receiver.sendRtcpPLI(ssrc).catch(ignore);
    return true;
  }

  /**
   * A trickled candidate (`candidate:…`, from a WHIP PATCH), under the same cap and address rules
   * as the offer's.
   * @throws RemoteCandidateRefusedError
   */
  async addRemoteCandidate(candidateLine: string): Promise<void> {
    const candidate = candidateLine.replace(/^a=/, '');
    const verdict = this.#candidates.admit(candidate);
    if (!verdict.admitted) throw new RemoteCandidateRefusedError(verdict.reason);
    await this.#pc.addIceCandidate({ candidate, sdpMLineIndex: 0 });
  }

  /**
   * Restarts ICE at the publisher's request (WHIP PATCH with new credentials, RFC 9725 §4.4.1):
   * its last offer is answered again with the new `ufrag`/`pwd`, its candidates are added under
   * the offer's rules, and the server's new credentials and candidates are returned. DTLS, SRTP
   * and the publication carry on over the new candidate pair.
   * @throws InvalidSdpError when werift refuses the restarted offer
   * @throws SourceClosedError when the publisher is closed
   */
  restartIce(request: IceRestartRequest): Promise<IceRestartAnswer> {
    const restarted = this.#restarting.then(
      () => this.#restartIce(request),
      () => this.#restartIce(request),
    );
    this.#restarting = restarted.catch(ignore);
    return restarted;
  }

  async #restartIce(request: IceRestartRequest): Promise<IceRestartAnswer> {
    if (this.#state === 'closed') throw new SourceClosedError(this.sourceId);
    const answerSdp = await this.#restartAnswering({ ufrag: request.ufrag, pwd: request.pwd });
    for (const candidate of request.candidates) {
      // A candidate the rules refuse is left out; the others still count (as in a trickle).
      await this.addRemoteCandidate(candidate).catch(ignore);
    }
    const answer = answerIceFragment(answerSdp);
    if (answer === undefined) throw new InvalidSdpError('the restarted answer has no ICE credentials');
    return answer;
  }

  /**
   * Ends the session: forwarding stops, the publisher is told (a DTLS close_notify unless DTLS or
   * ICE already ended), werift's connection closes. The source stays: the publication outlives
   * its publishers. Calling it again returns the same promise.
   */
  close(reason: PublisherCloseReason = 'closed'): Promise<void> {
    if (this.#ended) return this.#ended;
    this.#state = 'closed';
    this.#source.off('closed', this.#onSourceClosed);
    this.#source.off('keyframeRequest', this.#onKeyframeRequest);
    this.#forwarder.close();
    this.#feedback?.close();
    this.#ended = this.#endConnection(reason);
    this.emit('closed', reason);
    return this.#ended;
  }

  /** Resolves once `close()` is done; undefined while open. */
  get ended(): Promise<void> | undefined {
    return this.#ended;
  }

  async #endConnection(reason: PublisherCloseReason): Promise<void> {
    const gone = reason === 'dtls-closed' || reason === 'dtls-failed' || reason === 'ice-failed';
    if (!gone) await sendCloseNotify(this.#pc).catch(ignore);
    await this.#pc.close().catch(ignore);
  }

  #onConnectionState(state: string): void {
    if (this.#state === 'closed') return;
    switch (state) {
      case 'connecting':
        // Once connected, connecting again is an ICE restart: the publisher is away until it is done.
        this.#state = this.#state === 'new' || this.#state === 'connecting' ? 'connecting' : 'disconnected';
        return;
      case 'connected': {
        const first = this.#state !== 'disconnected';
        this.#state = 'connected';
        if (first) this.emit('connected');
        return;
      }
      case 'disconnected':
        this.#state = 'disconnected';
        return;
      case 'failed':
        this.close('ice-failed');
        return;
      case 'closed':
        this.close('closed');
        return;
    }
  }
}
