/**
 * Congestion control for one adaptive viewer: what the data plane calls once per transport-wide
 * feedback (about 11 a second with Chromium), never per RTP packet. It joins the feedback with the
 * viewer's send record, updates the bandwidth estimate, judges a running probe and asks the
 * rendition policy; the answer is a `Decision` (switch, probe, stop probing) or undefined.
 *
 * No sockets, no timers, no clocks of its own: time is what the caller passes, so the JavaScript
 * data plane, the native one's shard and the tests' link simulator drive it the same way:
 *
 *   parseTransportFeedback(bytes, offset, length, feedback)   // rtcp/twcc-feedback.ts, one per thread
 *   const decision = controller.onFeedback(now, feedback);
 *   if (decision) apply(decision);                            // read it before the next call
 *   …when the switch happens at the target's keyframe (or the video pauses):
 *   controller.onSwitched(now, rendition);
 *   pacer.rateBps = controller.pacingRateBps;
 *
 * `now` is any millisecond clock of the caller's that only moves forward (the decision timers run
 * on it); packet times come from the send record and the feedback.
 */
import type { TransportFeedback } from '../rtcp/twcc-feedback.js';
import { BandwidthEstimator } from './bandwidth-estimator.js';
import { FeedbackJoin, PacketResults } from './feedback-join.js';
import { ProbeCluster } from './probe-cluster.js';
import {
  type Decision,
  type PolicyState,
  probeStop,
  type RenditionFact,
  RenditionPolicy,
  type SwitchReason,
} from './rendition-policy.js';
import type { SendRecord } from './send-record.js';
import type { BandwidthUsage } from './trendline.js';

export type { BandwidthUsage, Decision, PolicyState, RenditionFact, SwitchReason };

export interface AdaptiveControllerOptions {
  /** The renditions, high to low (0 = the top); indexes are the data plane's. */
  renditions: readonly RenditionFact[];
  /** The rendition the viewer starts on (-1: audio only). @default 0 */
  start?: number;
  /** Audio beside the video on the wire; 0 for a source without audio. @default 87_000 */
  audioBps?: number;
  /** The estimate before feedback says more. @default the start rendition's need */
  startBitrateBps?: number;
  /** Bytes per packet on the wire beyond the recorded size (IPv4 + UDP; 48 for IPv6). @default 28 */
  overheadBytes?: number;
}

/**
 * Joined results of one feedback, shared by every controller of the thread: a controller uses them
 * only inside `onFeedback`, and a thread runs one call at a time.
 */
let sharedResults: PacketResults | undefined;

export class AdaptiveController {
  readonly #join: FeedbackJoin;
  readonly #estimator: BandwidthEstimator;
  readonly #probe: ProbeCluster;
  readonly #policy: RenditionPolicy;
  readonly #stop = probeStop();
  #newestSentUs = Number.NEGATIVE_INFINITY;
  /** Probes started and probes that failed (counters for the viewer's figures). */
  probes = 0;
  probesFailed = 0;
  lastReason: SwitchReason = 'start';

