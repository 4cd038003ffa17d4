// H.264 parameter sets read from RTP (RFC 6184), for a session description's fmtp: a reader given
// them up front (`sprop-parameter-sets`, §8.1) has the decoder configuration before its first
// packet, as FFmpeg needs to write a stream header (MPEG-TS, FLV, MP4) that a player can decode
// from the first segment on.

const nalSps = 7;
const nalPps = 8;
const stapA = 24;

/** The newest SPS and PPS seen in a stream of H.264 RTP payloads (single NAL units and STAP-A). */
export class H264ParameterSets {
  #sps: Buffer | undefined;
  #pps: Buffer | undefined;

  /** Reads the parameter sets an RTP packet (header included) carries, if any. */
  readPacket(packet: Buffer): void {
    if (packet.length < 13) return;
    let offset = 12 + (packet[0]! & 0x0f) * 4;
    if ((packet[0]! & 0x10) !== 0) {
      // The header extension: 4 bytes of profile and length, then `length` words.
      if (packet.length < offset + 4) return;
      offset += 4 + packet.readUInt16BE(offset + 2) * 4;
    }
    let end = packet.length;
    if ((packet[0]! & 0x20) !== 0) end -= packet[packet.length - 1]!;
    if (offset >= end) return;
    const type = packet[offset]! & 0x1f;
    if (type === stapA) {
      let position = offset + 1;
      while (position + 2 < end) {
        const size = packet.readUInt16BE(position);
        if (position + 2 + size > end) return;
        this.#readUnit(packet.subarray(position + 2, position + 2 + size));
        position += 2 + size;
      }
    } else this.#readUnit(packet.subarray(offset, end));
  }

  #readUnit(unit: Buffer): void {
    if (unit.length < 2) return;
    const type = unit[0]! & 0x1f;
    // An SPS shorter than 4 bytes has no profile and level: not one a decoder can use.
    if (type === nalSps && unit.length >= 4) this.#sps = Buffer.from(unit);
    else if (type === nalPps) this.#pps = Buffer.from(unit);
  }

  /** Both parameter sets have been seen. */
  get complete(): boolean {
    return this.#sps !== undefined && this.#pps !== undefined;
  }

  /**
   * `profile-level-id` and `sprop-parameter-sets` (RFC 6184 §8.1) for an fmtp line, or undefined
   * until both sets have been seen.
   */
  fmtp(): { profileLevelId: string; spropParameterSets: string } | undefined {
    const sps = this.#sps;
    const pps = this.#pps;
    if (!sps || !pps) return undefined;
    return {
      // profile_idc, the constraint flags and level_idc: the three bytes after the NAL header.
      profileLevelId: sps.subarray(1, 4).toString('hex'),
      spropParameterSets: `${sps.toString('base64')},${pps.toString('base64')}`,
    };
  }
}
