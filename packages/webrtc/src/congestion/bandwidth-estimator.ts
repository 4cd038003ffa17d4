/**
 * One viewer's bandwidth estimate, from joined transport-wide feedback: GCC as libwebrtc runs it,
 * cut to what rendition switching needs.
 *
 *   results ─┬─ InterArrival → Trendline ──(usage)──┐
 *            ├─ AckedRate ─────────────(acked)──────┼─ AimdRateControl → A_delay ┐
 *            ├─ QueueDelay ────────────(queue)      │                            ├ estimate = min
 *            └─ LossBound ─(excess loss)────────────┴────────────────→ A_loss ───┘
 *
 * Everything runs once per feedback (about 11 a second per viewer with Chromium) over that
 * feedback's packets; nothing is allocated. Sizes are on the wire: each packet's recorded size
 * plus the IP and UDP headers, the figure a link's capacity is measured in.
 */
import { AckedRate } from './acked-rate.js';
import type { PacketResults } from './feedback-join.js';
import { InterArrival } from './inter-arrival.js';
import { LossBound } from './loss-bound.js';
import { QueueDelay } from './queue-delay.js';
import { AimdRateControl } from './rate-control.js';
import { type BandwidthUsage, Trendline } from './trendline.js';

export interface BandwidthEstimatorOptions {
  /** The estimate before any feedback. @default 1_000_000 */
  startBps?: number;
  /** @default 30_000 */
  minBps?: number;
  /** @default 50_000_000 */
  maxBps?: number;
  /** Bytes each packet costs on the wire beyond its recorded size (IPv4 20 + UDP 8). @default 28 */
  overheadBytes?: number;
}

/** What the rendition policy reads after each feedback. */
export interface CongestionSignals {
  /** min(delay-based, loss-based), bit/s on the wire. */
  readonly estimateBps: number;
  /** What arrived over the last 500 ms, bit/s on the wire (NaN before there is enough). */
  readonly ackedBps: number;
  /** The same over the last 200 ms: the path's capacity right after it dropped, when congested. */
  readonly recentBps: number;
  readonly usage: BandwidthUsage;
  readonly queueDelayMs: number;
  readonly excessLoss1s: number;
  readonly excessLoss300ms: number;
  readonly inherentLoss: number;
}

/** The span of `recentBps`. */
const recentSpanMs = 200;
/** A queue this long (ms) counts as congestion for learning the link's inherent loss. */
const standingQueueMs = 15;

export class BandwidthEstimator implements CongestionSignals {
  estimateBps: number;
  ackedBps = Number.NaN;
  recentBps = Number.NaN;
  usage: BandwidthUsage = 'normal';
  queueDelayMs = 0;
  excessLoss1s = 0;
  excessLoss300ms = 0;
  inherentLoss = 0;
  /** Raw loss over the last second, for figures. */
  loss1s = 0;

  readonly #overheadBytes: number;
  readonly #interArrival = new InterArrival();
  readonly #trendline = new Trendline();
  readonly #acked = new AckedRate();
  readonly #queue = new QueueDelay();
  readonly #loss = new LossBound();
  readonly #rate: AimdRateControl;

  constructor(options: BandwidthEstimatorOptions = {}) {
    this.#overheadBytes = options.overheadBytes ?? 28;
    this.#rate = new AimdRateControl(options);
    this.estimateBps = this.#rate.estimateBps;
  }

  /** The delay-based part alone, and the loss bound (Infinity while it does not bind). */
  get delayBasedBps(): number {
    return this.#rate.estimateBps;
  }
  get lossBoundBps(): number {
    return this.#loss.boundBps;
  }

  /** Round-trip time, when the caller knows it (RTCP); 200 ms otherwise. */
  set rttMs(value: number) {
    this.#rate.rttMs = value;
    this.#loss.rttMs = value;
  }

  /** One feedback's joined packets. `nowMs` is any clock of the caller's that only moves forward. */
  update(nowMs: number, results: PacketResults): void {
    let overused = false;
    for (let index = 0; index < results.count; index++) {
      const sentMs = results.sentUs[index]! / 1000;
      const arrivalUs = results.arrivalUs[index]!;
      const lost = Number.isNaN(arrivalUs);
      this.#loss.add(sentMs, lost, results.late[index] === 1);
      if (lost) continue;
      const arrivalMs = arrivalUs / 1000;
      this.#acked.add(arrivalMs, results.bytes[index]! + this.#overheadBytes);
      if (this.#interArrival.add(sentMs, arrivalMs)) {
        const pair = this.#interArrival;
        this.#trendline.update(pair.arrivalDeltaMs, pair.sendDeltaMs, pair.arrivalMs);
        if (this.#trendline.state === 'overusing') overused = true;
      }
    }
    this.usage = this.#trendline.state;
    this.ackedBps = this.#acked.bps;
    this.recentBps = this.#acked.recentBps(recentSpanMs);
    this.queueDelayMs = this.#queue.update(results);
    const delayBased = this.#rate.update(nowMs, this.usage, this.ackedBps);
    this.#loss.update(
      nowMs,
      overused || this.queueDelayMs >= standingQueueMs,
      Math.min(delayBased, this.#loss.boundBps),
    );
    this.excessLoss1s = this.#loss.excessLoss1s;
    this.excessLoss300ms = this.#loss.excessLoss300ms;
    this.inherentLoss = this.#loss.inherentLoss;
    this.loss1s = this.#loss.loss1s;
    this.estimateBps = Math.min(delayBased, this.#loss.boundBps);
  }

  /** A probe delivered `bps`: the estimate takes it (the delay-based side may not exceed 1.5 × acked by itself). */
  acceptProbe(nowMs: number, bps: number): void {
    if (bps <= this.#rate.estimateBps) return;
    this.#rate.setEstimate(bps, nowMs);
    this.estimateBps = Math.min(this.#rate.estimateBps, this.#loss.boundBps);
  }
}
