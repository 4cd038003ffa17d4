/**
 * Which rendition one viewer should get: a state machine over the estimator's signals, with
 * hysteresis so that it does not flap. Renditions are indexed high to low (0 = top); -1 is audio
 * only. `need(r) = 1.155 × bitrate(r) + audio` is what a rendition costs on the wire (RTP, SRTP,
 * UDP and IP headers on ~1100-byte packets, and the audio stream beside it).
 *
 * Down, at once and as far as needed:
 * - emergency — excess loss ≥ 20 % over 300 ms, or a queue ≥ 250 ms: the current video stops now
 *   (the link drains, audio keeps flowing) and the chosen rendition starts at its next keyframe;
 * - loss — excess loss ≥ 10 % over 1 s, or over 300 ms with a queue ≥ 30 ms (tail drops come with
 *   a full queue, random loss does not);
 * - congestion — the estimate below `need(current)` for 400 ms *while the path shows it* (a queue
 *   ≥ 10 ms or excess loss ≥ 2 %). The estimate alone is not enough: a sender that uses less than
 *   the path carries cannot measure the path, and one false overuse (a receiver stalled on a busy
 *   machine) cuts the estimate to 0.85 × what is sent, below the current rendition's need. Real
 *   overload always builds a queue or drops.
 * The target is the best rendition whose need fits min(estimate, acked rate over 500 ms and over
 * 200 ms) — under congestion what arrives is the path's capacity, and the short window follows a
 * sudden drop — and at least one rung lower.
 *
 * Up, one rung at a time: after `holdUp` clean (no overuse, excess loss < 3 %, no queue), a probe
 * for the next rung (1.1 × its need; 1.25 × from audio only); if it delivers the rung's need, the
 * switch, then 2 s of probation, which a queue with overuse or 5 % excess loss ends by going back
 * down. A failed probe or probation doubles the wait before that rung is probed again (2 s → 8 s
 * at most; forgotten when the video stops for audio only), the rung's own: a viewer knocked one rung lower does not wait for the rung that keeps
 * failing above it. A probation passed clears the rung's wait and shortens the next one to 1 s: a
 * link that carried one more rung is likely to carry the next (a lifted cap), and the climb from
 * 240p to the top takes three probes. The 8 s ceiling keeps the climb from a long-capped 360p to the
 * top within the 20 s a viewer expects.
 *
 * After any down decision, further down decisions wait until the switch took effect and one second
 * of sends at the new rate is in the loss windows (at most 3 s): the windows still hold the old
 * rate's losses. For the same reason none is taken while a probe runs or for 1.2 s after one
 * failed: a probe that overshot is aborted at the first feedback that shows it, and the queue and
 * losses it caused are its own, not the link's (without this, on a 1.2 Mbit/s link a failed probe
 * for the top knocked a viewer off 480p, which fits, every 5 s).
 */
import type { CongestionSignals } from './bandwidth-estimator.js';

export type PolicyState = 'steady' | 'probing' | 'probation' | 'audio-only';
export type SwitchReason = 'start' | 'congestion' | 'loss' | 'probe' | 'recovered' | 'pinned' | 'layer-gone';

/** A rendition as the policy sees it. */
export interface RenditionFact {
  /** Video bitrate, bit/s: configured for FFmpeg rungs, measured for a copied top or a simulcast layer. 0: unknown yet. */
  bitrateBps: number;
  /** false: not eligible now (a simulcast layer that stopped, a codec the viewer cannot decode). @default true */
  active?: boolean;
}

/** What the data plane is to do. One object, reused: read it before the next call. */
export interface Decision {
  /**
   * `switch`: move to `rendition` (-1 audio only) at its next keyframe (ends any probe);
   * `probe`: pad the stream so everything sent is `probeRateBps` for `probeDurationMs`;
   * `probe-stop`: stop padding now.
   */
  kind: 'switch' | 'probe' | 'probe-stop';
  rendition: number;
  /** `switch`: stop the current video now instead of at the target's keyframe (emergency). */
  pauseNow: boolean;
  reason: SwitchReason;
  probeRateBps: number;
  probeDurationMs: number;
}

export interface PolicyOptions {
  /** Audio on the wire beside the video (Opus 64 kbit/s at 50 packets/s with headers); 0 without audio. @default 87_000 */
  audioBps?: number;
  /** The rendition the viewer starts on. @default 0 */
  start?: number;
}

