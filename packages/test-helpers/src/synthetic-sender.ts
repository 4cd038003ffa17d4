import { createSocket, type Socket } from 'node:dgram';

type Kind = 'video' | 'audio';

export interface SyntheticSenderOptions {
  /** The video packets' shape. @default 'h264' */
  videoCodec?: 'h264' | 'vp8';
  /** The byte video payloads are filled with after their codec header, to tell legs apart. @default 0xab */
  fill?: number;
  /** First video sequence number and timestamp (FFmpeg picks random ones per leg). @default 1000, 90000 */
  videoBase?: { seq: number; ts: number };
}

/** Where packets go instead of a UDP port (a werift track's `writeRtp`, say). */
export type PacketSink = (kind: Kind, packet: Buffer) => void;

/**
 * Sends H.264- or VP8-shaped and Opus-shaped RTP to loopback ports (or hands it to a
 * {@link PacketSink}), as FFmpeg's RTP muxer does, with a chosen SSRC; `restart()` changes SSRC and
 * bases the way an FFmpeg restart does.
 */
export class SyntheticSender {
  readonly socket: Socket = createSocket('udp4');
  readonly #codec: 'h264' | 'vp8';
  readonly #fill: number;
  #seq = { video: 1000, audio: 2000 };
  #ts = { video: 90_000, audio: 48_000 };
  #frame = 0;

  constructor(
    readonly ports: { video: number; audio?: number | undefined } | PacketSink,
    public ssrc = { video: 0x1111, audio: 0x2222 },
    readonly payloadTypes = { video: 96, audio: 111 },
    options: SyntheticSenderOptions = {},
  ) {
    this.#codec = options.videoCodec ?? 'h264';
    this.#fill = options.fill ?? 0xab;
    if (options.videoBase) {
      this.#seq.video = options.videoBase.seq & 0xffff;
      this.#ts.video = options.videoBase.ts >>> 0;
    }
  }

  /**
   * A frame: a keyframe every `gop` frames (H.264: SPS, PPS, IDR; VP8: a key frame in three
   * packets), else one inter-frame packet; plus an Opus packet.
   */
  sendFrame(gop = 25): void {
    const keyframe = this.#frame % gop === 0;
    const heads = this.#codec === 'h264' ? h264Heads(keyframe) : vp8Heads(keyframe);
    heads.forEach((head, index) => {
      const last = index === heads.length - 1;
      this.send('video', Buffer.from([...head, ...Buffer.alloc(last ? 900 : 8, this.#fill)]), last);
    });
    this.#ts.video = (this.#ts.video + 3600) >>> 0;
    if (typeof this.ports === 'function' || this.ports.audio) {
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
    if (typeof this.ports === 'function') {
      this.ports(kind, Buffer.concat([header, payload]));
      return;
    }
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

/** The NAL header of each packet of an H.264 frame. */
function h264Heads(keyframe: boolean): number[][] {
  return keyframe ? [[0x67], [0x68], [0x65]] : [[0x41]];
}

/**
 * RFC 7741 descriptor (S = 1 on a frame's first packet, partition 0) and, on the first packet, the
 * VP8 payload header's first byte (P = 0: a key frame, RFC 6386 §9.1).
 */
function vp8Heads(keyframe: boolean): number[][] {
  return keyframe ? [[0x10, 0x50, 0x9d, 0x01, 0x2a], [0x00], [0x00]] : [[0x10, 0x51]];
}