  constructor(record: SendRecord, options: AdaptiveControllerOptions) {
    const overheadBytes = options.overheadBytes ?? 28;
    this.#join = new FeedbackJoin(record);
    this.#policy = new RenditionPolicy(options.renditions, {
      audioBps: options.audioBps ?? 87_000,
      start: options.start ?? 0,
    });
    const startNeed = this.#policy.need(this.#policy.current);
    this.#estimator = new BandwidthEstimator({
      startBps: options.startBitrateBps ?? (Number.isNaN(startNeed) ? 1_000_000 : startNeed),
      overheadBytes,
    });
    this.#probe = new ProbeCluster(overheadBytes);
  }

  /** One parsed feedback from this viewer (status `ok`). */
  onFeedback(nowMs: number, feedback: TransportFeedback): Decision | undefined {
    if (sharedResults === undefined || sharedResults.capacity < feedback.capacity) {
      sharedResults = new PacketResults(Math.max(feedback.capacity, 4096));
    }
    this.#join.join(feedback, sharedResults);
    return this.onResults(nowMs, sharedResults);
  }

  /** The same, for packets already joined (tests that build results by hand). */
  onResults(nowMs: number, results: PacketResults): Decision | undefined {
    if (results.count === 0) return undefined;
    this.#estimator.update(nowMs, results);
    for (let index = 0; index < results.count; index++) {
      if (results.sentUs[index]! > this.#newestSentUs) this.#newestSentUs = results.sentUs[index]!;
    }
    const probe = this.#probe.observe(nowMs, results, this.#estimator);
    if (probe === 'succeeded') this.#estimator.acceptProbe(nowMs, this.#probe.deliveredBps);
    if (probe === 'failed') this.probesFailed++;
    const policy = this.#policy;
    const wasProbing = policy.state === 'probing';
    const decision = policy.decide(nowMs, this.#estimator, probe, this.#probe.deliveredBps);
    if (probe === 'succeeded' || probe === 'failed') this.#probe.cancel();
    if (decision?.kind === 'probe') {
      this.#probe.start(
        nowMs,
        decision.probeRateBps,
        decision.probeDurationMs,
        this.#newestSentUs,
        this.#estimator.queueDelayMs,
      );
      this.probes++;
      return decision;
    }
    if (decision?.kind === 'switch') {
      this.#probe.cancel();
      this.lastReason = decision.reason;
      return decision;
    }
    if (wasProbing && probe === 'failed' && this.#probe.aborted) return this.#stop;
    return decision;
  }

  /** The data plane now sends `rendition` (its keyframe went out), or paused the video (-1). */
  onSwitched(nowMs: number, rendition: number): void {
    this.#policy.onSwitched(nowMs, rendition);
  }

  /** New rendition facts (a measured bitrate, a layer that stopped or came back). */
  setRenditions(nowMs: number, renditions: readonly RenditionFact[]): Decision | undefined {
    const decision = this.#policy.setRenditions(renditions, nowMs);
    if (decision) {
      this.#probe.cancel();
      this.lastReason = decision.reason;
    }
    return decision;
  }

  /** Fixes the viewer on a rendition (`'audio'`: audio only) or hands it back (`'auto'`). */
  pin(nowMs: number, rendition: number | 'audio' | 'auto'): Decision | undefined {
    const decision = this.#policy.pin(nowMs, rendition);
    if (decision) {
      this.#probe.cancel();
      this.lastReason = decision.reason;
    }
    return decision;
  }

  /** Round-trip time from RTCP, when the data plane knows it (200 ms is assumed otherwise). */
  set rttMs(value: number) {
    this.#estimator.rttMs = value;
  }

  /**
   * The rate to pace this viewer's packets at: 1.3 × the estimate, never below 1.1 × what the
   * current rendition needs (the pacer must not become the bottleneck), and the probe's rate while
   * one runs.
   */
  get pacingRateBps(): number {
    const need = this.#policy.need(this.#policy.current);
    let rate = 1.3 * this.#estimator.estimateBps;
    if (!Number.isNaN(need)) rate = Math.max(rate, 1.1 * need);
    if (this.#probe.state === 'running') rate = Math.max(rate, this.#probe.rateBps);
    return rate;
  }

  get estimateBps(): number {
    return this.#estimator.estimateBps;
  }
  get ackedBps(): number {
    return this.#estimator.ackedBps;
  }
  /** Raw loss over the last second (what the viewer sees), 0–1. */
  get loss(): number {
    return this.#estimator.loss1s;
  }
  get queueDelayMs(): number {
    return this.#estimator.queueDelayMs;
  }
  /** What the delay-based detector says after the last feedback. */
  get usage(): BandwidthUsage {
    return this.#estimator.usage;
  }
  get state(): PolicyState {
    return this.#policy.state;
  }
  /** The rendition being sent and the one decided on (-1: audio only). */
  get rendition(): number {
    return this.#policy.current;
  }
  get targetRendition(): number {
    return this.#policy.target;
  }
  get switches(): number {
    return this.#policy.switches;
  }
  /** Feedback packets reported that the send record no longer had (too late to use). */
  get unmatchedPackets(): number {
    return this.#join.unmatched;
  }
}
