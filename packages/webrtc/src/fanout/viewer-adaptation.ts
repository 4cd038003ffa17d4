import { AdaptiveController, type Decision, type RenditionFact } from '../congestion/adaptive-controller.js';
import { RembController } from '../congestion/remb-controller.js';
import { SendRecord } from '../congestion/send-record.js';
import { parseTransportFeedback, TransportFeedback } from '../rtcp/twcc-feedback.js';

/**
 * What the viewer's browser was asked for in the answer: `remb` (goog-remb without transport-wide
 * feedback: the browser estimates, we read its REMB and its NACKs) or `transport-cc` (we estimate
 * from per-packet feedback; needs the send path to stamp transport-wide sequence numbers).
 */
export type FeedbackMode = 'remb' | 'transport-cc';

/** What an adaptive viewer's shard asks of it: rendition facts high to low, and the start. */
export interface AdaptiveViewerSpec {
  /** The source's video renditions, indexes as the data plane's; ineligible ones inactive. */
  renditions: RenditionFact[];
  start: number;
  /** @default 'remb' */
  feedback?: FeedbackMode;
  /** The estimate before feedback says more. @default the start rendition's need */
  startBitrateBps?: number;
}

/**
 * Where a decision sends a viewer: `switch` to a rendition or audio only (`pauseNow`: its video
 * stops at once); `probe`: send `probeRateBps` in all for `probeDurationMs`; `probe-stop`.
 */
export interface AdaptationMove {
  kind: 'switch' | 'probe' | 'probe-stop';
  rendition: number | 'audio';
  pauseNow: boolean;
  probeRateBps: number;
  probeDurationMs: number;
}

/** One parsed feedback per thread: a controller uses it only within `feedback()`. */
let scratch: TransportFeedback | undefined;

/**
 * The seam between one viewer's place in the data plane and its congestion control: the shard
 * hands it what the viewer reports (REMB and NACK counts, or transport-wide feedback) and every
 * switch it made; it answers with where the viewer's video should go and when to probe. It runs
 * in the shard's thread, once per report or tick, never per packet.
 */
export class ViewerAdaptation {
  readonly mode: FeedbackMode;
  readonly record = new SendRecord();
  readonly #twcc: AdaptiveController | undefined;
  readonly #remb: RembController | undefined;
  readonly #renditions: readonly RenditionFact[];
  readonly #move: AdaptationMove = {
    kind: 'switch',
    rendition: 0,
    pauseNow: false,
    probeRateBps: 0,
    probeDurationMs: 0,
  };

  constructor(spec: AdaptiveViewerSpec) {
    this.mode = spec.feedback ?? 'remb';
    this.#renditions = spec.renditions;
    const options = {
      renditions: spec.renditions,
      start: spec.start,
      ...(spec.startBitrateBps !== undefined ? { startBitrateBps: spec.startBitrateBps } : {}),
    };
    if (this.mode === 'remb') this.#remb = new RembController(options);
    else this.#twcc = new AdaptiveController(this.record, options);
  }

  /** A pin from the viewer's owner (`'auto'`: the controller decides again). */
  pin(nowMs: number, target: number | 'audio' | 'auto'): AdaptationMove | undefined {
    return this.#moveFor((this.#remb ?? this.#twcc)!.pin(nowMs, target));
  }

  /** One transport-wide feedback packet of the viewer (RTCP bytes as decrypted). */
  feedback(nowMs: number, rtcp: Uint8Array): AdaptationMove | undefined {
    if (!this.#twcc) return undefined;
    scratch ??= new TransportFeedback();
    if (parseTransportFeedback(rtcp, 0, rtcp.length, scratch) !== 'ok') return undefined;
    return this.#moveFor(this.#twcc.onFeedback(nowMs, scratch));
  }

  /** A REMB from the viewer, bit/s (REMB mode). */
  remb(nowMs: number, bps: number): void {
    this.#remb?.remb(nowMs, bps);
  }

  /**
   * REMB mode, every few tens of ms: video packets sent since the last tick, packets NACKed, and
   * all bytes sent (audio, retransmissions and probes included).
   */
  tick(nowMs: number, sent: number, lost: number, octets: number): AdaptationMove | undefined {
    return this.#remb ? this.#moveFor(this.#remb.tick(nowMs, sent, lost, octets)) : undefined;
  }

  /** The shard now sends `rendition` (its keyframe went out), or paused the video (-1). */
  switched(nowMs: number, rendition: number): void {
    (this.#remb ?? this.#twcc)!.onSwitched(nowMs, rendition);
  }

  /** Rendition `r`'s video bitrate as the controller was told (0: unknown, or audio only). */
  renditionBps(rendition: number): number {
    return rendition >= 0 ? (this.#renditions[rendition]?.bitrateBps ?? 0) : 0;
  }

  /** What the listing shows: the estimate, raw loss over 1 s, switches so far. */
  get estimateBps(): number {
    return (this.#remb ?? this.#twcc)!.estimateBps;
  }
  get loss(): number {
    return (this.#remb ?? this.#twcc)!.loss;
  }
  /** The rendition being sent as the controller knows it (-1: audio only). */
  get rendition(): number {
    return (this.#remb ?? this.#twcc)!.rendition;
  }
  get switches(): number {
    return (this.#remb ?? this.#twcc)!.switches;
  }

  #moveFor(decision: Decision | undefined): AdaptationMove | undefined {
    if (!decision) return undefined;
    const move = this.#move;
    move.kind = decision.kind;
    move.rendition = decision.rendition < 0 ? 'audio' : decision.rendition;
    move.pauseNow = decision.pauseNow;
    move.probeRateBps = decision.probeRateBps;
    move.probeDurationMs = decision.probeDurationMs;
    return move;
  }
}
