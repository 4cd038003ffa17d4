/**
 * The recent packets of one source track, written once by the thread that receives them and read
 * by every thread that sends them: the NACK history (RFC 4585 §6.2.1) and the keyframe cache of
 * fast start in one ring, shared by all viewers instead of a copy per viewer.
 *
 * Packets are indexed by their extended sequence number (the 16-bit RTP sequence number counted
 * past each wrap: `ext`), which the source's continuity makes gap-free across FFmpeg restarts, so
 * every viewer shares the source's sequence space and a retransmission is found by sequence alone.
 *
 * Layout (one `SharedArrayBuffer` between threads, an `ArrayBuffer` in one thread):
 * - `Int32` control words: a publish counter (readers wait on it with `Atomics.waitAsync`), a
 *   reserve counter (its atomic updates order the byte writes), and a version per entry (a seqlock:
 *   odd while the entry is rewritten);
 * - `Float64` fields: head ext, bytes reserved so far, the ext of the last keyframe's first packet and its arrival,
 *   the newest packet's RTP timestamp and arrival time (for Sender Reports), and per entry its ext,
 *   byte position and length;
 * - the packet bytes, a ring: a packet never straddles its end.
 *
 * A reader copies a packet out and then checks that neither its entry nor its bytes were rewritten
 * meanwhile, so a slow reader gets "gone", never a torn packet.
 */
export interface PacketHistoryOptions {
  /** Entries (packets) kept at most; rounded up to a power of two. */
  entries: number;
  /** Bytes of packet data kept at most. */
  bytes: number;
  /** Share with other threads (a `SharedArrayBuffer`). */
  shared: boolean;
}

const i32Words = { publish: 0, reserve: 1, entries: 2, bytes: 3 } as const;
const i32Header = 4;
const f64Fields = { head: 0, written: 1, keyframe: 2, rtpTimestamp: 3, arrivalMs: 4, keyframeAt: 5 } as const;
const f64Header = 6;
/** No packet yet / no keyframe cached. */
const none = -1;

function nextPowerOfTwo(value: number): number {
  let result = 1;
  while (result < value) result *= 2;
  return result;
}

export class PacketHistory {
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  readonly #entries: number;
  readonly #mask: number;
  readonly #capacity: number;
  readonly #i32: Int32Array;
  readonly #versions: Int32Array;
  readonly #f64: Float64Array;
  readonly #extOf: Float64Array;
  readonly #startOf: Float64Array;
  readonly #lengthOf: Float64Array;
  readonly #data: Uint8Array;

  private constructor(buffer: SharedArrayBuffer | ArrayBuffer) {
    this.buffer = buffer;
    const words = new Int32Array(buffer, 0, i32Header);
    this.#entries = words[i32Words.entries]!;
    this.#capacity = words[i32Words.bytes]!;
    this.#mask = this.#entries - 1;
    const i32Bytes = (i32Header + this.#entries) * 4;
    const f64Offset = Math.ceil(i32Bytes / 8) * 8;
    const f64Count = f64Header + 3 * this.#entries;
    this.#i32 = new Int32Array(buffer, 0, i32Header);
    this.#versions = new Int32Array(buffer, i32Header * 4, this.#entries);
    this.#f64 = new Float64Array(buffer, f64Offset, f64Header);
    const fields = f64Offset + f64Header * 8;
    this.#extOf = new Float64Array(buffer, fields, this.#entries);
    this.#startOf = new Float64Array(buffer, fields + this.#entries * 8, this.#entries);
    this.#lengthOf = new Float64Array(buffer, fields + 2 * this.#entries * 8, this.#entries);
    this.#data = new Uint8Array(buffer, f64Offset + f64Count * 8, this.#capacity);
  }

  static create(options: PacketHistoryOptions): PacketHistory {
    const entries = nextPowerOfTwo(Math.max(16, options.entries));
    const i32Bytes = (i32Header + entries) * 4;
    const f64Offset = Math.ceil(i32Bytes / 8) * 8;
    const size = f64Offset + (f64Header + 3 * entries) * 8 + options.bytes;
    const buffer = options.shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size);
    const words = new Int32Array(buffer, 0, i32Header);
    words[i32Words.entries] = entries;
    words[i32Words.bytes] = options.bytes;
    const history = new PacketHistory(buffer);
    history.#f64[f64Fields.head] = none;
    history.#f64[f64Fields.keyframe] = none;
    history.#extOf.fill(none);
    return history;
  }

  /** A view of a history another thread created. */
  static attach(buffer: SharedArrayBuffer | ArrayBuffer): PacketHistory {
    return new PacketHistory(buffer);
  }

