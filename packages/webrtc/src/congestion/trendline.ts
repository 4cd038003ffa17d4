/**
 * The delay-based detector of Google Congestion Control, as libwebrtc runs it
 * (`goog_cc/trendline_estimator.cc`; draft-ietf-rmcat-gcc-02 §5.3–5.4 describes the Kalman-filter
 * predecessor with the same adaptive threshold): is a queue building on the path?
 *
 * Each group-pair sample `d = Δarrival − Δsend` is accumulated (the queue's growth since the start),
 * smoothed (α = 0.9), and the slope of the last 20 smoothed points against arrival time is fitted by
 * least squares. The slope, scaled by `min(samples, 60) × 4`, is compared with an adaptive threshold
 * γ (start 12.5, clamped 6–600) that follows |trend| up slowly (k_up 0.0087/ms) and down fast
 * (k_down 0.039/ms) — so a path with steady jitter stops looking like congestion — but ignores
 * samples more than 15 above it (a sudden capacity drop must not raise the bar it should cross).
 * Overuse needs the trend above γ for more than 10 ms of send time, over at least two samples, and
 * not falling; below −γ is underuse (a queue draining).
 */

export type BandwidthUsage = 'normal' | 'overusing' | 'underusing';

const windowSize = 20;
const smoothing = 0.9;
const thresholdGain = 4;
const kUp = 0.0087;
const kDown = 0.039;
const overusingTimeThresholdMs = 10;
const minSamplesForFullGain = 60;
const sampleCountMax = 1000;
const maxAdaptOffsetMs = 15;
const maxThresholdStepMs = 100;

export class Trendline {
  state: BandwidthUsage = 'normal';
  /** The last scaled trend and the threshold it was compared with (for figures and tests). */
  modifiedTrend = 0;
  threshold = 12.5;

  readonly #x = new Float64Array(windowSize);
  readonly #y = new Float64Array(windowSize);
  #points = 0;
  #next = 0;
  #samples = 0;
  #firstArrivalMs = -1;
  #accumulated = 0;
  #smoothed = 0;
  #previousTrend = 0;
  #overusingMs = -1;
  #overuseCount = 0;
  #lastThresholdUpdateMs = -1;

  /** One group-pair sample from `InterArrival`. */
  update(arrivalDeltaMs: number, sendDeltaMs: number, arrivalMs: number): void {
    const delta = arrivalDeltaMs - sendDeltaMs;
    this.#samples = Math.min(this.#samples + 1, sampleCountMax);
    if (this.#firstArrivalMs < 0) this.#firstArrivalMs = arrivalMs;
    this.#accumulated += delta;
    this.#smoothed = smoothing * this.#smoothed + (1 - smoothing) * this.#accumulated;
    this.#x[this.#next] = arrivalMs - this.#firstArrivalMs;
    this.#y[this.#next] = this.#smoothed;
    this.#next = (this.#next + 1) % windowSize;
    if (this.#points < windowSize) this.#points++;
    let trend = this.#previousTrend;
    if (this.#points === windowSize) {
      const slope = this.#slope();
      if (!Number.isNaN(slope)) trend = slope;
    }
    this.#detect(trend, sendDeltaMs, arrivalMs);
  }

  /** Forgets everything (the stream paused for long: old samples say nothing about the path now). */
  reset(): void {
    this.state = 'normal';
    this.modifiedTrend = 0;
    this.threshold = 12.5;
    this.#points = 0;
    this.#next = 0;
    this.#samples = 0;
    this.#firstArrivalMs = -1;
    this.#accumulated = 0;
    this.#smoothed = 0;
    this.#previousTrend = 0;
    this.#overusingMs = -1;
    this.#overuseCount = 0;
    this.#lastThresholdUpdateMs = -1;
  }

  /** Least-squares slope of the window; NaN when all points share one x. */
  #slope(): number {
    let sumX = 0;
    let sumY = 0;
    for (let index = 0; index < windowSize; index++) {
      sumX += this.#x[index]!;
      sumY += this.#y[index]!;
    }
    const meanX = sumX / windowSize;
    const meanY = sumY / windowSize;
    let numerator = 0;
    let denominator = 0;
    for (let index = 0; index < windowSize; index++) {
      const dx = this.#x[index]! - meanX;
      numerator += dx * (this.#y[index]! - meanY);
      denominator += dx * dx;
    }
    return denominator === 0 ? Number.NaN : numerator / denominator;
  }

  #detect(trend: number, sendDeltaMs: number, nowMs: number): void {
    if (this.#samples < 2) {
      this.state = 'normal';
      return;
    }
    const modified = Math.min(this.#samples, minSamplesForFullGain) * trend * thresholdGain;
    this.modifiedTrend = modified;
    if (modified > this.threshold) {
      // Assume it has been overusing for half the time since the previous sample.
      this.#overusingMs = this.#overusingMs < 0 ? sendDeltaMs / 2 : this.#overusingMs + sendDeltaMs;
      this.#overuseCount++;
      if (
        this.#overusingMs > overusingTimeThresholdMs &&
        this.#overuseCount > 1 &&
        trend >= this.#previousTrend
      ) {
        this.#overusingMs = 0;
        this.#overuseCount = 0;
        this.state = 'overusing';
      }
    } else if (modified < -this.threshold) {
      this.#overusingMs = -1;
      this.#overuseCount = 0;
      this.state = 'underusing';
    } else {
      this.#overusingMs = -1;
      this.#overuseCount = 0;
      this.state = 'normal';
    }
    this.#previousTrend = trend;
    this.#updateThreshold(modified, nowMs);
  }

  #updateThreshold(modified: number, nowMs: number): void {
    if (this.#lastThresholdUpdateMs < 0) this.#lastThresholdUpdateMs = nowMs;
    const magnitude = Math.abs(modified);
    if (magnitude > this.threshold + maxAdaptOffsetMs) {
      this.#lastThresholdUpdateMs = nowMs;
      return;
    }
    const k = magnitude < this.threshold ? kDown : kUp;
    const elapsed = Math.min(nowMs - this.#lastThresholdUpdateMs, maxThresholdStepMs);
    this.threshold = Math.min(600, Math.max(6, this.threshold + k * (magnitude - this.threshold) * elapsed));
    this.#lastThresholdUpdateMs = nowMs;
  }
}
