/**
 * The receiving side of transport-wide congestion control: what Dragon sends back to a WebRTC
 * publisher so that the publisher's send-side estimator (Chromium's GCC) can ramp up. werift 0.25.2's
 * own feedback never let Chromium's estimate leave 301 kbit/s; feedback naming the publisher's media
 * SSRC, written as below, took it past 1 Mbit/s within a second (measured with Chromium 156).
 *
 * One writer per publisher transport: `onPacket` for every packet carrying the transport-wide
 * sequence number extension, `build` on a timer (every 50 ms is what libwebrtc's receiver does at
 * these rates) until it returns undefined. Layout: see `twcc-feedback.ts`.
 */
import { rtcpPacketType, transportFeedbackFormat, writeUint32 } from './compound.js';
import {
  deltaTickUs,
  referenceTimeUnitUs,
  statusSymbol,
  transportFeedbackHeaderLength,
} from './twcc-feedback.js';

export interface TransportFeedbackWriterOptions {
  /** SSRC of packet sender written in every feedback (RFC 4585 §6.1). @default 1 */
  senderSsrc?: number;
  /** Packets one feedback reports at most; the rest go in the next. @default 500 */
  maxPacketsPerFeedback?: number;
}

/** Packets remembered (a power of two): 8 s at 1000 packets a second. */
const ringSize = 8192;
const ringMask = ringSize - 1;
/** Reference-time units per delta tick: 64 ms / 250 µs. */
const ticksPerReference = referenceTimeUnitUs / deltaTickUs;

export class TransportFeedbackWriter {
  readonly #senderSsrc: number;
  readonly #maxPackets: number;
  /** Arrival (µs) per extended sequence number `& ringMask`; NaN: not (yet) received. */
  readonly #arrivalUs = new Float64Array(ringSize).fill(Number.NaN);
  /** Scratch for one feedback's symbols and deltas. */
  readonly #symbols: Uint8Array;
  readonly #deltas: Int32Array;
  /** Highest extended sequence number received; -1 before the first packet. */
  #highest = -1;
  /** First extended sequence number the next feedback reports. */
  #windowStart = 0;
  #feedbackCount = 0;

  constructor(options: TransportFeedbackWriterOptions = {}) {
    this.#senderSsrc = options.senderSsrc ?? 1;
    this.#maxPackets = Math.max(1, Math.min(options.maxPacketsPerFeedback ?? 500, 0xffff));
    this.#symbols = new Uint8Array(this.#maxPackets);
    this.#deltas = new Int32Array(this.#maxPackets);
  }

