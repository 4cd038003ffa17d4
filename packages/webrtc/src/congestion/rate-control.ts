/**
 * The delay-based estimate `A`: additive-increase/multiplicative-decrease driven by the trendline
 * (draft-ietf-rmcat-gcc-02 §5.5; constants of libwebrtc's `AimdRateControl`).
 *
 * - Overuse: `A = 0.85 × acked` (what the path delivered, a little below it so the queue drains),
 *   at most once per min(RTT, 200 ms) unless acked fell below half of `A`; then hold until the
 *   detector says normal again. Each decrease feeds a running average of the rate at which the path
 *   saturates ("near max").
 * - Underuse: hold (the queue is draining; the rate that built it is not the capacity).
 * - Normal: increase. Far from the last saturation point, multiplicatively, 8 % per second; near it
 *   (acked within 3 σ of the average), additively, about one packet per response time.
 * - Never more than `1.5 × acked + 10 kbit/s` by increase alone: without evidence the estimate does
 *   not run away from what the viewer demonstrably receives. A probe that succeeded sets `A`
 *   directly (`setEstimate`), past that bound.
 */
import type { BandwidthUsage } from './trendline.js';

const beta = 0.85;
const defaultRttMs = 200;

export interface RateControlOptions {
  /** The estimate before any feedback. @default 1_000_000 */
  startBps?: number;
  /** The estimate never goes below this. @default 30_000 */
  minBps?: number;
  /** @default 50_000_000 */
  maxBps?: number;
}

export class AimdRateControl {
  estimateBps: number;
  /** Round-trip time used for the decrease interval and the additive step. */
  rttMs = defaultRttMs;
  readonly #minBps: number;
  readonly #maxBps: number;
  #state: 'hold' | 'increase' | 'decrease' = 'hold';
  #nearMax = false;
  /** Running average (and normalised variance) of acked rates at decreases, kbit/s; -1 unknown. */
  #avgMaxKbps = -1;
  #varMaxKbps = 0.4;
  #lastChangeMs = -1;

  constructor(options: RateControlOptions = {}) {
    this.#minBps = options.minBps ?? 30_000;
    this.#maxBps = options.maxBps ?? 50_000_000;
    this.estimateBps = Math.min(this.#maxBps, Math.max(this.#minBps, options.startBps ?? 1_000_000));
  }

  /** One feedback's outcome: the detector's state and the acknowledged rate (NaN when unknown). */
  update(nowMs: number, usage: BandwidthUsage, ackedBps: number): number {
    if (usage === 'overusing') {
      if (!this.#timeToReduce(nowMs, ackedBps)) return this.estimateBps;
      this.#state = 'decrease';
    } else if (usage === 'underusing') {
      this.#state = 'hold';
    } else if (this.#state === 'hold') {
      this.#state = 'increase';
      this.#lastChangeMs = nowMs;
    }

    let next = this.estimateBps;
    const ackedKbps = ackedBps / 1000;
    const stdMaxKbps = Math.sqrt(this.#varMaxKbps * this.#avgMaxKbps);
    if (this.#state === 'increase') {
      if (this.#avgMaxKbps >= 0 && ackedKbps > this.#avgMaxKbps + 3 * stdMaxKbps) {
        this.#nearMax = false;
        this.#avgMaxKbps = -1;
      }
      const elapsedMs = this.#lastChangeMs < 0 ? 0 : Math.min(nowMs - this.#lastChangeMs, 1000);
      next += this.#nearMax
        ? (elapsedMs * this.#additiveBpsPerSecond()) / 1000
        : Math.max(1000, next * (1.08 ** (elapsedMs / 1000) - 1));
      this.#lastChangeMs = nowMs;
      next = this.#clampIncrease(next, ackedBps);
    } else if (this.#state === 'decrease') {
      // Overuse before anything was acknowledged: halve (libwebrtc does the same).
      next = Number.isNaN(ackedBps) ? this.estimateBps / 2 : beta * ackedBps;
      if (next > this.estimateBps) {
        // Backing off must not raise the estimate.
        if (this.#nearMax) next = beta * this.#avgMaxKbps * 1000;
        next = Math.min(next, this.estimateBps);
      }
      this.#nearMax = true;
      if (!Number.isNaN(ackedBps)) {
        if (ackedKbps < this.#avgMaxKbps - 3 * stdMaxKbps) this.#avgMaxKbps = -1;
        this.#updateMax(ackedKbps);
      }
      this.#state = 'hold';
      this.#lastChangeMs = nowMs;
    }
    this.estimateBps = Math.min(this.#maxBps, Math.max(this.#minBps, next));
    return this.estimateBps;
  }

  /** A measurement stronger than the detector (a successful probe, or a loss-driven cut) sets the estimate. */
  setEstimate(bps: number, nowMs: number): void {
    this.estimateBps = Math.min(this.#maxBps, Math.max(this.#minBps, bps));
    this.#lastChangeMs = nowMs;
  }

  #timeToReduce(nowMs: number, ackedBps: number): boolean {
    const interval = Math.max(10, Math.min(this.rttMs, 200));
    if (this.#lastChangeMs < 0 || nowMs - this.#lastChangeMs >= interval) return true;
    return ackedBps < 0.5 * this.estimateBps;
  }

  /** One average packet per response time (RTT + 100 ms detection, doubled), at least 4 kbit/s. */
  #additiveBpsPerSecond(): number {
    const bitsPerFrame = this.estimateBps / 30;
    const packetsPerFrame = Math.ceil(bitsPerFrame / (8 * 1200));
    const packetBits = bitsPerFrame / packetsPerFrame;
    const responseMs = (this.rttMs + 100) * 2;
    return Math.max(4000, (packetBits * 1000) / responseMs);
  }

  #clampIncrease(next: number, ackedBps: number): number {
    if (Number.isNaN(ackedBps)) return next;
    const bound = 1.5 * ackedBps + 10_000;
    return next > bound ? Math.max(this.estimateBps, bound) : next;
  }

  #updateMax(ackedKbps: number): void {
    const alpha = 0.05;
    this.#avgMaxKbps = this.#avgMaxKbps < 0 ? ackedKbps : (1 - alpha) * this.#avgMaxKbps + alpha * ackedKbps;
    const norm = Math.max(this.#avgMaxKbps, 1);
    const deviation = this.#avgMaxKbps - ackedKbps;
    this.#varMaxKbps = Math.min(
      2.5,
      Math.max(0.4, (1 - alpha) * this.#varMaxKbps + (alpha * deviation * deviation) / norm),
    );
  }
}