const maxRenditions = 16;
const overheadFactor = 1.155;
const holdUpStartMs = 2000;
/** The wait before the next probe once a probation passed: the climb goes on. */
const holdUpClimbingMs = 1000;
/** Excess loss a window may prove and still count as clean for going up. */
const cleanExcessLoss = 0.03;
const holdUpMaxMs = 8000;
const probationMs = 2000;
const belowNeedMs = 400;
const downSettleMs = 1000;
const downHoldMaxMs = 3000;
/** After a failed probe: its losses leave the 1 s window (by send time) plus a feedback's delay. */
const probeAftermathMs = 1200;
/** Bytes a probe sends at least, so that it outlasts a shaper's bucket (3 × a 10 KB `tbf` burst). */
const probeBytes = 30_000;

export class RenditionPolicy {
  state: PolicyState = 'steady';
  /** The rendition being sent (as the data plane last said), and the one decided on. */
  current: number;
  target: number;
  pinned: number | undefined;
  switches = 0;
  readonly decision: Decision = {
    kind: 'switch',
    rendition: 0,
    pauseNow: false,
    reason: 'start',
    probeRateBps: 0,
    probeDurationMs: 0,
  };

  readonly #audioBps: number;
  readonly #bitrates = new Float64Array(maxRenditions);
  readonly #active = new Uint8Array(maxRenditions);
  /** Per rung: the wait before it is probed again after it failed (0: none). */
  readonly #rungHoldMs = new Float64Array(maxRenditions);
  /** The wait before any probe: 2 s, 1 s while climbing. */
  #baseHoldMs = holdUpStartMs;
  #count = 0;
  #cleanSinceMs = Number.NaN;
  #belowSinceMs = Number.NaN;
  #probationStartMs = Number.NaN;
  #probationFrom = 0;
  #probeTarget = 0;
  #downHoldUntilMs = Number.NEGATIVE_INFINITY;

