import { createCipheriv, createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { rtpHeaderLength } from '../ingest/rtp-header.js';

/** The SRTP protection profiles werift negotiates (RFC 5764 §4.1.2, RFC 7714 §14.2). */
export const SrtpProfile = { aesCm128HmacSha1_80: 1, aeadAes128Gcm: 7 } as const;
export type SrtpProfile = (typeof SrtpProfile)[keyof typeof SrtpProfile];

/**
 * The SRTP session keys for what we send to one viewer (RFC 3711 §4.3, derived by werift from the
 * DTLS handshake): cipher key, salt and, for AES-CM, the HMAC-SHA1 key.
 */
export interface SrtpSessionKeys {
  profile: SrtpProfile;
  key: Buffer;
  salt: Buffer;
  authKey?: Buffer;
}

/** The largest RTP packet sent; FFmpeg's RTP muxer stays below it. */
export const maxRtpPacket = 1500;

/**
 * One viewer's SRTP for one of its streams, in JavaScript: the fallback of the native addon, byte for
 * byte the same (tested). The keys are imported once as `KeyObject`s; Node still builds a cipher per
 * packet, which is what makes this path several times dearer than the native one.
 *
 * The ROC (RFC 3711 §3.3.1) starts at 0 with the first packet this stream protects, whatever its
 * place in the source's sequence space: a viewer joins mid-stream and estimates from there.
 */
export class JsSrtpStream {
  readonly #profile: SrtpProfile;
  readonly #key: KeyObject;
  readonly #salt: Buffer;
  readonly #authKey: KeyObject | undefined;
  readonly #ssrc: number;
  readonly #payloadType: number;
  readonly #iv = Buffer.alloc(16);
  readonly #rocBytes = Buffer.alloc(4);
  #based = false;
  #rocBase = 0;
  #seqOffset = 0;
  #tsOffset = 0;

  constructor(keys: SrtpSessionKeys, ssrc: number, payloadType: number) {
    this.#profile = keys.profile;
    this.#key = createSecretKey(keys.key);
    this.#salt = Buffer.from(keys.salt);
    this.#authKey = keys.authKey ? createSecretKey(keys.authKey) : undefined;
    this.#ssrc = ssrc >>> 0;
    this.#payloadType = payloadType & 0x7f;
    if (keys.profile === SrtpProfile.aesCm128HmacSha1_80 && (!this.#authKey || keys.salt.length < 14)) {
      throw new RangeError('the AES-CM profile needs a 14-byte salt and an authentication key');
    }
  }

  /** The rollover counter counts from `ext`'s block of 65536, as if `ext` were the first packet. */
  setIndexBase(ext: number): void {
    this.#based = true;
    this.#rocBase = Math.floor(ext / 65536);
  }

  /**
   * The viewer's output space from the next packet on: a packet of `ext` and timestamp `ts` leaves
   * as `ext + seqOffset` (the ROC counts from there) and `ts + tsOffset`, as the native stream does.
   */
  setOffsets(seqOffset: number, tsOffset: number): void {
    this.#seqOffset = seqOffset;
    this.#tsOffset = tsOffset >>> 0;
  }

  /** The SRTP packet for `packet` (plaintext RTP, sequence number = low 16 bits of `ext`), or undefined. */
  protect(packet: Buffer, sourceExt: number): Buffer | undefined {
    const length = packet.length;
    const headerLength = rtpHeaderLength(packet);
    const ext = sourceExt + this.#seqOffset;
    if (headerLength === 0 || length > maxRtpPacket || ext < 0) return undefined;
    const rolloverUnit = Math.floor(ext / 65536);
    if (!this.#based) {
      this.#based = true;
      this.#rocBase = rolloverUnit;
    }
    const roc = rolloverUnit - this.#rocBase;
    if (roc < 0 || roc > 0xffffffff) return undefined;
    const gcm = this.#profile === SrtpProfile.aeadAes128Gcm;
    const out = Buffer.allocUnsafe(length + (gcm ? 16 : 10));
    packet.copy(out, 0, 0, length);
    out[1] = (packet[1]! & 0x80) | this.#payloadType;
    out.writeUInt32BE(this.#ssrc, 8);
    if (this.#seqOffset !== 0 || this.#tsOffset !== 0) {
      out.writeUInt16BE(ext & 0xffff, 2);
      out.writeUInt32BE((packet.readUInt32BE(4) + this.#tsOffset) >>> 0, 4);
    }
    const sequenceNumber = ext & 0xffff;
    const iv = this.#iv;
    const salt = this.#salt;
    if (gcm) {
      // RFC 7714 §8.1: IV = (0x0000 || SSRC || ROC || SEQ) XOR salt.
      iv.writeUInt16BE(0, 0);
      iv.writeUInt32BE(this.#ssrc, 2);
      iv.writeUInt32BE(roc, 6);
      iv.writeUInt16BE(sequenceNumber, 10);
      for (let i = 0; i < 12; i++) iv[i]! ^= salt[i]!;
      const cipher = createCipheriv('aes-128-gcm', this.#key, iv.subarray(0, 12));
      cipher.setAAD(out.subarray(0, headerLength));
      cipher.update(out.subarray(headerLength, length)).copy(out, headerLength);
      cipher.final();
      cipher.getAuthTag().copy(out, length);
      return out;
    }
    // RFC 3711 §4.1.1: IV = (salt << 16) XOR (SSRC << 64) XOR (index << 16), index = ROC || SEQ.
    iv.writeUInt32BE(0, 0);
    iv.writeUInt32BE(this.#ssrc, 4);
    iv.writeUInt32BE(roc, 8);
    iv.writeUInt16BE(sequenceNumber, 12);
    iv.writeUInt16BE(0, 14);
    for (let i = 0; i < 14; i++) iv[i]! ^= salt[i]!;
    createCipheriv('aes-128-ctr', this.#key, iv)
      .update(out.subarray(headerLength, length))
      .copy(out, headerLength);
    // RFC 3711 §4.2: HMAC-SHA1 over header, encrypted payload and ROC; the first 80 bits are sent.
    this.#rocBytes.writeUInt32BE(roc, 0);
    createHmac('sha1', this.#authKey!)
      .update(out.subarray(0, length))
      .update(this.#rocBytes)
      .digest()
      .copy(out, length, 0, 10);
    return out;
  }
}
