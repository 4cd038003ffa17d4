/**
 * Loss, and what it allows: the loss side of GCC (draft-ietf-rmcat-gcc-02 §6), judged on *excess*
 * loss only.
 *
 * Random loss is not congestion. A link that drops 5 % of packets whatever the rate (the Wi-Fi or
 * the `nft … numgen random` case) is repaired well by NACK and must not move a viewer down; with raw
 * loss, 5 % uniform loss would cross a 10 % trigger in 2.5–8 % of all 300 ms windows (binomial, 60–84
 * packets each) and would never let the loss side grow. So the link's inherent loss is learnt — the
 * lowest 1 s loss seen in the last 10 s while the path showed no congestion (no overuse, no queue) —
 * and every figure the policy and the bound act on is the measured loss minus it.
 *
 * Loss windows are by send time in 100 ms buckets (a packet counts where it was sent, when its fate
 * becomes known). A window with few packets proves little: the excess figures start from the lower
 * end of the window's confidence interval, not from its raw ratio. The bound: excess loss over 1 s above 10 % → `A_loss = A × (1 − 0.5 × loss)` at
 * most once per 300 ms + RTT; below 2 % → it grows 8 % a second, and stops binding once it passes
 * the delay-based estimate; in between, hold.
 */

const bucketMs = 100;
const buckets = 20;
const samples = 10;
const sampleEveryMs = 1000;
const inherentHorizonMs = 10_000;
/** Below this many packets a 1 s window says too little about the link's loss to learn from. */
const minPacketsToLearn = 20;
/** Standard deviations of the loss windows' confidence interval (see `lossLowerBound`). */
const confidenceZ = 2;
/** Below this many packets a window's loss is taken as 0. */
const minPacketsToJudge = 5;

export class LossBound {
  /** Raw loss fraction over the last 1 s and 300 ms of sends (0 when too few packets). */
  loss1s = 0;
  loss300ms = 0;
  /** The link's inherent loss, as learnt; subtracted from the raw figures. */
  inherentLoss = 0;
  /** Loss beyond the inherent one that the windows prove (see `lossLowerBound`). */
  excessLoss1s = 0;
  excessLoss300ms = 0;
  /** The loss-based bound on the estimate; Infinity while loss does not bind. */
  boundBps = Number.POSITIVE_INFINITY;
  rttMs = 200;

  readonly #sent = new Float64Array(buckets);
  readonly #lost = new Float64Array(buckets);
  /** Index (send time / bucketMs) of the newest bucket; -1 before the first packet. */
  #newestBucket = -1;
  readonly #sampleLoss = new Float64Array(samples);
  readonly #sampleAtMs = new Float64Array(samples).fill(Number.NEGATIVE_INFINITY);
  #nextSample = 0;
  #lastSampleMs = Number.NEGATIVE_INFINITY;
  #congestedSinceSample = false;
  #lastDecreaseMs = Number.NEGATIVE_INFINITY;
  #lastUpdateMs = Number.NaN;

