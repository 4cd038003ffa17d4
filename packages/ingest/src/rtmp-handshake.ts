import { randomBytes } from 'node:crypto';
import { RtmpProtocolError } from './errors.js';

/** C1, S1, C2 and S2 are this long (RTMP 1.0 §5.2). */
export const handshakePacketBytes = 1536;
const rtmpVersion = 3;

/**
 * The server's side of RTMP's plain handshake (§5.2): C0 (version 3), C1, then C2 from the client;
 * S0, S1 and S2 from us once C1 is in. S1's version field is zero, which tells clients that this is
 * not the digest ("complex") handshake of Flash Media Server, so none of them checks a digest:
 * FFmpeg validates S1 and S2 only when S1's version byte is 3 or more (`rtmp_handshake`,
 * rtmpproto.c), librtmp and OBS fall back to the plain handshake when it is 0 (`HandShake`,
 * handshake.h). S2 echoes C1; C2 is read and not checked, as FFmpeg's own server does.
 */
export class Handshake {
  readonly #c1 = Buffer.alloc(handshakePacketBytes);
  #versionRead = false;
  #c1Bytes = 0;
  #c2Bytes = 0;

  get done(): boolean {
    return this.#c2Bytes === handshakePacketBytes;
  }

  /**
   * Reads handshake bytes of `data` from `offset`; returns the offset of the first byte after the
   * handshake (or `data.length`). `send` gets S0+S1+S2 once, when C1 is complete.
   */
  push(data: Buffer, offset: number, send: (bytes: Buffer) => void): number {
    if (!this.#versionRead && offset < data.length) {
      const version = data[offset++];
      // 6 is RTMPE (encrypted RTMP), which this server does not speak; anything else is not RTMP.
      if (version !== rtmpVersion) throw new RtmpProtocolError(`RTMP version ${version} is not supported`);
      this.#versionRead = true;
    }
    if (this.#c1Bytes < handshakePacketBytes && offset < data.length) {
      const take = Math.min(handshakePacketBytes - this.#c1Bytes, data.length - offset);
      data.copy(this.#c1, this.#c1Bytes, offset, offset + take);
      this.#c1Bytes += take;
      offset += take;
      if (this.#c1Bytes === handshakePacketBytes) send(this.#answer());
    }
    if (this.#c1Bytes === handshakePacketBytes && offset < data.length) {
      const take = Math.min(handshakePacketBytes - this.#c2Bytes, data.length - offset);
      this.#c2Bytes += take;
      offset += take;
    }
    return offset;
  }

  #answer(): Buffer {
    const s0s1s2 = Buffer.alloc(1 + 2 * handshakePacketBytes);
    s0s1s2[0] = rtmpVersion;
    // S1: time 0, version 0 (plain handshake), then random bytes.
    randomBytes(handshakePacketBytes - 8).copy(s0s1s2, 1 + 8);
    this.#c1.copy(s0s1s2, 1 + handshakePacketBytes);
    return s0s1s2;
  }
}
