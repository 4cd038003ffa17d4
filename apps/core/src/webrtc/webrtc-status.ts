import { mediaPlanSchema } from '@dragon/ffmpeg-args';
import { z } from 'zod';

/** What a run's video leg delivers: see `judgeVideo` (video-health.ts). */
export const videoConditionSchema = z.enum([
  'off',
  'waiting',
  'ok',
  'stalled',
  'no-keyframe',
  'no-parameter-sets',
  'b-frames',
  'slow',
]);

/**
 * How the latest run's legs are doing. `status`: `ok`; `waiting` (no video, or no keyframe, yet);
 * `warning` (see `video` and `message`); `stopped` (no run right now: between reconnects).
 */
export const webRtcHealthSchema = z.object({
  status: z.enum(['ok', 'waiting', 'warning', 'stopped']),
  video: videoConditionSchema,
  /** The likely cause, in words, when `status` is not `ok`. */
  message: z.string().optional(),
  /** Counters of the latest run. */
  video_packets: z.number().int(),
  audio_packets: z.number().int(),
  keyframes: z.number().int(),
  /** Keyframes with SPS/PPS before them in their access unit: what a joining browser starts from. */
  decodable_keyframes: z.number().int(),
  /** Access units whose timestamp went back (B-frames). */
  reordered_frames: z.number().int(),
  /** Seconds since the last decodable keyframe; absent before the first. */
  last_keyframe_seconds_ago: z.number().optional(),
});

/** What one video rendition of the running source received (the plan says what it should be). */
export const renditionFiguresSchema = z.object({
  /** The plan's id (`720p`, `360p`, `vp8-360p`). */
  id: z.string(),
  /** This run sends it (VP8 made on demand: may send it, once a viewer without H.264 watches; see `vp8_on_demand`). */
  active: z.boolean(),
  packets: z.number().int(),
  /** Measured over the last second. */
  bitrate_kbit: z.number().int(),
  keyframes: z.number().int(),
  /** Seconds since its newest keyframe; absent before the first. */
  last_keyframe_seconds_ago: z.number().optional(),
});

/** Dragon's field in a process's state (`GET /api/v3/process/{id}/state`): the latest start's plan and health. */
export const webRtcStateSchema = z.object({
  /** `config`: the process's `webrtc` block turns it on; `auto_enable`: the server's `webrtc.auto_enable` does. */
  enabled_by: z.enum(['config', 'auto_enable']),
  /** The process's player page on this server (`/player/<id>`): sub-second playback in any browser. */
  player: z.string(),
  /** The media plan of the latest start: per track copy, transcode or off, from which codec, why, at what CPU cost. */
  plan: mediaPlanSchema,
  /** When the plan was made (Unix seconds). */
  planned_at: z.number().int(),
  health: webRtcHealthSchema,
  /**
   * With a ladder (more than one video rendition): what each rendition of the source received, the
   * top first. The ladder as planned, with costs and notes, is in `plan.renditions` and
   * `plan.ladder_notes`; viewers per rendition are in the metrics.
   */
  renditions: z.array(renditionFiguresSchema).optional(),
  /**
   * The VP8 rendition made on demand (`vp8: 'on-demand'`), for viewers without H.264: whether its
   * FFmpeg runs, for how many viewers, and its estimated cores while it does.
   */
  vp8_on_demand: z
    .object({
      running: z.boolean(),
      viewers: z.number().int(),
      estimated_cpu: z.number(),
      running_seconds: z.number().int().optional(),
    })
    .optional(),
});

/** One adaptive viewer's standing, for its player (`viewer` in {@link viewerStatusSchema}). */
export const viewerAdaptationSchema = z.object({
  rendition: z.string(),
  /** The rendition's height, when the plan knows it; absent for `audio`. */
  height: z.number().int().optional(),
  estimate_kbit: z.number().int(),
  loss_percent: z.number(),
  switches: z.number().int(),
});

/** The `?session=` of `GET /player/{id}/status`: a WHEP session id (random, URL-safe). */
export const viewerSessionQuerySchema = z.object({
  session: z
    .string()
    .regex(/^[\w-]{1,128}$/)
    .optional(),
});

/**
 * What an anonymous viewer may learn about a process it is allowed to watch
 * (`GET /player/{id}/status`): where it stands, which codecs it gets and whether its video is
 * decodable. No addresses, no log lines, no reasons that quote the input.
 */
