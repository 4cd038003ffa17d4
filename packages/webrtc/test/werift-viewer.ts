import { createSocket, type Socket } from 'node:dgram';
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { withoutDefaultStunServer } from '../src/index.js';

/**
 * A werift viewer on loopback. werift offers VP8 only by default, so H.264 and Opus are listed here
 * (pass `videoCodecs` to offer something else), and ICE is kept to 127.0.0.1 with no STUN server.
 */
export class WeriftViewer {
  readonly pc: RTCPeerConnection;
  readonly received = {
    video: [] as { seq: number; ts: number; ssrc: number }[],
    audio: [] as { seq: number; ts: number; ssrc: number }[],
  };

  constructor(videoCodecs?: RTCRtpCodecParameters[]) {
    this.pc = new RTCPeerConnection({
      iceServers: [],
      iceInterfaceAddresses: { udp4: '127.0.0.1' },
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceFilterCandidatePair: (pair) => pair.remoteCandidate.host === '127.0.0.1',
      codecs: {
        video: videoCodecs ?? [
          new RTCRtpCodecParameters({
            mimeType: 'video/H264',
            clockRate: 90_000,
            rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
            parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
          }),
        ],
        audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2 })],
      },
    });
    this.pc.onTrack.subscribe((track) => {
      const list = track.kind === 'video' ? this.received.video : this.received.audio;
      track.onReceiveRtp.subscribe((rtp) => {
        list.push({ seq: rtp.header.sequenceNumber, ts: rtp.header.timestamp, ssrc: rtp.header.ssrc });
      });
    });
  }

  async offer(kinds: ('video' | 'audio')[] = ['video', 'audio']): Promise<string> {
    for (const kind of kinds) this.pc.addTransceiver(kind, { direction: 'recvonly' });
    withoutDefaultStunServer(this.pc);
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await new Promise<void>((resolve) => {
      if (this.pc.iceGatheringState === 'complete') return resolve();
      this.pc.iceGatheringStateChange.subscribe((state) => state === 'complete' && resolve());
    });
    return this.pc.localDescription!.sdp;
  }

  async accept(answerSdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
  }

  async close(): Promise<void> {
    await this.pc.close();
  }
}

/** Sends H.264-shaped and Opus-shaped RTP from loopback, like FFmpeg does, with a chosen SSRC. */
export class SyntheticSender {
  readonly socket: Socket = createSocket('udp4');
  #seq = { video: 1000, audio: 2000 };
  #ts = { video: 90_000, audio: 48_000 };
  #frame = 0;

  constructor(
    readonly ports: { video: number; audio?: number },
    public ssrc = { video: 0x1111, audio: 0x2222 },
    readonly payloadTypes = { video: 96, audio: 111 },
  ) {}

  /** A frame: a keyframe (SPS, PPS, IDR) every `gop` frames, else one non-IDR slice; plus an Opus packet. */
  sendFrame(gop = 25): void {
    const keyframe = this.#frame % gop === 0;
    const nals = keyframe ? [0x67, 0x68, 0x65] : [0x41];
    nals.forEach((nal, index) => {
      this.send(
        'video',
        Buffer.from([nal, ...Buffer.alloc(index === nals.length - 1 ? 900 : 8, 0xab)]),
        index === nals.length - 1,
      );
    });
    this.#ts.video = (this.#ts.video + 3600) >>> 0;
    if (this.ports.audio) {
      this.send('audio', Buffer.alloc(120, 0xcd), true);
      this.#ts.audio = (this.#ts.audio + 960) >>> 0;
    }
    this.#frame++;
  }

  send(kind: 'video' | 'audio', payload: Buffer, marker: boolean): void {
    const header = Buffer.alloc(12);
    header[0] = 0x80;
    header[1] = (marker ? 0x80 : 0) | this.payloadTypes[kind];
    header.writeUInt16BE(this.#seq[kind], 2);
    header.writeUInt32BE(this.#ts[kind], 4);
    header.writeUInt32BE(this.ssrc[kind], 8);
    this.#seq[kind] = (this.#seq[kind] + 1) & 0xffff;
    const port = kind === 'video' ? this.ports.video : this.ports.audio!;
    this.socket.send(Buffer.concat([header, payload]), port, '127.0.0.1');
  }

  /** What an FFmpeg restart looks like on the wire: new SSRC and new random bases. */
  restart(): void {
    this.ssrc = { video: this.ssrc.video + 1, audio: this.ssrc.audio + 1 };
    this.#seq = { video: 65_530, audio: 10 };
    this.#ts = { video: 4_294_960_000, audio: 7 };
    this.#frame = 0;
  }

  close(): void {
    this.socket.close();
  }
}

export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
