import { createSocket, type Socket } from 'node:dgram';

type Kind = 'video' | 'audio';

/**
 * Sends H.264-shaped and Opus-shaped RTP to loopback ports, as FFmpeg's RTP muxer does, with a
 * chosen SSRC; `restart()` changes SSRC and bases the way an FFmpeg restart does.
 */
export class SyntheticSender {
  readonly socket: Socket = createSocket('udp4');
  #seq = { video: 1000, audio: 2000 };
  #ts = { video: 90_000, audio: 48_000 };
  #frame = 0;

  constructor(
    readonly ports: { video: number; audio?: number | undefined },
    public ssrc = { video: 0x1111, audio: 0x2222 },
    readonly payloadTypes = { video: 96, audio: 111 },
  ) {}

  /** A frame: a keyframe (SPS, PPS, IDR) every `gop` frames, else one non-IDR slice; plus an Opus packet. */
  sendFrame(gop = 25): void {
    const keyframe = this.#frame % gop === 0;
    const nals = keyframe ? [0x67, 0x68, 0x65] : [0x41];
    nals.forEach((nal, index) => {
      const last = index === nals.length - 1;
      this.send('video', Buffer.from([nal, ...Buffer.alloc(last ? 900 : 8, 0xab)]), last);
    });
    this.#ts.video = (this.#ts.video + 3600) >>> 0;
    if (this.ports.audio) {
      this.send('audio', Buffer.alloc(120, 0xcd), true);
      this.#ts.audio = (this.#ts.audio + 960) >>> 0;
    }
    this.#frame++;
  }

  send(kind: Kind, payload: Buffer, marker: boolean): void {
    const header = Buffer.alloc(12);
    header[0] = 0x80;
    header[1] = (marker ? 0x80 : 0) | this.payloadTypes[kind];
    header.writeUInt16BE(this.#seq[kind], 2);
    header.writeUInt32BE(this.#ts[kind], 4);
    header.writeUInt32BE(this.ssrc[kind], 8);
    this.#seq[kind] = (this.#seq[kind] + 1) & 0xffff;
    const port = kind === 'video' ? this.ports.video : this.ports.audio;
    if (port === undefined) throw new Error('no audio port to send audio to');
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
