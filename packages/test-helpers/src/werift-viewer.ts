import { dropIceSockets, useKeyObjectsForSrtp, withoutDefaultStunServer } from '@dragon/webrtc/werift';
import type { RTCPeerConnection, RTCRtpCodecParameters, RtpPacket } from 'werift';
import { connectedWithin, gathered, loopbackPeerConnection } from './werift-loopback.js';

export type ViewerKind = 'video' | 'audio';

export interface WeriftViewerOptions {
  /** Keep sequence number, timestamp and SSRC of every received packet in `received`. @default true */
  record?: boolean;
  /** Called for every RTP packet received (benchmarks count and time packets here). */
  onRtp?: (kind: ViewerKind, packet: RtpPacket) => void;
  /**
   * Once connected, hand the SRTP keys to Node's crypto as `KeyObject`s, so the viewer decrypts as
   * cheaply as the server encrypts (benchmarks: viewers and server share the CPU). @default false
   */
  keyObjects?: boolean;
  /** The video codecs to offer instead of H.264 (e.g. VP8 only, as a browser without H.264). */
  videoCodecs?: RTCRtpCodecParameters[];
  /**
   * The local address ICE gathers on and pairs with. @default '127.0.0.1' (a server that offers no
   * loopback candidate, as Janus, needs another address of this machine)
   */
  host?: string;
}

/**
 * A werift viewer on loopback, offering what a browser offers: H.264 packetization-mode 1 with NACK
 * and PLI, and Opus (werift offers VP8 only by default). ICE stays on 127.0.0.1 with no STUN server.
 * @example
 * const viewer = new WeriftViewer();
 * const { answerSdp } = await factory.createPeer(source, await viewer.offer());
 * await viewer.accept(answerSdp);
 */
export class WeriftViewer {
  readonly pc: RTCPeerConnection;
  readonly received = {
    video: [] as { seq: number; ts: number; ssrc: number }[],
    audio: [] as { seq: number; ts: number; ssrc: number }[],
  };

  constructor(options: WeriftViewerOptions = {}) {
    const record = options.record ?? true;
    const host = options.host ?? '127.0.0.1';
    this.pc = loopbackPeerConnection(host, options.videoCodecs);
    if (options.keyObjects) {
      this.pc.connectionStateChange.subscribe((state) => {
        if (state === 'connected') useKeyObjectsForSrtp(this.pc);
      });
    }
    const onRtp = options.onRtp;
    this.pc.onTrack.subscribe((track) => {
      const kind: ViewerKind = track.kind === 'video' ? 'video' : 'audio';
      const list = this.received[kind];
      track.onReceiveRtp.subscribe((rtp) => {
        if (record) {
          list.push({ seq: rtp.header.sequenceNumber, ts: rtp.header.timestamp, ssrc: rtp.header.ssrc });
        }
        onRtp?.(kind, rtp);
      });
    });
  }

  /** Adds a recvonly transceiver per kind and returns the complete (non-trickle) offer. */
  async offer(kinds: readonly ViewerKind[] = ['video', 'audio']): Promise<string> {
    for (const kind of kinds) this.pc.addTransceiver(kind, { direction: 'recvonly' });
    withoutDefaultStunServer(this.pc);
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await gathered(this.pc);
    return this.pc.localDescription!.sdp;
  }

  async accept(answerSdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
  }

  /** Answers a server's offer (Janus's streaming plugin offers; WHEP servers answer) with every candidate. */
  async answer(offerSdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    withoutDefaultStunServer(this.pc);
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await gathered(this.pc);
    return this.pc.localDescription!.sdp;
  }

  /**
   * Resolves true once ICE and DTLS are up, false once the connection failed or closed, or if it is
   * not up within `timeoutMs` — generous, as a test on a busy two-core machine waits for a
   * condition, never for a time.
   */
  connected(timeoutMs = 30_000): Promise<boolean> {
    return connectedWithin(this.pc, timeoutMs);
  }

  /** Cuts the viewer's network without a goodbye: its ICE sockets close and nothing more is sent. */
  vanish(): Promise<void> {
    return dropIceSockets(this.pc);
  }

  async close(): Promise<void> {
    await this.pc.close();
  }
}
