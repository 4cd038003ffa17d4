import type { TrackPlan } from '@dragon/ffmpeg-args';
import type { z } from 'zod';
import type { videoConditionSchema } from './webrtc-status.js';

/**
 * What a run's video leg delivers, judged from the source's counters and FFmpeg's speed:
 * - `off`: the plan has no video leg; `waiting`: no video yet, or no keyframe yet (within the window);
 * - `ok`: decodable keyframes arrive;
 * - `stalled`: video flowed, then stopped;
 * - `no-keyframe`: packets flow but no keyframe a browser can start from within the window;
 * - `no-parameter-sets`: keyframes arrive, but never with SPS/PPS before them;
 * - `b-frames`: timestamps go back on a copied leg (frames out of presentation order);
 * - `slow`: FFmpeg runs behind its real-time input: the machine is short of CPU. It takes the place
 *   of `stalled`, `no-keyframe` and `waiting`, which starvation looks like and which blame the input.
 */
export type VideoCondition = z.infer<typeof videoConditionSchema>;

export interface VideoVerdict {
  condition: VideoCondition;
  /** What a user should know, naming the likely cause; absent when all is well. */
  message?: string;
}

/** The video counters of one run (since its start), and when its first and latest packets came. */
export interface RunVideo {
  packets: number;
  keyframes: number;
  decodableKeyframes: number;
  reorderedAccessUnits: number;
  firstPacketAt: number | undefined;
  lastPacketAt: number | null;
  lastDecodableKeyframeAt: number | null;
}

/**
 * How long packets may flow without a keyframe a browser can start from. A viewer who joins waits
 * that long for a picture; a transcoded leg sends one every `gop_seconds` (1 s by default), and a
 * camera copied as is usually every 1–4 s.
 */
export const keyframeWindowMs = 6000;
/** How long video may stop before a run that had video counts as stalled. */
export const stallMs = 5000;

/** How fast a run's FFmpeg runs (`StartContext.speed()`), and whether its input comes in real time. */
export interface RunPace {
  /** Seconds of output per second of wall-clock time, lately; undefined before FFmpeg has said. */
  speed: number | undefined;
  /** The input comes at its own pace (a camera, a live stream, `-re`): FFmpeg should keep up. */
  realTime: boolean;
}

/** Below this FFmpeg falls behind a real-time input (FFmpeg's own speed reads 1.0 when it keeps up). */
export const slowSpeed = 0.9;
/** A run judged slow stays so until it is back above this: no flapping around `slowSpeed`. */
export const recoveredSpeed = 0.95;

const liveSchemes = /^(rtsps?|rtmp[ste]*|srt|udp|rtp|tcp):/i;
/** Capture devices, which deliver in real time (`-f` before the input). */
const deviceFormats = new Set([
  'v4l2',
  'video4linux2',
  'alsa',
  'pulse',
  'x11grab',
  'kmsgrab',
  'fbdev',
  'decklink',
  'avfoundation',
  'dshow',
  'gdigrab',
]);

/**
 * Whether FFmpeg reads the inputs at their own pace: `-re`/`-readrate` on one of them, a live
 * network protocol, or a capture device. A file or a generated pattern without `-re` is read as fast
 * as FFmpeg can, and its speed says nothing about keeping up.
 */
export function readsInRealTime(inputs: readonly { address: string; options: readonly string[] }[]): boolean {
  return inputs.some(({ address, options }) => {
    const format = options[options.lastIndexOf('-f') + 1];
    return (
      options.includes('-re') ||
      options.includes('-readrate') ||
      liveSchemes.test(address) ||
      (options.includes('-f') && format !== undefined && deviceFormats.has(format))
    );
  });
}

/** The warnings among the conditions: what goes into the log and the state as a problem. */
export function isWarning(condition: VideoCondition): boolean {
  return condition !== 'off' && condition !== 'waiting' && condition !== 'ok';
}

/**
 * Judges one run's video leg at `now` (ms); `copyMode` is the process's `video` setting, `pace`
 * FFmpeg's speed and `previous` the last verdict's condition (for `slow`'s hysteresis).
 */
export function judgeVideo(
  track: TrackPlan,
  video: RunVideo,
  now: number,
  copyMode: 'auto' | 'copy' | 'transcode',
  pace: RunPace = { speed: undefined, realTime: false },
  previous?: VideoCondition,
): VideoVerdict {
  if (track.action === 'off') return { condition: 'off' };
  const copy = track.action === 'copy';
  const { speed } = pace;
  const slow: VideoVerdict | undefined =
    pace.realTime && speed !== undefined && speed < (previous === 'slow' ? recoveredSpeed : slowSpeed)
      ? {
          condition: 'slow',
          message: `FFmpeg runs at ${Number(speed.toFixed(2))}× real time: the machine is short of CPU, so viewers get fewer frames than the input has (other programs keep it busy, or the transcode is too heavy for it: a lower resolution or frame rate needs less)`,
        }
      : undefined;
  if (video.packets === 0 || video.firstPacketAt === undefined) {
    return slow ?? { condition: 'waiting', message: 'waiting for video from FFmpeg' };
  }
  // Starved, FFmpeg looks like an input that stalls or sends no keyframes: say what it is.
  if (slow) return slow;
  const seconds = (ms: number) => Math.round(ms / 1000);
  if (video.lastPacketAt !== null && now - video.lastPacketAt > stallMs) {
    return {
      condition: 'stalled',
      message: `no video packets for ${seconds(now - video.lastPacketAt)} s: the input stopped delivering video`,
    };
  }
  if (copy && video.reorderedAccessUnits > 0) {
    return {
      condition: 'b-frames',
      message:
        copyMode === 'auto'
          ? 'the copied H.264 has B-frames (its timestamps go back), which browsers freeze or jump on: the video is transcoded from the next start'
          : 'the copied H.264 has B-frames (its timestamps go back), which browsers freeze or jump on: set video to transcode',
    };
  }
  const since = video.lastDecodableKeyframeAt ?? video.firstPacketAt;
  if (now - since <= keyframeWindowMs) {
    return video.decodableKeyframes > 0
      ? { condition: 'ok' }
      : { condition: 'waiting', message: 'waiting for the first keyframe' };
  }
  const window = seconds(now - since);
  if (video.decodableKeyframes === 0 && video.keyframes > 0) {
    return {
      condition: 'no-parameter-sets',
      message: copy
        ? `keyframes arrive without SPS/PPS before them, so browsers cannot start decoding: the input sends its parameter sets out of band; set video to transcode`
        : `keyframes arrive without SPS/PPS before them, so browsers cannot start decoding: check the process's video options`,
    };
  }
  return {
    condition: 'no-keyframe',
    message: copy
      ? `video packets flow but no keyframe with SPS/PPS came in ${window} s: the input's keyframe interval is that long (a copy sends the input's own keyframes), so viewers wait as long for a picture; shorten the source's keyframe interval (GOP) or set video to transcode`
      : `video packets flow but no keyframe came in ${window} s: the encoder makes none (check the process's video options)`,
  };
}
