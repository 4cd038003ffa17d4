import { z } from 'zod';
import { audioVerdict, describeStream, type Verdict, videoVerdict } from './browser-support.js';
import { decoderPlanSchema, planDecoder } from './decoder-delay.js';
import type { InputFacts, MediaFacts, StreamFacts } from './input-facts.js';
import { inputPacingSchema, planPacing } from './input-pacing.js';
import { isProduced, planLadder, renditionPlanSchema } from './ladder.js';
import type { ProcessInput } from './listening-input.js';
import { audioTranscodeCores, videoTranscodeCores } from './transcode-cost.js';
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
  /** Estimated CPU cores the track takes: 0 for a copy or off, an estimate for a transcode. */
  cpu_cores: z.number().min(0),
});

/** The decision of one start: per track copy, transcode or off, from the facts known at that start. */
export const mediaPlanSchema = z.object({
  /** The facts behind the plan: `probe`, `banner` (FFmpeg's own stream lines), or `none` (conservative). */
  basis: z.enum(['probe', 'banner', 'none']),
  video: trackPlanSchema,
  audio: trackPlanSchema,
  /** Estimated CPU cores of both tracks' transcodes together (0 when both are copied or off). */
  cpu_cores: z.number().min(0),
  /** Per input, whether FFmpeg reads it at its own rate (`-re` added for this start) and why. */
  pacing: z.array(inputPacingSchema),
  /**
   * The decoder options a transcoded video's input gets for this start (slice threads, so frames
   * are not held; see `planDecoder`); absent when the video is not transcoded or they do not apply.
   */
  decoder: decoderPlanSchema.optional(),
  /**
   * The video's ladder: the top, the renditions below it, VP8, and the audio-only fallback, each
   * made or not and why. Empty when renditions and VP8 are off.
   */
  renditions: z.array(renditionPlanSchema),
  /** Why renditions asked for are not made (the CPU budget, the top's height…), one line each. */
  ladder_notes: z.array(z.string()),
  /** Estimated CPU cores of the renditions FFmpeg makes, with the decode they add beside a copied top. */
  ladder_cpu_cores: z.number().min(0),
});

export type TrackPlan = z.infer<typeof trackPlanSchema>;
export type MediaPlan = z.infer<typeof mediaPlanSchema>;
export type TrackAction = TrackPlan['action'];

/**
 * CPU a start's transcodes may take, set by whoever decides for the process (a server setting for
 * processes whose config says nothing): a transcode estimated above it is not made.
 */
export interface CpuBudget {
  /** Cores the transcodes of this start may take together. */
  cores: number;
  /** Where the figure comes from, for the plan's reason (`webrtc.auto_enable.transcode_cores`…). */
  why: string;
}

/** The settings the plan follows (parsed by `webRtcConfigSchema`), and the CPU it may take. */
export type PlanSettings = Pick<WebRtcConfig, 'video' | 'audio' | 'force_transcode'> &
  Partial<Pick<WebRtcConfig, 'max_height' | 'max_bitrate_kbit' | 'renditions' | 'vp8'>> & {
    /** Absent: transcodes cost what they cost (the estimate is still in the plan). */
    cpu_budget?: CpuBudget | undefined;
    /** What the renditions may take together; absent: what they cost (the estimates are in the plan). */
    rendition_budget?: CpuBudget | undefined;
    /**
     * Set when whoever runs the plan cannot take renditions: they are planned and shown, with this
     * reason, and no leg is built for them.
     */
    renditions_blocked?: string | undefined;
    /**
     * This machine's factor for the renditions' estimates: its measured cost of a reference rung
     * against `referenceRungCores` (a calibration run). Absent: the model's 1.5 margin.
     */
    rendition_cost_factor?: number | undefined;
  };

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
 * - Given the inputs, each one's pacing: inputs FFmpeg could read faster than real time (HLS,
 *   files, generators) are read at their own rate (see `planPacing`); none without them.
 */
