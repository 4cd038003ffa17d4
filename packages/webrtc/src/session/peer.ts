import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { RTCPeerConnection, RTCRtpSender, RtpPacket } from 'werift';
import { RemoteCandidateRefusedError } from '../errors.js';
import type { RemoteCandidateGate } from '../ice/remote-candidates.js';
import type { MediaSink, RtpSource, TrackKind } from '../ingest/rtp-source.js';
import { consentResponses } from '../werift/ice-internals.js';
import { useKeyObjectsForSrtp } from '../werift/srtp-keys.js';

export type PeerState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'closed';
export type PeerCloseReason =
  | 'closed'
  | 'ice-failed'
  | 'dtls-closed'
  | 'dtls-failed'
  | 'disconnected-timeout'
  | 'source-closed';

const ignore = () => undefined;

/** One viewer: its own werift connection and senders, fed by a source once connected. */
export class Peer
  extends EventEmitter<{ connected: []; closed: [reason: PeerCloseReason] }>
  implements MediaSink
{
  /** 128 random bits, URL-safe: also the WHEP session id. */
  readonly id = randomBytes(16).toString('base64url');
  readonly sourceId: string;
  readonly createdAt = Date.now();
  /** Last sign of life from the viewer (RTCP, ICE state). */
  lastHeardAt = Date.now();
  readonly #pc: RTCPeerConnection;
  readonly #source: RtpSource;
  readonly #video: RTCRtpSender | undefined;
  readonly #audio: RTCRtpSender | undefined;
  readonly #candidates: RemoteCandidateGate;
  #state: PeerState = 'new';
  #packetsSent = 0;
  #consentResponses = 0;
  #bytesSent = 0;
  readonly #onSourceClosed = () => this.close('source-closed');

  constructor(
    pc: RTCPeerConnection,
    source: RtpSource,
    senders: { video?: RTCRtpSender; audio?: RTCRtpSender },
    candidates: RemoteCandidateGate,
  ) {
    super();
    this.#candidates = candidates;
    this.#pc = pc;
    this.#source = source;
    this.sourceId = source.id;
    this.#video = senders.video;
    this.#audio = senders.audio;
    source.once('closed', this.#onSourceClosed);
    // PLIs are not forwarded: new viewers are primed from the source's keyframe cache, and FFmpeg
    // (copying, or encoding with a fixed GOP) has no way to act on a keyframe request.
    for (const sender of [this.#video, this.#audio]) {
      sender?.onRtcp.subscribe(() => {
        this.lastHeardAt = Date.now();
      });
    }
    pc.connectionStateChange.subscribe((state) => this.#onConnectionState(state));
    // werift leaves the connection state alone when DTLS ends (a close_notify or fatal alert from
    // the viewer, a failed handshake): without its transport the viewer gets nothing, so it goes.
    for (const transport of pc.dtlsTransports) {
      transport.onStateChange.subscribe((state) => {
        if (state === 'closed') this.close('dtls-closed');
        else if (state === 'failed') this.close('dtls-failed');
      });
    }
  }

  get state(): PeerState {
    return this.#state;
  }

  /**
   * Counts ICE consent responses (RFC 7675, every ~5 s) as signs of life, so a viewer that sends
   * no RTCP is not mistaken for a vanished one. Called by the factory's reaper.
   */
  refreshLiveness(now = Date.now()): void {
    const responses = consentResponses(this.#pc) ?? 0;
    if (responses !== this.#consentResponses) {
      this.#consentResponses = responses;
      this.lastHeardAt = now;
    }
  }

  stats(): { packetsSent: number; bytesSent: number } {
    return { packetsSent: this.#packetsSent, bytesSent: this.#bytesSent };
  }

  /** Hot path: one call per packet per viewer. werift's sender clones the packet and rewrites SSRC and PT. */
  deliver(kind: TrackKind, packet: RtpPacket, size: number): void {
    const sender = kind === 'video' ? this.#video : this.#audio;
    if (!sender) return;
    sender.sendRtp(packet).catch(ignore);
    this.#packetsSent++;
    this.#bytesSent += size;
    this.#source.countSent(size);
  }

  /**
   * A trickled candidate (`candidate:…`, from a WHEP PATCH). It counts against the same cap as
   * the offer's candidates and passes the same address rules ({@link RemoteCandidateGate}).
   * @throws RemoteCandidateRefusedError
   */
  async addRemoteCandidate(candidateLine: string): Promise<void> {
    const candidate = candidateLine.replace(/^a=/, '');
    const verdict = this.#candidates.admit(candidate);
    if (!verdict.admitted) throw new RemoteCandidateRefusedError(verdict.reason);
    await this.#pc.addIceCandidate({ candidate, sdpMLineIndex: 0 });
  }

  close(reason: PeerCloseReason = 'closed'): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#source.off('closed', this.#onSourceClosed);
    this.#source.unsubscribe(this);
    void this.#pc.close().catch(ignore);
    this.emit('closed', reason);
  }

  #onConnectionState(state: string): void {
    if (this.#state === 'closed') return;
    this.lastHeardAt = Date.now();
    switch (state) {
      case 'connecting':
        this.#state = 'connecting';
        return;
      case 'connected':
        if (this.#state !== 'disconnected') {
          this.#state = 'connected';
          useKeyObjectsForSrtp(this.#pc);
          if (!this.#source.closed) this.#source.subscribe(this);
          this.emit('connected');
        } else this.#state = 'connected';
        return;
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
