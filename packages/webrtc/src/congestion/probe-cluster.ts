/**
 * Judges one bandwidth probe: for `durationMs` the data plane pads the viewer's stream so that
 * everything sent adds up to the probe rate, and the feedback on those packets says whether the
 * path carried it.
 *
 * The cluster is the packets sent from the first padding packet after the probe began, for the
 * probe's duration. It is judged on its second half only: a token-bucket shaper (`tc tbf … burst
 * 10kb`, and real ones) lets its bucket through at line rate first, so the first part of a probe
 * measures the wire, not the shaper. Delivered rate = min(rate sent, rate received) over that half
 * (libwebrtc's probe estimator takes the same minimum); the probe succeeded when the packets that
 * arrived did so at ≥ 95 % of the pace they were sent at and the cluster proves no loss beyond the
 * link's inherent loss + 5 %. It fails at once at the first feedback showing a queue growing by more than 15 ms
 * since the probe began, or excess loss — so an overshoot lasts about one feedback interval.
 */
import type { CongestionSignals } from './bandwidth-estimator.js';
import type { PacketResults } from './feedback-join.js';
import { lossLowerBound } from './loss-bound.js';
import { packetKind } from './send-record.js';

export type ProbeOutcome = 'idle' | 'running' | 'succeeded' | 'failed';

const queueRiseMs = 15;
const abortExcessLoss = 0.1;
/** How long feedback may take to show the first padding packet, beyond the probe's duration. */
const startTimeoutMs = 1500;
/** Fewer packets than this in the judged half: the probe did not happen as asked. */
const minPackets = 5;
/** Delivered packets may arrive over at most 1/0.95 of the span they were sent in. */
const minDeliveryRatio = 0.95;
/** Loss the cluster proves beyond the link's inherent loss that fails it. */
const maxExcessLoss = 0.05;

export class ProbeCluster {
  state: ProbeOutcome = 'idle';
  rateBps = 0;
  durationMs = 0;
  /** After a probe: what it delivered (bit/s on the wire), or 0. */
  deliveredBps = 0;
  /** Whether the last failure ended the probe before its duration was over (the padding must stop). */
  aborted = false;

  readonly #overheadBytes: number;
  #startedAtMs = 0;
  #afterSentUs = 0;
  #queueAtStartMs = 0;
  /** Send time of the cluster's first padding packet; NaN until feedback shows it. */
  #clusterStartUs = Number.NaN;
  #sentBytes = 0;
  #firstSentUs = Number.POSITIVE_INFINITY;
  #lastSentUs = Number.NEGATIVE_INFINITY;
  #lastSentBytes = 0;
  #receivedBytes = 0;
  #firstReceivedSentUs = Number.POSITIVE_INFINITY;
  #lastReceivedSentUs = Number.NEGATIVE_INFINITY;
  #firstArrivalUs = Number.POSITIVE_INFINITY;
  #firstArrivalBytes = 0;
  #lastArrivalUs = Number.NEGATIVE_INFINITY;
  #packets = 0;
  #received = 0;

  constructor(overheadBytes = 28) {
    this.#overheadBytes = overheadBytes;
  }

  /**
   * A probe begins now. `newestSentUs`: the newest send time feedback has shown so far (packets
   * sent after it may belong to the probe); `queueDelayMs`: the queue before it.
   */
  start(
    nowMs: number,
    rateBps: number,
    durationMs: number,
    newestSentUs: number,
    queueDelayMs: number,
  ): void {
    this.state = 'running';
    this.rateBps = rateBps;
    this.durationMs = durationMs;
    this.deliveredBps = 0;
    this.aborted = false;
    this.#startedAtMs = nowMs;
    this.#afterSentUs = newestSentUs;
    this.#queueAtStartMs = queueDelayMs;
    this.#clusterStartUs = Number.NaN;
    this.#sentBytes = 0;
    this.#firstSentUs = Number.POSITIVE_INFINITY;
    this.#lastSentUs = Number.NEGATIVE_INFINITY;
    this.#lastSentBytes = 0;
    this.#receivedBytes = 0;
    this.#firstReceivedSentUs = Number.POSITIVE_INFINITY;
    this.#lastReceivedSentUs = Number.NEGATIVE_INFINITY;
    this.#firstArrivalUs = Number.POSITIVE_INFINITY;
    this.#firstArrivalBytes = 0;
    this.#lastArrivalUs = Number.NEGATIVE_INFINITY;
    this.#packets = 0;
    this.#received = 0;
  }