  /** The ext of the newest packet, or -1. */
  get head(): number {
    return this.#f64[f64Fields.head]!;
  }

  /** The ext of the first packet of the newest keyframe (SPS onwards), or -1 when none is cached. */
  get keyframe(): number {
    return this.#f64[f64Fields.keyframe]!;
  }

  /** When the cached keyframe's first packet arrived (ms); meaningful while `keyframe` is not -1. */
  get keyframeAt(): number {
    return this.#f64[f64Fields.keyframeAt]!;
  }

  /** Counter readers wait on: it changes after every append. */
  get publishWords(): Int32Array {
    return this.#i32;
  }

  static readonly publishIndex = i32Words.publish;

  /**
   * The ext of a 16-bit sequence number: the first packet is its own sequence number (ROC 0), later
   * ones the nearest value to the head (RFC 3711 Appendix A's index estimate, for a single writer).
   */
  extend(sequenceNumber: number): number {
    const head = this.head;
    if (head === none) return sequenceNumber;
    const delta = ((sequenceNumber - head + 0x8000) & 0xffff) - 0x8000;
    return head + delta;
  }

  /** The ext at or before `newest` whose low 16 bits are `sequenceNumber` (a NACKed packet). */
  static before(newest: number, sequenceNumber: number): number {
    return newest - ((newest - sequenceNumber) & 0xffff);
  }

  /** Writer only. `keyframe` starts a new cached GOP at this packet; `forgetKeyframe` drops it. */
  append(packet: Uint8Array, ext: number, rtpTimestamp: number, arrivalMs: number, keyframe: boolean): void {
    const length = packet.length;
    if (length > this.#capacity) return;
    const f64 = this.#f64;
    let position = f64[f64Fields.written]!;
    const offset = position % this.#capacity;
    if (offset + length > this.#capacity) position += this.#capacity - offset;
    // Publish the reservation before touching bytes a reader may still be copying.
    f64[f64Fields.written] = position + length;
    Atomics.add(this.#i32, i32Words.reserve, 1);
    this.#data.set(packet, position % this.#capacity);
    const slot = ext & this.#mask;
    Atomics.add(this.#versions, slot, 1);
    this.#extOf[slot] = ext;
    this.#startOf[slot] = position;
    this.#lengthOf[slot] = length;
    Atomics.add(this.#versions, slot, 1);
    if (ext > f64[f64Fields.head]!) {
      f64[f64Fields.head] = ext;
      f64[f64Fields.rtpTimestamp] = rtpTimestamp;
      f64[f64Fields.arrivalMs] = arrivalMs;
    }
    if (keyframe) {
      f64[f64Fields.keyframe] = ext;
      f64[f64Fields.keyframeAt] = arrivalMs;
    }
    Atomics.add(this.#i32, i32Words.publish, 1);
    Atomics.notify(this.#i32, i32Words.publish);
  }

  /** Writer only: the cached GOP is not worth replaying (too long); wait for the next keyframe. */
  forgetKeyframe(): void {
    this.#f64[f64Fields.keyframe] = none;
  }

  /** Copies packet `ext` into `into` and returns its length, or 0 when it is not (or no longer) kept. */
  read(ext: number, into: Uint8Array): number {
    if (ext < 0) return 0;
    const slot = ext & this.#mask;
    const version = Atomics.load(this.#versions, slot);
    if ((version & 1) !== 0 || this.#extOf[slot] !== ext) return 0;
    const start = this.#startOf[slot]!;
    const length = this.#lengthOf[slot]!;
    if (length > into.length || !this.#intact(start)) return 0;
    const offset = start % this.#capacity;
    into.set(this.#data.subarray(offset, offset + length));
    if (!this.#intact(start) || Atomics.load(this.#versions, slot) !== version) return 0;
    return length;
  }

  /** The newest packet's RTP timestamp and arrival time, read consistently (for Sender Reports). */
  clock(): { rtpTimestamp: number; arrivalMs: number } | undefined {
    for (;;) {
      const before = Atomics.load(this.#i32, i32Words.publish);
      if (this.head === none) return undefined;
      const rtpTimestamp = this.#f64[f64Fields.rtpTimestamp]!;
      const arrivalMs = this.#f64[f64Fields.arrivalMs]!;
      if (Atomics.load(this.#i32, i32Words.publish) === before) return { rtpTimestamp, arrivalMs };
    }
  }

  /** Bytes at `start` have not been overwritten: the writer has reserved less than a ring beyond. */
  #intact(start: number): boolean {
    Atomics.load(this.#i32, i32Words.reserve);
    return this.#f64[f64Fields.written]! - start <= this.#capacity;
  }
}
