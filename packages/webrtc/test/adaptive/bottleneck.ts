/**
 * The path to a viewer as `tc qdisc … tbf rate R burst B latency L` plus `nft … numgen random`
 * and a busy receiver would make it: a token bucket that lets `burstBytes` through at line rate and
 * then `R`, a FIFO queue in front of it that tail-drops what would wait longer than `L`, a fixed
 * propagation delay, random loss after the queue (on the receiver's input), and stalls during which
 * the receiver reads nothing and then everything at once. All in trace time, deterministic.
 */

export interface CapChange {
  /** From this trace time on … */
  fromMs: number;
  /** … the shaper's rate (Infinity: no shaper). */
  rateBps: number;
}

export interface BottleneckOptions {
  caps: readonly CapChange[];
  /** tbf `burst`. @default 10_000 */
  burstBytes?: number;
  /** tbf `latency`: the queue holds what drains in this time at the rate (plus the burst). @default 50 */
  queueLatencyMs?: number;
  /** One-way propagation delay. @default 10 */
  delayMs?: number;
  /** Probability that a packet is dropped after the queue. @default 0 */
  randomLoss?: number;
  /** Receiver stalls: [start, end) in trace time, sorted. */
  stalls?: readonly [number, number][];
}

export class Bottleneck {
  /** Packets offered to the path; of them, dropped by the full queue and by the random loss. */
  packets = 0;
  tailDrops = 0;
  randomDrops = 0;
  readonly #options: BottleneckOptions;
  readonly #random: () => number;
  readonly #burstBytes: number;
  readonly #latencyMs: number;
  readonly #delayMs: number;
  #tokens: number;
  #tokensAtMs = 0;
  #lastDepartureMs = 0;
  /** Departure times and sizes of packets still in the queue. */
  readonly #queued: [number, number][] = [];
  #queuedBytes = 0;

  constructor(options: BottleneckOptions, random: () => number) {
    this.#options = options;
    this.#random = random;
    this.#burstBytes = options.burstBytes ?? 10_000;
    this.#latencyMs = options.queueLatencyMs ?? 50;
    this.#delayMs = options.delayMs ?? 10;
    this.#tokens = this.#burstBytes;
  }

  /** The rate at trace time `atMs`. */
  rateAt(atMs: number): number {
    let rate = Number.POSITIVE_INFINITY;
    for (const cap of this.#options.caps) if (cap.fromMs <= atMs) rate = cap.rateBps;
    return rate;
  }

  /**
   * A packet of `wireBytes` enters the path at `atMs` (non-decreasing): when the receiver reads it,
   * or undefined when it is lost.
   */
  send(atMs: number, wireBytes: number): number | undefined {
    this.packets++;
    const rate = this.rateAt(atMs);
    while (this.#queued.length > 0 && this.#queued[0]![0] <= atMs)
      this.#queuedBytes -= this.#queued.shift()![1];
    let departureMs = atMs;
    if (Number.isFinite(rate)) {
      const bytesPerMs = rate / 8000;
      const limit = bytesPerMs * this.#latencyMs + this.#burstBytes;
      if (this.#queuedBytes + wireBytes > limit) {
        this.tailDrops++;
        return undefined;
      }
      const startMs = Math.max(atMs, this.#lastDepartureMs);
      const tokens = Math.min(this.#burstBytes, this.#tokens + (startMs - this.#tokensAtMs) * bytesPerMs);
      departureMs = tokens >= wireBytes ? startMs : startMs + (wireBytes - tokens) / bytesPerMs;
      this.#tokens = Math.max(0, tokens - wireBytes);
      this.#tokensAtMs = departureMs;
      this.#lastDepartureMs = departureMs;
      this.#queued.push([departureMs, wireBytes]);
      this.#queuedBytes += wireBytes;
    } else {
      this.#tokens = this.#burstBytes;
      this.#tokensAtMs = atMs;
    }
    if (this.#random() < (this.#options.randomLoss ?? 0)) {
      this.randomDrops++;
      return undefined;
    }
    return this.afterStalls(departureMs + this.#delayMs);
  }

  /** When something that reaches the receiver at `atMs` is read (or its timer fires): after any stall. */
  afterStalls(atMs: number): number {
    for (const [start, end] of this.#options.stalls ?? []) {
      if (atMs >= start && atMs < end) return end;
      if (start > atMs) break;
    }
    return atMs;
  }

  get stallCount(): number {
    return this.#options.stalls?.length ?? 0;
  }

  get delayMs(): number {
    return this.#delayMs;
  }
}
