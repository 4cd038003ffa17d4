import { audioVerdict, videoVerdict } from './browser-support.js';
import type { InputFacts, MediaFacts } from './input-facts.js';
import { type MediaPlan, type PlanSettings, planMedia, type TrackPlan } from './media-plan.js';

/** Whether a running start's plan suits the facts its own FFmpeg found; `reasons` say why not. */
export interface PlanCheck {
  fits: boolean;
  reasons: string[];
}

/**
 * Checks a start's plan against the facts of the same run (FFmpeg's banner of its inputs) — the
 * plan may rest on a probe of a moment ago, on the facts of a previous run, or on nothing. It does
 * not fit when a planned stream is missing, when a copied stream is no longer what was copied or
 * no longer plays, or when a track planned `off` for lack of a stream now has one (the settings
 * tell that apart from `off` by choice). Unknown things (B-frames in a banner) never make a plan
 * misfit, so the plan made from some facts always fits those facts —
 * `checkPlan(planMedia(f, s), f, s).fits` holds — and restarting on a misfit cannot loop.
 *
 * @example if (!checkPlan(plan, factsFromBanner(banner.inputs, config.input), webrtc).fits) restartWithNewPlan();
 */
export function checkPlan(
  plan: MediaPlan,
  facts: InputFacts | MediaFacts,
  settings: PlanSettings,
): PlanCheck {
  const list: MediaFacts = 'streams' in facts ? [facts] : facts;
  const now = planMedia(list, settings);
  const reasons = [
    ...checkTrack('video', plan.video, now.video, list),
    ...checkTrack('audio', plan.audio, now.audio, list),
  ];
  return { fits: reasons.length === 0, reasons };
}

function checkTrack(kind: 'video' | 'audio', track: TrackPlan, now: TrackPlan, facts: MediaFacts): string[] {
  if (track.action === 'off') {
    return now.action === 'off' ? [] : [`the input now has ${kind} (${now.from}), planned off`];
  }
  const spec = parseSpecifier(track.stream ?? '');
  if (!spec) return [`${kind} stream specifier "${track.stream ?? ''}" is not one the plan makes`];
  const input = facts[spec.input];
  if (!input) return [];
  const stream =
    spec.index === undefined
      ? input.streams.find((s) => s.kind === kind && !s.attached_pic)
      : input.streams.find((s) => s.index === spec.index);
  if (!stream || stream.kind !== kind) return [`the input has no ${kind} stream at ${track.stream}`];
  if (track.action !== 'copy') return [];
  if (track.from !== 'unknown' && stream.codec !== track.from) {
    return [`${kind} changed from ${track.from} to ${stream.codec || 'an unknown codec'}; it was copied`];
  }
  // An explicit copy already warned that it will likely not play; that stays the user's choice.
  if (track.warning) return [];
  const verdict = kind === 'video' ? videoVerdict(stream) : audioVerdict(stream);
  return verdict.plays === 'no' ? [`copied ${kind} does not play: ${verdict.why}`] : [];
}

/** `1:2` (input 1, stream index 2) or `1:v:0` (input 1, its first video stream). */
function parseSpecifier(spec: string): { input: number; index?: number } | undefined {
  const absolute = /^(\d+):(\d+)$/.exec(spec);
  if (absolute) return { input: Number(absolute[1]), index: Number(absolute[2]) };
  const first = /^(\d+):[va]:0$/.exec(spec);
  return first ? { input: Number(first[1]) } : undefined;
}
