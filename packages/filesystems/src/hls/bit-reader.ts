/**
 * Reads an H.264/H.265 NAL unit's RBSP bit by bit (ITU-T H.264 §7.2, H.265 §7.2): fixed-width
 * fields, Exp-Golomb codes (§9.1), with emulation prevention bytes (`00 00 03`) removed first.
 * Reading past the end throws `RangeError`, which a caller turns into "not known".
 */
export class BitReader {
  readonly #bytes: Uint8Array;
  #bit = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** The RBSP of a NAL unit's payload: every `00 00 03` loses its `03` (H.264 §7.4.1). */
  static fromNal(nal: Uint8Array): BitReader {
    const out = new Uint8Array(nal.length);
    let length = 0;
    let zeros = 0;
    for (const byte of nal) {
      if (zeros >= 2 && byte === 3) {
        zeros = 0;
        continue;
      }
      zeros = byte === 0 ? zeros + 1 : 0;
      out[length++] = byte;
    }
    return new BitReader(out.subarray(0, length));
  }

  /** `count` bits (at most 32) as an unsigned number. */
  bits(count: number): number {
    let value = 0;
    for (let index = 0; index < count; index++) {
      const byte = this.#bytes[this.#bit >> 3];
      if (byte === undefined) throw new RangeError('read past the end of the NAL unit');
      value = value * 2 + ((byte >> (7 - (this.#bit & 7))) & 1);
      this.#bit++;
    }
    return value;
  }

  flag(): boolean {
    return this.bits(1) === 1;
  }

  skip(count: number): void {
    for (let left = count; left > 0; left -= 32) this.bits(Math.min(32, left));
  }

  /** ue(v). */
  ue(): number {
    let zeros = 0;
    while (this.bits(1) === 0) {
      zeros++;
      if (zeros > 31) throw new RangeError('Exp-Golomb code longer than 32 bits');
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }

  /** se(v). */
  se(): number {
    const code = this.ue();
    return code % 2 === 1 ? (code + 1) / 2 : -code / 2;
  }
}