export function planMedia(
  facts: InputFacts | MediaFacts | undefined,
  settings: PlanSettings,
  inputs: readonly ProcessInput[] = [],
): MediaPlan {
  const list = asList(facts);
  const known = list.filter((entry): entry is InputFacts => entry !== undefined);
  const maxHeight = settings.max_height ?? 720;
  const pickedVideo = pickStream(list, 'video');
  const pickedAudio = pickStream(list, 'audio');
  const budget = settings.cpu_budget;
  const video = withinBudget(
    withCost(planTrack('video', pickedVideo, settings.force_transcode ? 'transcode' : settings.video), () =>
      videoTranscodeCores(pickedVideo.found === 'stream' ? pickedVideo.stream : undefined, maxHeight),
    ),
    budget,
    0,
  );
  const audio = withinBudget(
    withCost(
      planTrack(
        'audio',
        pickedAudio,
        settings.audio === 'off' ? 'off' : settings.force_transcode ? 'transcode' : settings.audio,
      ),
      audioTranscodeCores,
    ),
    budget,
    video.cpu_cores,
  );
  const ladder = planLadder({
    top: video,
    audio,
    stream: pickedVideo.found === 'stream' ? pickedVideo.stream : undefined,
    renditions: settings.renditions,
    vp8: settings.vp8,
    maxHeight,
    maxBitrateKbit: settings.max_bitrate_kbit ?? 2500,
    budget: settings.rendition_budget,
    blocked: settings.renditions_blocked,
    costFactor: settings.rendition_cost_factor,
  });
  // The top's transcode or a rendition FFmpeg makes: either way FFmpeg decodes the video.
  const decodes = video.action === 'transcode' || ladder.renditions.some(isProduced);
  const decoder =
    decodes && pickedVideo.found === 'stream'
      ? planDecoder(pickedVideo.input, pickedVideo.stream, inputs)
      : undefined;
  return {
    basis:
      known.length === 0 ? 'none' : known.some((entry) => entry.source === 'banner') ? 'banner' : 'probe',
    video,
    audio,
    cpu_cores: Math.round((video.cpu_cores + audio.cpu_cores) * 100) / 100,
    pacing: planPacing(inputs, list),
    ...(decoder ? { decoder } : {}),
    renditions: ladder.renditions,
    ladder_notes: ladder.notes,
    ladder_cpu_cores: ladder.cpuCores,
  };
}

function withCost(track: Omit<TrackPlan, 'cpu_cores'>, transcodeCores: () => number): TrackPlan {
  return { ...track, cpu_cores: track.action === 'transcode' ? transcodeCores() : 0 };
}

/**
 * A transcode whose estimate does not fit what the budget leaves after `spent` is not made: the
 * track is off, and its reason says what it would have cost and why there was not that much.
 */
function withinBudget(track: TrackPlan, budget: CpuBudget | undefined, spent: number): TrackPlan {
  if (!budget || track.action !== 'transcode') return track;
  const left = Math.max(0, Math.round((budget.cores - spent) * 100) / 100);
  if (track.cpu_cores <= left) return track;
  const { stream: _stream, warning: _warning, ...rest } = track;
  return {
    ...rest,
    action: 'off',
    to: 'none',
    reason: `transcoding ${track.from} to ${track.to} (${track.reason}) would take about ${track.cpu_cores} cores; ${left} are left (${budget.why}): off`,
    cpu_cores: 0,
  };
}

/** What the settings make of a track, `force_transcode` folded in. */
type TrackMode = 'auto' | 'copy' | 'transcode' | 'off';

const target = { video: 'h264', audio: 'opus' } as const;

function planTrack(kind: 'video' | 'audio', picked: Picked, mode: TrackMode): Omit<TrackPlan, 'cpu_cores'> {
  if (mode === 'off')
    return { action: 'off', from: fromOf(picked), to: 'none', reason: `${kind} is off in the settings` };
  if (picked.found === 'none') {
    return { action: 'off', from: 'none', to: 'none', reason: `the input has no ${kind} stream` };
  }
  const stream =
    picked.found === 'stream' ? `${picked.input}:${picked.stream.index}` : `${picked.input}:${kind[0]}:0`;
  const from = fromOf(picked);
  const transcode = (reason: string): Omit<TrackPlan, 'cpu_cores'> => ({
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
    const copy: Omit<TrackPlan, 'cpu_cores'> = {
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
