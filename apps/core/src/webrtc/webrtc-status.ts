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
});

export type WebRtcHealth = z.infer<typeof webRtcHealthSchema>;
export type WebRtcState = z.infer<typeof webRtcStateSchema>;
export type ViewerStatus = z.infer<typeof viewerStatusSchema>;

/** The viewer's part of a process's WebRTC state. */
export function viewerStatus(state: ViewerStatus['state'], webrtc: WebRtcState | undefined): ViewerStatus {
  if (!webrtc) return { state };
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
  };
}
