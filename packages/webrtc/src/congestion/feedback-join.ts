/**
 * Joins one viewer's transport-wide feedback with its send record: for each packet a feedback
 * reports, when it was sent, how big it was, what it was, and when (or whether) it arrived. This is
 * the estimator's only input. Per feedback, no allocation: results go into a reused `PacketResults`.
 *
 * - Sequence numbers are 16 bits on the wire; results carry them extended (unwrapped against the
 *   highest reported so far), so order and age survive the wrap.
 * - The reference time is 24 bits of 64 ms (it wraps after 12.4 days, or at any value: the
 *   receiver picks its origin); it is unwrapped from feedback to feedback, so arrivals are on one
 *   continuous clock of the receiver. Only differences of that clock mean anything.
 * - Chromium reports a packet again when it arrives after a feedback called it missing. A packet
 *   is reported once as lost and at most once as received: a later "received" for a packet
 *   reported lost comes out with `late` set (its loss is to be taken back); repeats are dropped.
 */
import { referenceTimeUnitUs, type TransportFeedback } from '../rtcp/twcc-feedback.js';
import type { PacketKind, SendRecord } from './send-record.js';

/** The packets of one feedback, in sequence (= send) order. Struct of arrays, reused. */
export class PacketResults {
  count = 0;
  /** Extended transport-wide sequence number. */
  readonly sequence: Float64Array;
  /** On the data plane's clock (the send record's). */
  readonly sentUs: Float64Array;
  /** On the receiver's clock, unwrapped; NaN when reported lost. */
  readonly arrivalUs: Float64Array;
  /** Size as recorded (the datagram's UDP payload). */
  readonly bytes: Float64Array;
  readonly kind: Uint8Array;
  /** 1 when an earlier feedback reported this packet lost. */
  readonly late: Uint8Array;

  /** @default 4096 (the parser's default capacity) */
  constructor(readonly capacity = 4096) {
    this.sequence = new Float64Array(capacity);
    this.sentUs = new Float64Array(capacity);
    this.arrivalUs = new Float64Array(capacity);
    this.bytes = new Float64Array(capacity);
    this.kind = new Uint8Array(capacity);
    this.late = new Uint8Array(capacity);
  }

  /** Appends one result (the join, and tests that build results by hand). */
  push(
    sequence: number,
    sentUs: number,
    arrivalUs: number,
    bytes: number,
    kind: PacketKind,
    late = false,
  ): void {
    const at = this.count;
    if (at >= this.capacity) return;
    this.sequence[at] = sequence;
    this.sentUs[at] = sentUs;
    this.arrivalUs[at] = arrivalUs;
    this.bytes[at] = bytes;
    this.kind[at] = kind;
    this.late[at] = late ? 1 : 0;
    this.count = at + 1;
  }
}

const reportedLost = 1;
const reportedReceived = 2;

export class FeedbackJoin {
  readonly #record: SendRecord;
  /** Per send-record slot: which extended sequence number the report state below is for. */
  readonly #reportedSequence: Float64Array;
  readonly #reportedState: Uint8Array;
  readonly #mask: number;
  #highest = -1;
  #referenceUnits = 0;
  #lastReference = -1;
  /** Reported packets the send record no longer (or never) had: feedback too late, or a stranger's. */
  unmatched = 0;
  /** Reports of a packet already reported the same way. */
  repeated = 0;

  constructor(record: SendRecord) {
    this.#record = record;
    this.#mask = record.capacity - 1;
    this.#reportedSequence = new Float64Array(record.capacity).fill(-1);
    this.#reportedState = new Uint8Array(record.capacity);
  }

  /** Fills `out` (from empty) with the packets `feedback` reports that the record knows; returns how many. */
  join(feedback: TransportFeedback, out: PacketResults): number {
    out.count = 0;
    const count = feedback.statusCount;
    if (count === 0) return 0;
    const base = this.#extend(feedback.baseSequence);
    const referenceUs = this.#unwrapReference(feedback.referenceTime) * referenceTimeUnitUs;
    const entries = this.#record.entries;
    for (let index = 0; index < count; index++) {
      const sequence = base + index;
      const at = this.#record.find(sequence & 0xffff);
      if (at < 0) {
        this.unmatched++;
        continue;
      }
      const arrivalUs = feedback.arrivalUs[index]!;
      const received = !Number.isNaN(arrivalUs);
      const slot = sequence & this.#mask;
      const before = this.#reportedSequence[slot] === sequence ? this.#reportedState[slot]! : 0;
      if (before === reportedReceived || (before === reportedLost && !received)) {
        this.repeated++;
        continue;
      }
      this.#reportedSequence[slot] = sequence;
      this.#reportedState[slot] = received ? reportedReceived : reportedLost;
      out.push(
        sequence,
        entries[at + 1]!,
        received ? referenceUs + arrivalUs : Number.NaN,
        entries[at + 2]!,
        entries[at + 3]! as PacketKind,
        before === reportedLost,
      );
    }
    const last = base + count - 1;
    if (last > this.#highest) this.#highest = last;
    return out.count;
  }

  #extend(sequence: number): number {
    if (this.#highest < 0) return 0x10000 + sequence; // one wrap up: earlier packets stay positive
    const step = ((((sequence - this.#highest) & 0xffff) + 0x8000) & 0xffff) - 0x8000;
    return this.#highest + step;
  }

  #unwrapReference(reference: number): number {
    if (this.#lastReference >= 0) {
      // 24-bit difference, signed: feedback may also come out of order.
      const step = ((((reference - this.#lastReference) & 0xffffff) + 0x800000) & 0xffffff) - 0x800000;
      this.#referenceUnits += step;
    } else {
      this.#referenceUnits = reference;
    }
    this.#lastReference = reference;
    return this.#referenceUnits;
  }
}