  /** Ends a probe without a verdict (the viewer switched, or was pinned). */
  cancel(): void {
    this.state = 'idle';
  }

  /** One feedback's packets and the estimator's signals after them. */
  observe(nowMs: number, results: PacketResults, signals: CongestionSignals): ProbeOutcome {
    if (this.state !== 'running') return this.state;
    const durationUs = this.durationMs * 1000;
    let coversEnd = false;
    for (let index = 0; index < results.count; index++) {
      const sentUs = results.sentUs[index]!;
      if (Number.isNaN(this.#clusterStartUs)) {
        if (results.kind[index] !== packetKind.probe || sentUs <= this.#afterSentUs) continue;
        this.#clusterStartUs = sentUs;
      }
      const offsetUs = sentUs - this.#clusterStartUs;
      if (offsetUs > durationUs) coversEnd = true;
      if (offsetUs < durationUs / 2 || offsetUs > durationUs || results.late[index] === 1) continue;
      this.#count(sentUs, results.arrivalUs[index]!, results.bytes[index]! + this.#overheadBytes);
    }
    const started = !Number.isNaN(this.#clusterStartUs);
    if (
      signals.queueDelayMs - this.#queueAtStartMs > queueRiseMs ||
      signals.excessLoss300ms >= abortExcessLoss
    ) {
      return this.#fail(started && !coversEnd);
    }
    if (!started) {
      return nowMs - this.#startedAtMs > this.durationMs + startTimeoutMs ? this.#fail(false) : this.state;
    }
    if (!coversEnd) return this.state;
    return this.#judge(signals.inherentLoss);
  }

  #count(sentUs: number, arrivalUs: number, bytes: number): void {
    this.#packets++;
    this.#sentBytes += bytes;
    if (sentUs < this.#firstSentUs) this.#firstSentUs = sentUs;
    if (sentUs >= this.#lastSentUs) {
      this.#lastSentUs = sentUs;
      this.#lastSentBytes = bytes;
    }
    if (Number.isNaN(arrivalUs)) return;
    this.#received++;
    this.#receivedBytes += bytes;
    if (sentUs < this.#firstReceivedSentUs) this.#firstReceivedSentUs = sentUs;
    if (sentUs > this.#lastReceivedSentUs) this.#lastReceivedSentUs = sentUs;
    if (arrivalUs < this.#firstArrivalUs) {
      this.#firstArrivalUs = arrivalUs;
      this.#firstArrivalBytes = bytes;
    }
    if (arrivalUs > this.#lastArrivalUs) this.#lastArrivalUs = arrivalUs;
  }

  /**
   * Two questions, kept apart so that a link's random loss does not fail every probe: did the path
   * stretch the packets it delivered (they arrived over a longer span than they were sent: a queue
   * grew, the rate is above capacity), and did it lose more than it always does (the lower end of
   * the cluster's loss interval, beyond the link's inherent loss)?
   */
  #judge(inherentLoss: number): ProbeOutcome {
    const sendSpanUs = this.#lastSentUs - this.#firstSentUs;
    const receivedSendSpanUs = this.#lastReceivedSentUs - this.#firstReceivedSentUs;
    const receiveSpanUs = this.#lastArrivalUs - this.#firstArrivalUs;
    if (this.#packets < minPackets || this.#received < 2 || sendSpanUs <= 0 || receivedSendSpanUs <= 0) {
      return this.#fail(false);
    }
    // A rate over n packets spans n − 1 gaps: leave out the last sent and the first received.
    const sentBps = ((this.#sentBytes - this.#lastSentBytes) * 8e6) / sendSpanUs;
    const receivedBps = ((this.#receivedBytes - this.#firstArrivalBytes) * 8e6) / Math.max(receiveSpanUs, 1);
    this.deliveredBps = Math.min(sentBps, receivedBps);
    const stretched = receiveSpanUs > receivedSendSpanUs / minDeliveryRatio;
    const excessLoss = lossLowerBound(this.#packets - this.#received, this.#packets) - inherentLoss;
    if (stretched || excessLoss >= maxExcessLoss) return this.#fail(false);
    this.state = 'succeeded';
    return this.state;
  }

  #fail(aborted: boolean): ProbeOutcome {
    this.aborted = aborted;
    this.state = 'failed';
    return this.state;
  }
}