  /** A packet with transport-wide sequence number `sequence` (16 bits) arrived at `arrivalUs` (any monotonic µs clock). */
  onPacket(sequence: number, arrivalUs: number): void {
    if (this.#highest < 0) {
      // Extended numbers start one wrap up, so that a packet reordered before the first stays positive.
      this.#highest = 0x10000 + (sequence & 0xffff);
      this.#windowStart = this.#highest;
      this.#arrivalUs[this.#highest & ringMask] = arrivalUs;
      return;
    }
    const step = ((((sequence - this.#highest) & 0xffff) + 0x8000) & 0xffff) - 0x8000;
    const extended = this.#highest + step;
    if (step > 0) {
      if (step >= ringSize) {
        // A jump past everything remembered (a restarted sender): start over from here.
        this.#arrivalUs.fill(Number.NaN);
        this.#windowStart = extended;
      } else {
        for (let gap = this.#highest + 1; gap < extended; gap++) this.#arrivalUs[gap & ringMask] = Number.NaN;
      }
      this.#highest = extended;
    } else if (this.#highest - extended >= ringSize - 1) {
      return; // older than anything remembered
    }
    this.#arrivalUs[extended & ringMask] = arrivalUs;
    // A packet that arrives after the feedback that reported it missing is reported again, with
    // everything after it (as libwebrtc's receiver does): the sender learns it was late, not lost.
    if (extended < this.#windowStart) this.#windowStart = extended;
  }

  /** Whether packets arrived that no feedback has reported yet. */
  get pending(): boolean {
    return this.#highest >= 0 && this.#windowStart <= this.#highest;
  }

  /**
   * The next feedback (a whole RTCP packet, to send in a compound or alone) reporting what arrived
   * since the last one, or undefined when there is nothing new. `mediaSsrc` must be one of the
   * publisher's SSRCs: Chromium routes feedback by it and ignores feedback naming 0.
   */
  build(mediaSsrc: number): Uint8Array | undefined {
    if (!this.pending) return undefined;
    const arrivals = this.#arrivalUs;
    // Not built for longer than the ring remembers: what fell out of it is gone.
    let start = Math.max(this.#windowStart, this.#highest - ringSize + 2);
    // A feedback starts at a received packet: its arrival gives the reference time.
    while (start <= this.#highest && Number.isNaN(arrivals[start & ringMask]!)) start++;
    const firstArrival = arrivals[start & ringMask]!;
    const reference = Math.floor(firstArrival / referenceTimeUnitUs);
    let previous = reference * ticksPerReference;
    let count = 0;
    let deltaBytes = 0;
    for (let extended = start; extended <= this.#highest && count < this.#maxPackets; extended++) {
      const arrival = arrivals[extended & ringMask]!;
      if (Number.isNaN(arrival)) {
        this.#symbols[count++] = statusSymbol.notReceived;
        continue;
      }
      const ticks = Math.round(arrival / deltaTickUs);
      const delta = ticks - previous;
      // A delta that does not fit 16 bits (a gap of more than 8 s) starts the next feedback.
      if (delta < -0x8000 || delta > 0x7fff) break;
      const small = delta >= 0 && delta <= 0xff;
      this.#symbols[count] = small ? statusSymbol.smallDelta : statusSymbol.largeDelta;
      this.#deltas[count++] = delta;
      deltaBytes += small ? 1 : 2;
      previous = ticks;
    }
    // Trailing packets not received are left for the next feedback, where a later arrival may
    // still fill them in.
    while (count > 0 && this.#symbols[count - 1] === statusSymbol.notReceived) count--;
    this.#windowStart = start + count;
    return this.#encode(mediaSsrc, start & 0xffff, count, reference, deltaBytes);
  }

  #encode(
    mediaSsrc: number,
    baseSequence: number,
    count: number,
    reference: number,
    deltaBytes: number,
  ): Uint8Array {
    const chunks = countChunks(this.#symbols, count);
    const body = transportFeedbackHeaderLength + chunks * 2 + deltaBytes;
    const padding = (4 - (body % 4)) % 4;
    const packet = new Uint8Array(body + padding);
    packet[0] = 0x80 | (padding > 0 ? 0x20 : 0) | transportFeedbackFormat;
    packet[1] = rtcpPacketType.transportFeedback;
    const words = packet.length / 4 - 1;
    packet[2] = words >> 8;
    packet[3] = words & 0xff;
    writeUint32(packet, 4, this.#senderSsrc);
    writeUint32(packet, 8, mediaSsrc);
    packet[12] = baseSequence >> 8;
    packet[13] = baseSequence & 0xff;
    packet[14] = count >> 8;
    packet[15] = count & 0xff;
    const wire = reference & 0xffffff;
    packet[16] = wire >> 16;
    packet[17] = (wire >> 8) & 0xff;
    packet[18] = wire & 0xff;
    packet[19] = this.#feedbackCount;
    this.#feedbackCount = (this.#feedbackCount + 1) & 0xff;
    let at = writeChunks(this.#symbols, count, packet, transportFeedbackHeaderLength);
    for (let index = 0; index < count; index++) {
      const symbol = this.#symbols[index]!;
      if (symbol === statusSymbol.notReceived) continue;
      const delta = this.#deltas[index]!;
      if (symbol === statusSymbol.smallDelta) {
        packet[at++] = delta;
      } else {
        packet[at++] = (delta >> 8) & 0xff;
        packet[at++] = delta & 0xff;
      }
    }
    // RFC 3550 §6.4.1 padding: zeros, the last octet counting them (libwebrtc writes the same).
    if (padding > 0) packet[packet.length - 1] = padding;
    return packet;
  }
}

/**
 * How to cover symbols[from…] with one chunk: a run when 14 or more repeat (or the rest is one
 * run), else fourteen 1-bit symbols when none needs a 2-byte delta, else seven 2-bit symbols.
 * Writes [kind, symbols covered] to `out`: kind 0 run, 1 one-bit vector, 2 two-bit vector.
 */
function nextChunk(symbols: Uint8Array, from: number, count: number, out: Int32Array): void {
  const symbol = symbols[from]!;
  let run = 1;
  while (from + run < count && run < 0x1fff && symbols[from + run] === symbol) run++;
  if (run >= 14 || from + run === count) {
    out[0] = 0;
    out[1] = run;
    return;
  }
  const span = Math.min(14, count - from);
  let oneBit = true;
  for (let index = from; index < from + span; index++) {
    if (symbols[index]! > statusSymbol.smallDelta) oneBit = false;
  }
  out[0] = oneBit ? 1 : 2;
  out[1] = Math.min(oneBit ? 14 : 7, count - from);
}

const chunkScratch = new Int32Array(2);

function countChunks(symbols: Uint8Array, count: number): number {
  let chunks = 0;
  for (let from = 0; from < count; chunks++) {
    nextChunk(symbols, from, count, chunkScratch);
    from += chunkScratch[1]!;
  }
  return chunks;
}

function writeChunks(symbols: Uint8Array, count: number, packet: Uint8Array, at: number): number {
  for (let from = 0; from < count; ) {
    nextChunk(symbols, from, count, chunkScratch);
    const kind = chunkScratch[0]!;
    const covered = chunkScratch[1]!;
    let chunk: number;
    if (kind === 0) {
      chunk = (symbols[from]! << 13) | covered;
    } else if (kind === 1) {
      chunk = 0x8000;
      for (let index = 0; index < covered; index++) chunk |= symbols[from + index]! << (13 - index);
    } else {
      chunk = 0xc000;
      for (let index = 0; index < covered; index++) chunk |= symbols[from + index]! << (12 - 2 * index);
    }
    packet[at++] = chunk >> 8;
    packet[at++] = chunk & 0xff;
    from += covered;
  }
  return at;
}
