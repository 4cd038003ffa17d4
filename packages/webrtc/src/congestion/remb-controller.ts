/**
 * Congestion control for one adaptive viewer whose browser estimates its own bandwidth and tells
 * us (REMB, draft-alvestrand-rmcat-remb-03): the answer negotiates `goog-remb` without
 * transport-wide feedback, so Chromium runs its receive-side estimator (delay-based, on the RTP
 * timestamps of the video it gets) and sends its figure about once a second, and at once when it
 * drops. The viewer's NACKs are its loss reports: every first request for a packet counts as a
 * packet lost, against the video packets sent to it.
 *
 *   remb(now, bps)                 // a REMB from the viewer
 *   tick(now, sentPackets, lost)   // every few tens of ms: video packets sent, packets NACKed
 *   → Decision (switch / probe / probe-stop) from the same RenditionPolicy as transport-wide mode
 *
 * What REMB cannot tell: how much more than it receives the link would carry (libwebrtc caps its
 * estimate near 1.5 × the incoming rate). Going up therefore takes a probe: the data plane sends
 * the viewer's recent packets again (its SRTP replay check drops them after the link carried them)
 * so that everything sent is the probe's rate; a probe that ends with no REMB drop and no excess
 * loss, seen for `probeGraceMs` after it, proves the link carries that rate. From audio only there
 * is no video to probe with: the lowest rung is started, and its probation is the test; a try that
 * fails makes the next wait twice as long (4 s to 16 s), so that a link too thin for any video
 * keeps its audio clean.
 *
 * No sockets, no timers, no clocks: `now` is the caller's millisecond clock.
 */
import type { CongestionSignals } from './bandwidth-estimator.js';
import { LossBound } from './loss-bound.js';
import { type Decision, probeStop, type RenditionFact, RenditionPolicy, rank } from './rendition-policy.js';
import type { BandwidthUsage } from './trendline.js';

export interface RembControllerOptions {
  renditions: readonly RenditionFact[];
  /** @default 0 */
  start?: number;
  /** @default 87_000 */
  audioBps?: number;
  /** The estimate before the first REMB. @default the start rendition's need */
  startBitrateBps?: number;
}

/** A REMB this much below the previous one is the receiver's detector overusing. */
const decreaseRatio = 0.97;
/** How long a REMB drop counts as overuse. */
const overuseHoldMs = 500;
/** After a probe ends, the wait for the NACKs and the REMB drop its overshoot would cause. */
const probeGraceMs = 600;
/**
 * Loss over a second that is congestion, not the link's inherent loss: without per-packet delays
 * (transport-wide mode's queue) nothing else tells tail drops from random loss. Random loss below
 * it (the 5 % a lossy Wi-Fi shows) is learnt and not acted upon.
 */
const congestionLoss = 0.08;
/** After a failed probe, NACKs for what it made the link drop still arrive this long. */
const probeNackTailMs = 600;
/** A probe's shortest duration here: the data plane ramps it up over 3/4 of it. */
const minProbeMs = 800;
/** Audio only again within this long of resuming video: the resume failed. */
const audioRetryWindowMs = 10_000;
/** The wait before the lowest rung is tried again after a failed try, doubling to the maximum. */
const audioHoldStartMs = 4000;
/** 8 s: video comes back within seconds of a lifted cap, and a try costs a 150 k link ≈ 1 s of audio loss. */
const audioHoldMaxMs = 8000;
/** Excess loss (300 ms) that ends a probe as failed. */
const probeFailLoss = 0.05;

/** The span of the delivered rate. */
const deliveredSpanMs = 500;
const deliveredSlots = 64;
/** SRTP tag, UDP and IPv4 headers on a ~1000-byte packet: what the link carries beyond the RTP bytes. */
const wireFactor = 1.04;

/** The signals the policy reads, from REMB and NACKs. */
class RembSignals implements CongestionSignals {
  estimateBps: number;
  /** What the viewer got over the last 500 ms: bytes sent less the share its NACKs say was lost. */
  ackedBps = Number.NaN;
  readonly recentBps = Number.NaN;
  usage: BandwidthUsage = 'normal';
  /** Unknown in this mode (no per-packet arrival times): the receiver's REMB drop stands for it. */
  readonly queueDelayMs = 0;
  excessLoss1s = 0;
  excessLoss300ms = 0;
  inherentLoss = 0;
  loss1s = 0;
  remb = Number.NaN;
  lastDecreaseMs = Number.NEGATIVE_INFINITY;
  /** The rate a probe proved the link carries (0: none since the last move down). */
  provenBps = 0;
  readonly loss = new LossBound();
  readonly #atMs = new Float64Array(deliveredSlots);
  readonly #octets = new Float64Array(deliveredSlots);
  readonly #sent = new Float64Array(deliveredSlots);
  readonly #lost = new Float64Array(deliveredSlots);
  #next = 0;
  #firstMs = Number.NaN;