export const viewerStatusSchema = z.object({
  state: z.enum(['running', 'starting', 'failing', 'stopped']),
  plan: z
    .object({
      video: z.object({ action: z.enum(['copy', 'transcode', 'off']), from: z.string(), to: z.string() }),
      audio: z.object({ action: z.enum(['copy', 'transcode', 'off']), from: z.string(), to: z.string() }),
    })
    .optional(),
  health: webRtcHealthSchema.pick({ status: true, video: true, message: true }).optional(),
  /** The renditions made in this start (the top first, `audio` for the audio-only fallback); absent without a ladder. */
  renditions: z.array(z.object({ id: z.string(), height: z.number().int().optional() })).optional(),
  /**
   * The asking viewer's own session (`?session=`, the last segment of its WHEP `Location`), when it
   * is adaptive: the rendition it is sent now (`audio`: its video is paused because the link
   * carries too little), what its link is estimated to carry, its loss before retransmission and
   * its switches so far. The estimate is the reason of a switch: a viewer moves down when its link
   * carries less than the rendition needs, and up when a probe shows it carries more.
   */
  viewer: viewerAdaptationSchema.optional(),
});

export type WebRtcHealth = z.infer<typeof webRtcHealthSchema>;
export type RenditionFigures = z.infer<typeof renditionFiguresSchema>;

/** What the source's renditions received, named as the plan names them (the data plane's `top` is the plan's top). */
export function renditionFigures(
  received: readonly {
    id: string;
    active: boolean;
    packets: number;
    bitrateBps: number;
    keyframes: number;
    keyframeAgeMs: number | null;
  }[],
  plan: WebRtcState['plan'],
): RenditionFigures[] {
  const topId = plan.renditions.find((rendition) => rendition.kind === 'top')?.id ?? 'top';
  return received.map((rendition) => ({
    id: rendition.id === 'top' ? topId : rendition.id,
    active: rendition.active,
    packets: rendition.packets,
    bitrate_kbit: Math.round(rendition.bitrateBps / 1000),
    keyframes: rendition.keyframes,
    ...(rendition.keyframeAgeMs === null
      ? {}
      : { last_keyframe_seconds_ago: Math.round(rendition.keyframeAgeMs / 100) / 10 }),
  }));
}
export type WebRtcState = z.infer<typeof webRtcStateSchema>;
export type ViewerStatus = z.infer<typeof viewerStatusSchema>;
export type ViewerAdaptation = z.infer<typeof viewerAdaptationSchema>;

/** What the WHEP side knows of one adaptive viewer (`WhepSessionInfo`'s adaptive fields). */
export interface AdaptiveSessionFigures {
  rendition?: string | undefined;
  estimateBps?: number | undefined;
  loss?: number | undefined;
  switches?: number | undefined;
}

/**
 * The viewer's part of a process's WebRTC state; with `session` (the asking viewer's own WHEP
 * session, when it is adaptive) where that viewer stands.
 */
export function viewerStatus(
  state: ViewerStatus['state'],
  webrtc: WebRtcState | undefined,
  session?: AdaptiveSessionFigures,
): ViewerStatus {
  if (!webrtc) return { state };
  const viewer = session ? viewerAdaptation(session, webrtc) : undefined;
  const track = ({ action, from, to }: WebRtcState['plan']['video']) => ({ action, from, to });
  const { status, video, message } = webrtc.health;
  const made = webrtc.plan.renditions.filter((rendition) => rendition.action !== 'off');
  return {
    state,
    plan: { video: track(webrtc.plan.video), audio: track(webrtc.plan.audio) },
    health: { status, video, ...(message === undefined ? {} : { message }) },
    ...(webrtc.plan.renditions.length > 0
      ? { renditions: made.map(({ id, height }) => ({ id, ...(height === undefined ? {} : { height }) })) }
      : {}),
    ...(viewer ? { viewer } : {}),
  };
}

/** An adaptive session's figures as its player reads them; undefined for a viewer of one rendition. */
function viewerAdaptation(
  session: AdaptiveSessionFigures,
  webrtc: WebRtcState,
): ViewerAdaptation | undefined {
  const { rendition, estimateBps, loss, switches } = session;
  if (rendition === undefined) return undefined;
  // The data plane calls the top `top`; the plan names it by its height.
  const planned = webrtc.plan.renditions.find((candidate) =>
    rendition === 'top' ? candidate.kind === 'top' : candidate.id === rendition,
  );
  const height = rendition === 'audio' ? undefined : planned?.height;
  return {
    rendition: planned?.id ?? rendition,
    ...(height === undefined ? {} : { height }),
    estimate_kbit: Math.round((estimateBps ?? 0) / 1000),
    loss_percent: Math.round((loss ?? 0) * 1000) / 10,
    switches: switches ?? 0,
  };
}