  constructor(renditions: readonly RenditionFact[], options: PolicyOptions = {}) {
    this.#audioBps = options.audioBps ?? 87_000;
    this.setRenditions(renditions);
    this.current = Math.min(options.start ?? 0, this.#count - 1);
    this.target = this.current;
    if (this.current < 0) this.state = 'audio-only';
  }

  get renditionCount(): number {
    return this.#count;
  }

  /** How long the link must stay clean before the next rung up is probed. */
  get holdUpMs(): number {
    const up = this.#higher(this.target);
    return Math.max(this.#baseHoldMs, up === this.target ? 0 : this.#rungHoldMs[up]!);
  }

  /** No active rendition below `rendition`: the next step down is audio only. */
  fitsNoRungBelow(rendition: number): boolean {
    return rendition >= 0 && this.#lower(rendition) < 0;
  }

  /** What rendition `r` costs on the wire with the audio; NaN while its bitrate is unknown. */
  need(rendition: number): number {
    if (rendition < 0) return this.#audioBps;
    const bitrate = this.#bitrates[rendition]!;
    return bitrate > 0 ? overheadFactor * bitrate + this.#audioBps : Number.NaN;
  }

  /** New facts (measured bitrates, a layer that stopped). A target that became inactive is left at once. */
  setRenditions(renditions: readonly RenditionFact[], nowMs = 0): Decision | undefined {
    this.#count = Math.min(renditions.length, maxRenditions);
    for (let index = 0; index < this.#count; index++) {
      this.#bitrates[index] = renditions[index]!.bitrateBps;
      this.#active[index] = renditions[index]!.active === false ? 0 : 1;
    }
    if (this.target >= 0 && (this.target >= this.#count || !this.#active[this.target])) {
      let next = this.target + 1;
      while (next < this.#count && !this.#active[next]) next++;
      return this.#switchTo(nowMs, next < this.#count ? next : -1, 'layer-gone', false);
    }
    return undefined;
  }

  /** Fixes the rendition (`'audio'`: audio only), or hands it back to the policy (`'auto'`). */
  pin(nowMs: number, rendition: number | 'audio' | 'auto'): Decision | undefined {
    if (rendition === 'auto') {
      this.pinned = undefined;
      this.state = this.target < 0 ? 'audio-only' : 'steady';
      this.#baseHoldMs = holdUpStartMs;
      this.#rungHoldMs.fill(0);
      this.#cleanSinceMs = nowMs;
      return undefined;
    }
    const to = rendition === 'audio' ? -1 : Math.min(Math.max(rendition, 0), this.#count - 1);
    this.pinned = to;
    return this.#switchTo(nowMs, to, 'pinned', false);
  }

  /** The data plane switched (the target's keyframe went out, or the video paused: -1). */
  onSwitched(nowMs: number, rendition: number): void {
    // Audio only: the link changed so much that no rung fits; what failed above before says
    // little about the link that comes back, and the climb from the lowest rung must not wait
    // out backoffs of another cap (measured: 8 s per rung, a climb of 30 s after a lifted cap).
    if (rendition < 0 && this.current >= 0) this.#rungHoldMs.fill(0);
    this.current = rendition;
    if (this.state === 'probation' && rendition === this.target) this.#probationStartMs = nowMs;
    this.#downHoldUntilMs = Math.min(this.#downHoldUntilMs, nowMs + downSettleMs);
  }

  /** After each feedback: the signals, and how the running probe (if any) stands. */
  decide(
    nowMs: number,
    signals: CongestionSignals,
    probe: 'idle' | 'running' | 'succeeded' | 'failed',
    probeDeliveredBps: number,
  ): Decision | undefined {
    if (this.pinned !== undefined) return undefined;
    if (this.#downHoldUntilMs === Number.POSITIVE_INFINITY) this.#downHoldUntilMs = nowMs + downHoldMaxMs;
    if (this.state === 'probing') {
      // A running probe is judged by its own cluster, which aborts at the first sign of a queue:
      // its overshoot is not the link getting worse. The verdict comes before the down rules, so
      // that a failed probe's aftermath is held off too.
      if (probe === 'running') return undefined;
      const up = this.#probing(nowMs, probe, probeDeliveredBps);
      if (up) return up;
    }
    const level = this.target;
    if (level >= 0 && nowMs >= this.#downHoldUntilMs) {
      const down = this.#down(nowMs, level, signals);
      if (down) return down;
    }
    if (this.state === 'probation') return this.#probation(nowMs, signals);
    return this.#maybeProbe(nowMs, level, signals);
  }

  #down(nowMs: number, level: number, signals: CongestionSignals): Decision | undefined {
    const queue = signals.queueDelayMs;
    if (signals.excessLoss300ms >= 0.2 || queue >= 250) {
      return this.#downTo(
        nowMs,
        level,
        signals,
        signals.excessLoss300ms >= 0.2 ? 'loss' : 'congestion',
        true,
      );
    }
    if (signals.excessLoss1s >= 0.1 || (signals.excessLoss300ms >= 0.1 && queue >= 30)) {
      return this.#downTo(nowMs, level, signals, 'loss', false);
    }
    const congested = queue >= 10 || signals.excessLoss1s >= 0.02;
    if (congested && signals.estimateBps < this.need(level)) {
      if (Number.isNaN(this.#belowSinceMs)) this.#belowSinceMs = nowMs;
      if (nowMs - this.#belowSinceMs >= belowNeedMs)
        return this.#downTo(nowMs, level, signals, 'congestion', false);
    } else {
      this.#belowSinceMs = Number.NaN;
    }
    return undefined;
  }

  #downTo(
    nowMs: number,
    level: number,
    signals: CongestionSignals,
    reason: SwitchReason,
    pauseNow: boolean,
  ): Decision {
    // Under congestion what arrives is the capacity; the 500 ms figure lags a drop, the 200 ms one does not.
    let capacity = signals.estimateBps;
    if (!Number.isNaN(signals.ackedBps)) capacity = Math.min(capacity, signals.ackedBps);
    if (!Number.isNaN(signals.recentBps)) capacity = Math.min(capacity, signals.recentBps);
    let to = this.#fit(capacity);
    if (to >= 0 && to <= level) to = this.#lower(level);
    if (this.state === 'probation') this.#backOff(level);
    this.#baseHoldMs = holdUpStartMs;
    return this.#switchTo(nowMs, to, reason, pauseNow);
  }

  #probation(nowMs: number, signals: CongestionSignals): Decision | undefined {
    if (Number.isNaN(this.#probationStartMs)) return undefined; // the switch has not happened yet
    if (signals.excessLoss1s >= 0.05 || (signals.usage === 'overusing' && signals.queueDelayMs >= 20)) {
      this.#backOff(this.target);
      this.#baseHoldMs = holdUpStartMs;
      return this.#switchTo(
        nowMs,
        this.#probationFrom,
        signals.excessLoss1s >= 0.05 ? 'loss' : 'congestion',
        false,
      );
    }
    if (nowMs - this.#probationStartMs >= probationMs) {
      this.state = 'steady';
      this.#rungHoldMs[this.target] = 0;
      this.#baseHoldMs = holdUpClimbingMs;
      this.#cleanSinceMs = nowMs;
    }
    return undefined;
  }

  #probing(
    nowMs: number,
    probe: 'idle' | 'running' | 'succeeded' | 'failed',
    deliveredBps: number,
  ): Decision | undefined {
    if (probe === 'running') return undefined;
    const up = this.#probeTarget;
    if (probe === 'succeeded' && deliveredBps >= this.need(up)) {
      const from = this.target;
      const decision = this.#switchTo(nowMs, up, from < 0 ? 'recovered' : 'probe', false);
      this.state = 'probation';
      this.#probationFrom = from;
      return decision;
    }
    this.state = this.target < 0 ? 'audio-only' : 'steady';
    this.#backOff(up);
    this.#baseHoldMs = holdUpStartMs;
    this.#cleanSinceMs = nowMs;
    // What the probe queued and dropped stays in the loss windows for a second: not a reason to go down.
    this.#downHoldUntilMs = Math.max(this.#downHoldUntilMs, nowMs + probeAftermathMs);
    return undefined;
  }

  #maybeProbe(nowMs: number, level: number, signals: CongestionSignals): Decision | undefined {
    const clean =
      signals.usage !== 'overusing' && signals.excessLoss1s < cleanExcessLoss && signals.queueDelayMs < 20;
    if (!clean || this.current !== this.target) {
      this.#cleanSinceMs = nowMs;
      return undefined;
    }
    if (Number.isNaN(this.#cleanSinceMs)) this.#cleanSinceMs = nowMs;
    if (nowMs - this.#cleanSinceMs < this.holdUpMs) return undefined;
    const up = this.#higher(level);
    const need = this.need(up);
    if (up === level || Number.isNaN(need)) return undefined;
    const rate = (level < 0 ? 1.25 : 1.1) * need;
    if (signals.estimateBps >= rate) {
      const decision = this.#switchTo(nowMs, up, level < 0 ? 'recovered' : 'probe', false);
      this.state = 'probation';
      this.#probationFrom = level;
      return decision;
    }
    this.state = 'probing';
    this.#probeTarget = up;
    const decision = this.decision;
    decision.kind = 'probe';
    decision.probeRateBps = rate;
    decision.probeDurationMs = Math.min(1000, Math.max(300, (probeBytes * 8 * 1000) / rate));
    return decision;
  }

  #switchTo(nowMs: number, to: number, reason: SwitchReason, pauseNow: boolean): Decision {
    if (rank(to) > rank(this.target)) this.#downHoldUntilMs = Number.POSITIVE_INFINITY;
    this.target = to;
    this.switches++;
    this.state = to < 0 ? 'audio-only' : 'steady';
    this.#probationStartMs = Number.NaN;
    this.#belowSinceMs = Number.NaN;
    this.#cleanSinceMs = nowMs;
    const decision = this.decision;
    decision.kind = 'switch';
    decision.rendition = to;
    decision.pauseNow = pauseNow;
    decision.reason = reason;
    decision.probeRateBps = 0;
    decision.probeDurationMs = 0;
    return decision;
  }

  /** `rung` failed (its probe, or its probation): it waits twice as long before it is probed again. */
  #backOff(rung: number): void {
    if (rung < 0) return;
    this.#rungHoldMs[rung] = Math.min(holdUpMaxMs, 2 * Math.max(holdUpStartMs, this.#rungHoldMs[rung]!));
  }

  /** The best active rendition whose need fits `bps`; -1 (audio only) when none does. */
  #fit(bps: number): number {
    for (let index = 0; index < this.#count; index++) {
      if (this.#active[index] && this.need(index) <= bps) return index;
    }
    return -1;
  }

  /** The next active rendition below `level`, or -1. */
  #lower(level: number): number {
    for (let index = level + 1; index < this.#count; index++) if (this.#active[index]) return index;
    return -1;
  }

  /** The next active rendition above `level` (from audio only: the lowest), or `level` when none. */
  #higher(level: number): number {
    if (level < 0) {
      for (let index = this.#count - 1; index >= 0; index--) if (this.#active[index]) return index;
      return level;
    }
    for (let index = level - 1; index >= 0; index--) if (this.#active[index]) return index;
    return level;
  }
}

/** A `probe-stop` decision (a controller keeps one and returns it when its probe must end now). */
export function probeStop(): Decision {
  return {
    kind: 'probe-stop',
    rendition: 0,
    pauseNow: false,
    reason: 'probe',
    probeRateBps: 0,
    probeDurationMs: 0,
  };
}

/** Lower quality ranks higher: renditions by index, audio only (-1) last. */
export function rank(rendition: number): number {
  return rendition < 0 ? Number.POSITIVE_INFINITY : rendition;
}