  /** One tick's figures into the delivered rate. */
  delivered(nowMs: number, sent: number, lost: number, octets: number): void {
    if (Number.isNaN(this.#firstMs)) this.#firstMs = nowMs;
    const at = this.#next;
    this.#atMs[at] = nowMs;
    this.#octets[at] = octets;
    this.#sent[at] = sent;
    this.#lost[at] = lost;
    this.#next = (at + 1) % deliveredSlots;
    let bytes = 0;
    let packets = 0;
    let lostPackets = 0;
    for (let index = 0; index < deliveredSlots; index++) {
      if (nowMs - this.#atMs[index]! >= deliveredSpanMs) continue;
      bytes += this.#octets[index]!;
      packets += this.#sent[index]!;
      lostPackets += this.#lost[index]!;
    }
    // Not before a whole window without the first tick: that one carries the join's cached GOP, a
    // burst sent at once that says nothing about the link.
    const share = packets > 0 ? Math.max(0, 1 - lostPackets / packets) : 1;
    this.ackedBps =
      nowMs - this.#firstMs > deliveredSpanMs + 100
        ? (bytes * wireFactor * 8 * 1000 * share) / deliveredSpanMs
        : Number.NaN;
  }

  constructor(readonly startBps: number) {
    this.estimateBps = startBps;
  }
}

export class RembController {
  readonly #policy: RenditionPolicy;
  readonly #signals: RembSignals;
  readonly #stop = probeStop();
  #probeEndMs = Number.NaN;
  #ignoreLossUntilMs = Number.NEGATIVE_INFINITY;
  #audioSinceMs = Number.NEGATIVE_INFINITY;
  #audioHoldMs = 0;
  #resumedMs = Number.NEGATIVE_INFINITY;
  #probeRateBps = 0;
  probes = 0;
  probesFailed = 0;

  constructor(options: RembControllerOptions) {
    this.#policy = new RenditionPolicy(options.renditions, {
      audioBps: options.audioBps ?? 87_000,
      start: options.start ?? 0,
    });
    const need = this.#policy.need(this.#policy.current);
    this.#signals = new RembSignals(options.startBitrateBps ?? (Number.isNaN(need) ? 1_000_000 : need));
  }

  /** A REMB from the viewer, bit/s. */
  remb(nowMs: number, bps: number): void {
    const signals = this.#signals;
    if (bps < signals.remb * decreaseRatio) signals.lastDecreaseMs = nowMs;
    signals.remb = bps;
  }

  /**
   * What happened since the last tick: `sent` video packets sent to the viewer, `lost` packets it
   * asked for the first time (NACK). Then the policy decides; read the decision before the next call.
   */
  tick(nowMs: number, sent: number, reportedLost: number, octets: number): Decision | undefined {
    const signals = this.#signals;
    const lost = nowMs < this.#ignoreLossUntilMs ? 0 : reportedLost;
    signals.delivered(nowMs, sent, lost, octets);
    const loss = signals.loss;
    const delivered = Math.max(0, sent - lost);
    // The windows move with the clock even while no video goes (audio only): stale losses age out.
    loss.advance(nowMs);
    for (let index = 0; index < delivered; index++) loss.add(nowMs, false, false);
    for (let index = 0; index < lost; index++) loss.add(nowMs, true, false);
    signals.usage = nowMs - signals.lastDecreaseMs < overuseHoldMs ? 'overusing' : 'normal';
    // What the link is known to carry: the browser's figure, what got through, what a probe proved.
    let path = Math.max(Number.isNaN(signals.remb) ? 0 : signals.remb, signals.provenBps);
    if (!Number.isNaN(signals.ackedBps)) path = Math.max(path, signals.ackedBps);
    if (path === 0) path = signals.startBps;
    // Without per-packet delays, heavy loss is taken as congestion, never as the link's own loss.
    const congested = signals.usage === 'overusing' || loss.loss1s >= congestionLoss;
    loss.update(nowMs, congested, Math.min(path, loss.boundBps));
    signals.excessLoss1s = loss.excessLoss1s;
    signals.excessLoss300ms = loss.excessLoss300ms;
    signals.inherentLoss = loss.inherentLoss;
    signals.loss1s = loss.loss1s;
    signals.estimateBps = Math.min(path, loss.boundBps);
    return this.#decide(nowMs);
  }

  #decide(nowMs: number): Decision | undefined {
    const policy = this.#policy;
    const signals = this.#signals;
    // Audio only after the lowest rung failed again soon: wait longer before trying it once more.
    if (policy.state === 'audio-only' && nowMs < this.#audioSinceMs + this.#audioHoldMs) return undefined;
    let probe: 'idle' | 'running' | 'succeeded' | 'failed' = 'idle';
    if (policy.state === 'probing') {
      const failed = signals.usage === 'overusing' || signals.excessLoss300ms >= probeFailLoss;
      if (failed) probe = 'failed';
      else if (nowMs < this.#probeEndMs + probeGraceMs) probe = 'running';
      else probe = 'succeeded';
      if (probe === 'failed') {
        this.probesFailed++;
        // Its losses, some NACKed a little later still, are the probe's: not a reason to go down.
        signals.loss.forget();
        this.#ignoreLossUntilMs = nowMs + probeNackTailMs;
      }
    }
    const wasRunning = !Number.isNaN(this.#probeEndMs) && nowMs < this.#probeEndMs;
    if (probe === 'failed' || probe === 'succeeded') this.#probeEndMs = Number.NaN;
    if (probe === 'succeeded') signals.provenBps = this.#probeRateBps;
    const target = policy.target;
    const decision = policy.decide(nowMs, signals, probe, probe === 'succeeded' ? this.#probeRateBps : 0);
    // Down: what a probe proved before no longer holds.
    if (decision?.kind === 'switch' && rank(decision.rendition) > rank(target)) signals.provenBps = 0;
    if (decision?.kind === 'probe') {
      if (policy.current < 0) {
        // From audio only: the lowest rung's probation is the probe (nothing to pad).
        return policy.decide(nowMs, signals, 'succeeded', decision.probeRateBps);
      }
      // Long enough for the data plane's ramp (half the rate to all of it) to be judged on its way.
      decision.probeDurationMs = Math.max(decision.probeDurationMs, minProbeMs);
      this.#probeEndMs = nowMs + decision.probeDurationMs;
      this.#probeRateBps = decision.probeRateBps;
      this.probes++;
      return decision;
    }
    if (decision === undefined && probe === 'failed' && wasRunning) return this.#stop;
    return decision;
  }

  /** The data plane now sends `rendition` (its keyframe went out), or paused the video (-1). */
  onSwitched(nowMs: number, rendition: number): void {
    const from = this.#policy.current;
    this.#policy.onSwitched(nowMs, rendition);
    if (rendition < 0 && from >= 0) {
      // Each try of the lowest rung from audio only costs the audio some loss on a link that
      // cannot carry it: a try that fails within `audioRetryWindowMs` doubles the wait for the next.
      // Only the lowest rung's try counts: a higher rung an emergency chose on a link just capped
      // says nothing about the lowest, which is tried next without waiting.
      const failedTry = nowMs - this.#resumedMs < audioRetryWindowMs && this.#policy.fitsNoRungBelow(from);
      this.#audioHoldMs = failedTry
        ? Math.min(audioHoldMaxMs, Math.max(audioHoldStartMs, 2 * this.#audioHoldMs))
        : 0;
      this.#audioSinceMs = nowMs;
    } else if (rendition >= 0 && from < 0) {
      this.#resumedMs = nowMs;
    }
  }

  pin(nowMs: number, rendition: number | 'audio' | 'auto'): Decision | undefined {
    const decision = this.#policy.pin(nowMs, rendition);
    if (decision) this.#probeEndMs = Number.NaN;
    return decision;
  }

  get estimateBps(): number {
    return this.#signals.estimateBps;
  }
  get loss(): number {
    return this.#signals.loss1s;
  }
  get state(): RenditionPolicy['state'] {
    return this.#policy.state;
  }
  get rendition(): number {
    return this.#policy.current;
  }
  get switches(): number {
    return this.#policy.switches;
  }
}
