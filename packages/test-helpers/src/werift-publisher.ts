import { startRestartedIce, withoutDefaultStunServer } from '@dragon/webrtc/werift';
import { MediaStreamTrack, type RTCPeerConnection } from 'werift';
import { SyntheticSender } from './synthetic-sender.js';
import { connectedWithin, gathered, loopbackPeerConnection } from './werift-loopback.js';

/** The ICE part of a description: credentials and `candidate:…` lines (no `a=`), as an sdpfrag carries. */
export interface IceFragment {
  ufrag: string;
  pwd: string;
  candidates: string[];
}

/** A trickle-ice-sdpfrag body (RFC 8840) with the fragment's credentials and every candidate. */
export function sdpfrag(fragment: IceFragment): string {
  const lines = [`a=ice-ufrag:${fragment.ufrag}`, `a=ice-pwd:${fragment.pwd}`];
  for (const candidate of fragment.candidates) lines.push(`a=${candidate}`);
  return `${[...lines, 'a=end-of-candidates'].join('\r\n')}\r\n`;
}

/**
 * `sdp` (the remote answer a client holds) after an ICE restart: the server's new credentials
 * and candidates in place of the old ones, everything else kept.
 */
export function withIceFragment(sdp: string, answer: IceFragment): string {
  const lines = sdp
    .split('\r\n')
    .filter((line) => line !== '' && !line.startsWith('a=candidate:') && line !== 'a=end-of-candidates')
    .flatMap((line) => {
      if (line.startsWith('a=ice-ufrag:')) return [`a=ice-ufrag:${answer.ufrag}`];
      if (!line.startsWith('a=ice-pwd:')) return [line];
      return [`a=ice-pwd:${answer.pwd}`, ...answer.candidates.map((c) => `a=${c}`), 'a=end-of-candidates'];
    });
  return `${lines.join('\r\n')}\r\n`;
}

/** The ICE credentials and candidates of an SDP or of a trickle-ice-sdpfrag body. */
export function iceFragment(sdp: string): IceFragment {
  const lines = sdp.split('\r\n');
  const value = (prefix: string) => lines.find((line) => line.startsWith(prefix))?.slice(prefix.length) ?? '';
  const candidates = lines.filter((line) => line.startsWith('a=candidate:')).map((line) => line.slice(2));
  return { ufrag: value('a=ice-ufrag:'), pwd: value('a=ice-pwd:'), candidates: [...new Set(candidates)] };
}

/**
 * A WHIP publisher on loopback made of werift: sendonly H.264 + Opus tracks fed with the
 * synthetic frames of {@link SyntheticSender} (a keyframe every `gop` frames), so what arrives at
 * the server is known and deterministic. It counts the PLIs the server sends it.
 * @example
 * const publisher = new WeriftPublisher();
 * const res = await fetch(whipUrl, { method: 'POST', body: await publisher.offer(), headers });
 * await publisher.accept(await res.text());
 * setInterval(() => publisher.sendFrame(), 40);
 */
export class WeriftPublisher {
  readonly pc: RTCPeerConnection;
  readonly #video = new MediaStreamTrack({ kind: 'video' });
  readonly #audio = new MediaStreamTrack({ kind: 'audio' });
  readonly #frames: SyntheticSender;
  /** PLIs received for the video track. */
  pictureLossIndications = 0;
  /** RTCP receiver reports received about the video track. */
  receiverReports = 0;
  #closed = false;

  constructor(options: { host?: string; audio?: boolean } = {}) {
    this.pc = loopbackPeerConnection(options.host ?? '127.0.0.1');
    const video = this.pc.addTransceiver(this.#video, { direction: 'sendonly' });
    if (options.audio !== false) this.pc.addTransceiver(this.#audio, { direction: 'sendonly' });
    video.sender.onPictureLossIndication.subscribe(() => {
      this.pictureLossIndications += 1;
    });
    video.sender.onRtcp.subscribe((packet) => {
      if (packet.type === 201) this.receiverReports += 1;
    });
    this.#frames = new SyntheticSender((kind, packet) =>
      (kind === 'video' ? this.#video : this.#audio).writeRtp(packet),
    );
  }

  /** The complete (non-trickle) offer. */
  async offer(): Promise<string> {
    withoutDefaultStunServer(this.pc);
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await gathered(this.pc);
    return this.pc.localDescription!.sdp;
  }

  async accept(answerSdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
  }

  /**
   * Starts an ICE restart as a WHIP client does (RFC 9725 §4.4.1): a new offer with new
   * credentials, applied locally; returns what its sdpfrag PATCH carries.
   */
  async restartIceOffer(): Promise<IceFragment> {
    this.pc.restartIce();
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await gathered(this.pc);
    return iceFragment(this.pc.localDescription!.sdp);
  }

  /** Applies the server's answer fragment to the remote description, as a WHIP client does. */
  async acceptIceRestart(answer: IceFragment): Promise<void> {
    const sdp = withIceFragment(this.pc.remoteDescription!.sdp, answer);
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    startRestartedIce(this.pc);
  }

  /** Whether every ICE transport is connected, checked with the server's credentials `serverUfrag`. */
  iceConnectedTo(serverUfrag: string): boolean {
    return this.pc.iceTransports.every(
      (transport) => transport.state === 'connected' && transport.connection.remoteUsername === serverUfrag,
    );
  }

  /** Resolves true once ICE and DTLS are up, false after `timeoutMs`. */
  connected(timeoutMs = 30_000): Promise<boolean> {
    return connectedWithin(this.pc, timeoutMs);
  }

  /** One video frame (a keyframe every `gop`) and one Opus packet. */
  sendFrame(gop = 25): void {
    this.#frames.sendFrame(gop);
  }

  /**
   * Sends an RTP packet made elsewhere (e.g. FFmpeg's real H.264 or Opus) on the `kind` track;
   * werift stamps its own SSRC and the negotiated payload type.
   */
  writeRtp(kind: 'video' | 'audio', packet: Buffer): void {
    if (!this.#closed) (kind === 'video' ? this.#video : this.#audio).writeRtp(packet);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#frames.close();
    await this.pc.close();
  }
}
