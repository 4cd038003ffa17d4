import { z } from 'zod';
import { audioVerdict, describeStream, type Verdict, videoVerdict } from './browser-support.js';
import type { InputFacts, MediaFacts, StreamFacts } from './input-facts.js';
import type { WebRtcConfig } from './webrtc-config.js';

/** One track's part of a start: what FFmpeg does with it and why. */
export const trackPlanSchema = z.object({
  /** `copy` the input's packets, `transcode` to H.264/Opus, or `off`: no leg at all. */
  action: z.enum(['copy', 'transcode', 'off']),
  /** The input stream's codec (`h264`, `hevc`, `aac`…); `none` without such a stream; `unknown` when not known. */
  from: z.string(),
  /** What the browser receives: `h264`/`opus` when transcoding, `from` when copying, `none` when off. */
  to: z.string(),
  /** FFmpeg stream specifier to map (`0:1`; `0:v:0` when the input is not known); absent when off. */
  stream: z.string().optional(),
  /** Why, in words for the process's state, the log and the player's status line. */
  reason: z.string(),
  /** Set when the track as planned will likely not play (an explicit copy of what browsers cannot decode). */
  warning: z.string().optional(),
});

/** The decision of one start: per track copy, transcode or off, from the facts known at that start. */
export const mediaPlanSchema = z.object({
  /** The facts behind the plan: `probe`, `banner` (FFmpeg's own stream lines), or `none` (conservative). */
  basis: z.enum(['probe', 'banner', 'none']),
  video: trackPlanSchema,
  audio: trackPlanSchema,
});

export type TrackPlan = z.infer<typeof trackPlanSchema>;
export type MediaPlan = z.infer<typeof mediaPlanSchema>;
export type TrackAction = TrackPlan['action'];

/** The settings the plan follows (parsed by `webRtcConfigSchema`). */
export type PlanSettings = Pick<WebRtcConfig, 'video' | 'audio' | 'force_transcode'>;

/** The stream a track would take: a known stream, an input not known yet, or nothing. */
type Picked =
  | { found: 'stream'; input: number; stream: StreamFacts; loops: boolean }
  | { found: 'unknown'; input: number }
  | { found: 'none' };

function asList(facts: InputFacts | MediaFacts | undefined): MediaFacts {
  if (facts === undefined) return [];
  return 'streams' in facts ? [facts] : facts;
}

/**
 * The first stream of the kind, over the inputs in order. An input not known yet may hold it, so
 * it is taken as if it did (a listening input's publisher almost always sends both tracks).
 */
function pickStream(facts: MediaFacts, kind: 'video' | 'audio'): Picked {
  if (facts.length === 0) return { found: 'unknown', input: 0 };
  for (const [input, inputFacts] of facts.entries()) {
    if (!inputFacts) return { found: 'unknown', input };
    const stream = inputFacts.streams.find((s) => s.kind === kind && !s.attached_pic);
    if (stream) return { found: 'stream', input, stream, loops: inputFacts.loops === true };
  }
  return { found: 'none' };
}

/**
 * Decides one start: per track copy, transcode or off, from the input's facts (a probe, FFmpeg's
 * banner, or nothing) and the process's settings.
 *
 * - Video is copied only when it is H.264 browsers decode over WebRTC (Baseline/Main/High, 8-bit
 *   4:2:0, progressive, no B-frames); anything else is transcoded to H.264. Without a probe, B-frames
 *   are unknown: Main/High are then transcoded, (Constrained) Baseline copied.
 * - Audio is copied only when it is Opus at 48 kHz (mono/stereo); anything else becomes Opus.
 * - A track the input does not have is `off` (no leg, so no `-map` that fails); an audio-only
 *   input plays with video `off`.
 * - With no facts (`undefined`: a listening input before its first run) the plan is conservative:
 *   transcode both, from the input's first video and audio streams.
 * - `force_transcode` transcodes both; `video`/`audio` other than `auto` are followed, and an
 *   explicit `copy` of something browsers cannot play carries a `warning`.
 */
