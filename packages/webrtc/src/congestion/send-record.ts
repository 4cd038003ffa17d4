/**
 * What was sent to one adaptive viewer, by transport-wide sequence number: the other half of the
 * feedback join. The data plane writes an entry when a packet stamped with the transport-cc header
 * extension leaves (after the pacer, so sequence order is send order); the estimator reads it when
 * the viewer's feedback arrives, 50–300 ms later.
 *
 * The ring is a plain Float64Array so that the native send path can write it in shared memory and
 * the shard's JavaScript read it without messages: entry `i` is the four numbers at `i * 4`:
 * `[sequence (16 bits), sentUs, bytes, kind]`, and a packet's entry is at `sequence & (capacity − 1)`
 * (transport-wide sequence numbers go up by one per packet, so this is also send order). The clock of
 * `sentUs` is the data plane's (CLOCK_MONOTONIC in the native path); only differences are used.
 */

/** What a sent packet was; losses and rates are judged per kind. */
export const packetKind = {
  /** Video of the viewer's rendition. */
  media: 0,
  /** A retransmission answering a NACK. */
  retransmission: 1,
  /** Padding of a bandwidth probe. */
  probe: 2,
  audio: 3,
} as const;
export type PacketKind = (typeof packetKind)[keyof typeof packetKind];

/** Numbers per entry. */
export const sendRecordStride = 4;

export class SendRecord {
  readonly entries: Float64Array;
  readonly capacity: number;
  readonly #mask: number;

  /**
   * @param entriesOrCapacity a ring the data plane writes (length a power of two times 4), or the
   * number of entries for a new one (a power of two; 2048 is 2 s at 8 Mbit/s).
   * @default 2048
   */
  constructor(entriesOrCapacity: Float64Array | number = 2048) {
    const entries =
      typeof entriesOrCapacity === 'number'
        ? new Float64Array(entriesOrCapacity * sendRecordStride).fill(-1)
        : entriesOrCapacity;
    const capacity = entries.length / sendRecordStride;
    if (!Number.isInteger(capacity) || capacity < 2 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`a send record holds a power of two of entries, not ${capacity}`);
    }
    this.entries = entries;
    this.capacity = capacity;
    this.#mask = capacity - 1;
  }

  /** Records a packet as it leaves (the JavaScript data plane, and tests). */
  record(sequence: number, sentUs: number, bytes: number, kind: PacketKind): void {
    const at = (sequence & this.#mask) * sendRecordStride;
    const entries = this.entries;
    entries[at] = sequence & 0xffff;
    entries[at + 1] = sentUs;
    entries[at + 2] = bytes;
    entries[at + 3] = kind;
  }

  /** Where the entry of `sequence` (16 bits) starts in `entries`, or -1 when it was overwritten or never written. */
  find(sequence: number): number {
    const at = (sequence & this.#mask) * sendRecordStride;
    return this.entries[at] === (sequence & 0xffff) ? at : -1;
  }
}
