import { AdaptiveController, type Decision, type RenditionFact } from '../congestion/adaptive-controller.js';
import { SendRecord } from '../congestion/send-record.js';
import { parseTransportFeedback, TransportFeedback } from '../rtcp/twcc-feedback.js';

/** What an adaptive viewer's shard asks of it: rendition facts high to low, and the start. */
export interface AdaptiveViewerSpec {
  /** The source's video renditions, indexes as the data plane's; ineligible ones inactive. */
  renditions: RenditionFact[];
  start: number;
  /** The estimate before feedback says more. @default the start rendition's need */
  startBitrateBps?: number;
}

/** Where a decision sends a viewer: a rendition, or audio only; and whether its video stops at once. */
export interface AdaptationMove {
  rendition: number | 'audio';
  pauseNow: boolean;
}

/** One parsed feedback per thread: a controller uses it only within `feedback()`. */
let scratch: TransportFeedback | undefined;

/**
 * The seam between one viewer's place in the data plane and its congestion control
 * (`congestion/AdaptiveController`): the shard hands it what the viewer's transport-wide feedback
 * says and every switch it made; it answers with where the viewer's video should go. It runs in the
 * shard's thread, once per feedback or pin, never per packet.
 *
 * The send record it joins feedback with is written where packets are stamped with the
 * transport-wide sequence number (the native send path, not yet): until then feedback finds no sent
 * packets and decides nothing, and pins go through the controller so that its state follows them.
 */
export class ViewerAdaptation {
  readonly record = new SendRecord();
  readonly #controller: AdaptiveController;
  readonly #move: AdaptationMove = { rendition: 0, pauseNow: false };

  constructor(spec: AdaptiveViewerSpec) {
    this.#controller = new AdaptiveController(this.record, {
      renditions: spec.renditions,
      start: spec.start,
      ...(spec.startBitrateBps !== undefined ? { startBitrateBps: spec.startBitrateBps } : {}),
    });
  }

  get controller(): AdaptiveController {
    return this.#controller;
  }

  /** A pin from the viewer's owner (`'auto'`: the controller decides again). */
  pin(nowMs: number, target: number | 'audio' | 'auto'): AdaptationMove | undefined {
    return this.#moveFor(this.#controller.pin(nowMs, target));
  }

  /** One transport-wide feedback packet of the viewer (RTCP bytes as decrypted). */
  feedback(nowMs: number, rtcp: Uint8Array): AdaptationMove | undefined {
    scratch ??= new TransportFeedback();
    if (parseTransportFeedback(rtcp, 0, rtcp.length, scratch) !== 'ok') return undefined;
    return this.#moveFor(this.#controller.onFeedback(nowMs, scratch));
  }

  /** The shard now sends `rendition` (its keyframe went out), or paused the video (-1). */
  switched(nowMs: number, rendition: number): void {
    this.#controller.onSwitched(nowMs, rendition);
  }

  /** Switches only: probes need padding in the send path, which does not exist yet. */
  #moveFor(decision: Decision | undefined): AdaptationMove | undefined {
    if (decision?.kind !== 'switch') return undefined;
    this.#move.rendition = decision.rendition < 0 ? 'audio' : decision.rendition;
    this.#move.pauseNow = decision.pauseNow;
    return this.#move;
  }
}
