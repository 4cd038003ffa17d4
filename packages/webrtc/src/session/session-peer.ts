import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { RTCPeerConnection } from 'werift';
import { InvalidSdpError, RemoteCandidateRefusedError, SourceClosedError } from '../errors.js';
import type { RemoteCandidateGate } from '../ice/remote-candidates.js';
import { sendCloseNotify } from '../werift/dtls-close-notify.js';
import { answerIceFragment, type IceRestartAnswer, type IceRestartRequest } from './ice-restart.js';

export type SessionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'closed';

/** Why any session ends; viewers and publishers each add their own timeouts. */
export type SessionCloseReason = 'closed' | 'ice-failed' | 'dtls-closed' | 'dtls-failed' | 'source-closed';

/** Answers the remote peer's last offer again with its new ICE credentials; returns the answer SDP. */
export type RestartAnswering = (ice: { ufrag: string; pwd: string }) => Promise<string>;

const ignore = () => undefined;

/**
 * What a viewer ({@link Peer}) and a publisher ({@link PublisherPeer}) share: one werift connection
 * answering one offer — its id, trickled candidates under the offer's rules, ICE restarts at the
 * remote peer's request, the connection's states, and an ending that tells the remote peer. The
 * subclass says what "connected" means for it (a viewer joins the data plane) and what closing
 * releases (`onClose`).
 */
export abstract class SessionPeer<Reason extends string> extends EventEmitter<{
  connected: [];
  closed: [reason: Reason | SessionCloseReason];
}> {
  /** 128 random bits, URL-safe: also the WHEP/WHIP session id. */
  readonly id = randomBytes(16).toString('base64url');
  readonly sourceId: string;
  readonly createdAt = Date.now();
  protected readonly pc: RTCPeerConnection;
  readonly #candidates: RemoteCandidateGate;
  readonly #restartAnswering: RestartAnswering | undefined;
  /** The restart being made: one at a time, since each re-applies the offer the last one left. */
  #restarting: Promise<unknown> = Promise.resolve();
  #state: SessionState = 'new';
  #ended: Promise<void> | undefined;

  constructor(
    pc: RTCPeerConnection,
    sourceId: string,
    candidates: RemoteCandidateGate,
    restartAnswering: RestartAnswering | undefined,
  ) {
    super();
    this.pc = pc;
    this.sourceId = sourceId;
    this.#candidates = candidates;
    this.#restartAnswering = restartAnswering;
    pc.connectionStateChange.subscribe((state) => this.#onConnectionState(state));
    // werift leaves the connection state alone when DTLS ends (a close_notify or fatal alert, a
    // failed handshake): without its transport the session carries nothing, so it goes.
    for (const transport of pc.dtlsTransports) {
      transport.onStateChange.subscribe((state) => {
        if (state === 'closed') this.close('dtls-closed');
        else if (state === 'failed') this.close('dtls-failed');
      });
    }
  }

  get state(): SessionState {
    return this.#state;
  }

  /**
   * A trickled candidate (`candidate:…`, from a PATCH). It counts against the same cap as the
   * offer's candidates and passes the same address rules ({@link RemoteCandidateGate}).
   * @throws RemoteCandidateRefusedError
   */
  async addRemoteCandidate(candidateLine: string): Promise<void> {
    const candidate = candidateLine.replace(/^a=/, '');
    const verdict = this.#candidates.admit(candidate);
    if (!verdict.admitted) throw new RemoteCandidateRefusedError(verdict.reason);
    await this.pc.addIceCandidate({ candidate, sdpMLineIndex: 0 });
  }

  /**
   * Restarts ICE at the remote peer's request (a WHIP/WHEP PATCH with new credentials, RFC 9725
   * §4.4.1): its last offer is answered again with the new `ufrag`/`pwd`, its candidates are added
   * under the offer's rules, and the server's new credentials and candidates are returned. DTLS,
   * SRTP and the media carry on over the new candidate pair.
   * @throws InvalidSdpError when werift refuses the restarted offer
   * @throws SourceClosedError when the session is closed
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
    if (this.#state === 'closed' || !this.#restartAnswering) throw new SourceClosedError(this.sourceId);
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
   * Ends the session: `onClose` releases what the subclass holds, the remote peer is told (a DTLS
   * close_notify, unless DTLS or ICE already ended it) and werift's connection closes. Calling it
   * again returns the same promise.
   */
  close(reason: Reason | SessionCloseReason = 'closed'): Promise<void> {
    if (this.#ended) return this.#ended;
    this.#state = 'closed';
    this.onClose();
    this.#ended = this.#endConnection(reason);
    this.emit('closed', reason);
    return this.#ended;
  }

  /** Resolves once `close()` has told the remote peer and closed the connection; undefined while open. */
  get ended(): Promise<void> | undefined {
    return this.#ended;
  }

  /** Releases what the subclass holds (sockets, data-plane places, listeners); called once. */
  protected abstract onClose(): void;

  /**
   * The connection is up: `first` the first time (the session starts), else again after a
   * disconnection or an ICE restart (the media may now go over another candidate pair). Returns
   * whether the session is still connected (a viewer that cannot join the data plane closes).
   */
  protected abstract onConnected(first: boolean): boolean;

  /** Every change of werift's connection state (a viewer counts it as a sign of life). */
  protected onStateChange(): void {}

  async #endConnection(reason: string): Promise<void> {
    // Without it the remote peer learns only from failing ICE consent checks, seconds later.
    const gone = reason === 'dtls-closed' || reason === 'dtls-failed' || reason === 'ice-failed';
    if (!gone) await sendCloseNotify(this.pc).catch(ignore);
    await this.pc.close().catch(ignore);
  }

  #onConnectionState(state: string): void {
    if (this.#state === 'closed') return;
    this.onStateChange();
    switch (state) {
      case 'connecting':
        // Once connected, connecting again is an ICE restart: the peer is away until it is done.
        this.#state = this.#state === 'new' || this.#state === 'connecting' ? 'connecting' : 'disconnected';
        return;
      case 'connected': {
        const first = this.#state !== 'disconnected';
        this.#state = 'connected';
        if (this.onConnected(first) && first) this.emit('connected');
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