  /** A packet's fate; `late` for one reported lost before and received now (its loss is taken back). */
  add(sentMs: number, lost: boolean, late: boolean): void {
    const bucket = this.advance(sentMs);
    if (bucket <= this.#newestBucket - buckets) return; // older than the windows
    const at = slot(bucket);
    if (late) {
      if (this.#lost[at]! > 0) this.#lost[at] = this.#lost[at]! - 1;
      return;
    }
    this.#sent[at] = this.#sent[at]! + 1;
    if (lost) this.#lost[at] = this.#lost[at]! + 1;
  }

  /**
   * Forgets the windows' losses and the bound (learnt inherent loss stays): what a sender's own
   * overshoot (a failed probe) lost says nothing about the link at the rate it is back to.
   */
  forget(): void {
    this.#sent.fill(0);
    this.#lost.fill(0);
    this.boundBps = Number.POSITIVE_INFINITY;
    this.loss1s = 0;
    this.loss300ms = 0;
    this.excessLoss1s = 0;
    this.excessLoss300ms = 0;
  }

  /**
   * Moves the windows on to `timeMs` (emptied buckets between), so that a sender that stopped
   * sending sees its old losses age out; returns the bucket index of `timeMs`.
   */
  advance(timeMs: number): number {
    const bucket = Math.floor(timeMs / bucketMs);
    if (this.#newestBucket < 0) this.#newestBucket = bucket;
    if (bucket > this.#newestBucket) {
      for (let index = Math.max(this.#newestBucket + 1, bucket - buckets + 1); index <= bucket; index++) {
        this.#sent[slot(index)] = 0;
        this.#lost[slot(index)] = 0;
      }
      this.#newestBucket = bucket;
    }
    return bucket;
  }

  /**
   * After a feedback's packets: recomputes the windows, learns the inherent loss (`congested`: the
   * detector overused or a queue stood since the last feedback) and moves the bound against the
   * current estimate.
   */
  update(nowMs: number, congested: boolean, estimateBps: number): void {
    this.loss1s = this.#window(1000);
    this.loss300ms = this.#window(300);
    if (congested) this.#congestedSinceSample = true;
    if (nowMs - this.#lastSampleMs >= sampleEveryMs) {
      if (!this.#congestedSinceSample && this.#packets(1000) >= minPacketsToLearn) {
        this.#sampleLoss[this.#nextSample] = this.loss1s;
        this.#sampleAtMs[this.#nextSample] = nowMs;
        this.#nextSample = (this.#nextSample + 1) % samples;
      }
      this.#lastSampleMs = nowMs;
      this.#congestedSinceSample = false;
    }
    let inherent = Number.POSITIVE_INFINITY;
    for (let index = 0; index < samples; index++) {
      if (nowMs - this.#sampleAtMs[index]! <= inherentHorizonMs)
        inherent = Math.min(inherent, this.#sampleLoss[index]!);
    }
    this.inherentLoss = Number.isFinite(inherent) ? inherent : 0;
    this.excessLoss1s = Math.max(0, this.#lowerBound(1000) - this.inherentLoss);
    this.excessLoss300ms = Math.max(0, this.#lowerBound(300) - this.inherentLoss);
    this.#moveBound(nowMs, estimateBps);
  }

  #moveBound(nowMs: number, estimateBps: number): void {
    const elapsedMs = Number.isNaN(this.#lastUpdateMs) ? 0 : Math.min(nowMs - this.#lastUpdateMs, 1000);
    this.#lastUpdateMs = nowMs;
    if (this.excessLoss1s > 0.1) {
      if (nowMs - this.#lastDecreaseMs >= 300 + this.rttMs) {
        this.boundBps = Math.min(this.boundBps, estimateBps) * (1 - 0.5 * this.excessLoss1s);
        this.#lastDecreaseMs = nowMs;
      }
    } else if (this.excessLoss1s < 0.02 && Number.isFinite(this.boundBps)) {
      this.boundBps *= 1.08 ** (elapsedMs / 1000);
      if (this.boundBps >= estimateBps) this.boundBps = Number.POSITIVE_INFINITY;
    }
  }

  #lowerBound(spanMs: number): number {
    if (this.#newestBucket < 0) return 0;
    let sent = 0;
    let lost = 0;
    const span = spanMs / bucketMs;
    for (let index = 0; index < span; index++) {
      const at = slot(this.#newestBucket - index);
      sent += this.#sent[at]!;
      lost += this.#lost[at]!;
    }
    return sent < minPacketsToJudge ? 0 : lossLowerBound(lost, sent);
  }

  #packets(spanMs: number): number {
    let sent = 0;
    const span = spanMs / bucketMs;
    for (let index = 0; index < span; index++) sent += this.#sent[slot(this.#newestBucket - index)]!;
    return sent;
  }

  #window(spanMs: number): number {
    if (this.#newestBucket < 0) return 0;
    let sent = 0;
    let lost = 0;
    const span = spanMs / bucketMs;
    for (let index = 0; index < span; index++) {
      const at = slot(this.#newestBucket - index);
      sent += this.#sent[at]!;
      lost += this.#lost[at]!;
    }
    return sent < minPacketsToJudge ? 0 : lost / sent;
  }
}

/** The ring slot of a bucket index (any integer). */
function slot(bucket: number): number {
  return ((bucket % buckets) + buckets) % buckets;
}

/**
 * The loss a window of `sent` packets with `lost` lost proves: the lower end of its Wilson score
 * interval at two standard deviations. A 300 ms window at 360p holds ~27 packets: 6 of them lost
 * to 5 % random loss happens every few hundred windows and reads 22 %, while it proves only 10 %.
 */
export function lossLowerBound(lost: number, sent: number): number {
  if (sent <= 0) return 0;
  const p = lost / sent;
  const z2 = confidenceZ * confidenceZ;
  const centre = p + z2 / (2 * sent);
  const spread = confidenceZ * Math.sqrt((p * (1 - p)) / sent + z2 / (4 * sent * sent));
  return Math.max(0, (centre - spread) / (1 + z2 / sent));
}