export function planMedia(facts: InputFacts | MediaFacts | undefined, settings: PlanSettings): MediaPlan {
  const list = asList(facts);
  const known = list.filter((entry): entry is InputFacts => entry !== undefined);
  return {
    basis:
      known.length === 0 ? 'none' : known.some((entry) => entry.source === 'banner') ? 'banner' : 'probe',
    video: planTrack(
      'video',
      pickStream(list, 'video'),
      settings.force_transcode ? 'transcode' : settings.video,
    ),
    audio: planTrack(
      'audio',
      pickStream(list, 'audio'),
      settings.audio === 'off' ? 'off' : settings.force_transcode ? 'transcode' : settings.audio,
    ),
  };
}

/** What the settings make of a track, `force_transcode` folded in. */
type TrackMode = 'auto' | 'copy' | 'transcode' | 'off';

const target = { video: 'h264', audio: 'opus' } as const;

function planTrack(kind: 'video' | 'audio', picked: Picked, mode: TrackMode): TrackPlan {
  if (mode === 'off')
    return { action: 'off', from: fromOf(picked), to: 'none', reason: `${kind} is off in the settings` };
  if (picked.found === 'none') {
    return { action: 'off', from: 'none', to: 'none', reason: `the input has no ${kind} stream` };
  }
  const stream =
    picked.found === 'stream' ? `${picked.input}:${picked.stream.index}` : `${picked.input}:${kind[0]}:0`;
  const from = fromOf(picked);
  const transcode = (reason: string): TrackPlan => ({
    action: 'transcode',
    from,
    to: target[kind],
    stream,
    reason,
  });
  if (picked.found === 'unknown') {
    if (mode === 'copy')
      return { action: 'copy', from, to: from, stream, reason: 'copy as set; the input is not known yet' };
    return transcode(
      mode === 'transcode'
        ? `transcode as set, to ${target[kind]}`
        : `the input is not known yet (not probed): transcoded to ${target[kind]}, which plays whatever arrives`,
    );
  }
  const verdict =
    kind === 'video' ? loopingVerdict(picked, videoVerdict(picked.stream)) : audioVerdict(picked.stream);
  if (mode === 'transcode')
    return transcode(`transcode as set, ${describeStream(picked.stream)} to ${target[kind]}`);
  if (mode === 'copy') {
    const copy: TrackPlan = {
      action: 'copy',
      from,
      to: from,
      stream,
      reason: `copy as set, ${describeStream(picked.stream)}`,
    };
    if (verdict.plays === 'yes') return copy;
    if (verdict.plays === 'maybe') return { ...copy, reason: `${copy.reason}; ${verdict.why}` };
    const warning = `copying ${verdict.why}: browsers will likely not play it`;
    return { ...copy, reason: `${copy.reason}; ${warning}`, warning };
  }
  if (verdict.plays === 'yes') {
    return {
      action: 'copy',
      from,
      to: from,
      stream,
      reason:
        kind === 'video'
          ? `${describeStream(picked.stream)} without B-frames plays in browsers: copied, parameter sets in-band`
          : `${describeStream(picked.stream)} plays in browsers: copied`,
    };
  }
  return transcode(`${verdict.why}: transcoded to ${kind === 'video' ? 'H.264' : 'Opus 48 kHz'}`);
}

/**
 * Video from a looped input is not copied: FFmpeg 5.1 flushes the copy path's bitstream filters
 * (which put SPS/PPS in-band) at the first loop and refuses every packet after it.
 */
function loopingVerdict(picked: Extract<Picked, { found: 'stream' }>, verdict: Verdict): Verdict {
  if (!picked.loops || verdict.plays === 'no') return verdict;
  return {
    plays: 'no',
    why: `${describeStream(picked.stream)} from a looped input (-stream_loop), whose copy stops after the first pass`,
  };
}

function fromOf(picked: Picked): string {
  if (picked.found === 'none') return 'none';
  if (picked.found === 'unknown') return 'unknown';
  return picked.stream.codec || 'unknown';
}
