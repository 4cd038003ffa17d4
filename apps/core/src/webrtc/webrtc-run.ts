import type { MediaPlan, PlanSettings, WebRtcConfig } from '@dragon/ffmpeg-args';
import type { StartContext } from '@dragon/restream';
import type { RtpSource } from '@dragon/webrtc';
import { isWarning, judgeVideo, type RunPace, type VideoVerdict } from './video-health.js';
import type { ProcessWebRtc } from './webrtc-policy.js';
import type { WebRtcHealth } from './webrtc-status.js';

type SourceHealth = ReturnType<RtpSource['health']>['video'];

/** One start of a process as the WebRTC side sees it: its plan, and what its legs delivered. */
export interface Run {
  readonly context: StartContext;
  readonly webrtc: WebRtcConfig;
  readonly origin: ProcessWebRtc['origin'];
  /** What the plan was made with (the budget of an auto-enabled start included): its checks use the same. */
  readonly settings: PlanSettings;
  readonly plan: MediaPlan;
  readonly plannedAt: number;
  /** The input comes at its own pace: FFmpeg's speed should be about 1. */
  readonly realTime: boolean;
  /** The source's counters when the run started: the run's own are the difference. */
  readonly baseline: { video: SourceHealth; audioPackets: number };
  firstVideoAt: number | undefined;
  verdict: VideoVerdict;
  /** FFmpeg of this run has exited; the next start makes a new run. */
  ended: boolean;
}

/** How fast the run's FFmpeg goes, from its own progress reports. */
export function pace(run: Run): RunPace {
  return { speed: run.context.speed(), realTime: run.realTime };
}

/** The run's own video counters: the source's since the run started. */
export function runVideo(source: RtpSource, run: Run, now: number) {
  const current = source.health().video;
  const base = run.baseline.video;
  const packets = current.packets - base.packets;
  if (packets > 0 && run.firstVideoAt === undefined) run.firstVideoAt = now;
  const after = (at: number | null, since: number | null) => (at !== null && at !== since ? at : null);
  return {
    packets,
    keyframes: current.keyframes - base.keyframes,
    decodableKeyframes: current.decodableKeyframes - base.decodableKeyframes,
    reorderedAccessUnits: current.reorderedAccessUnits - base.reorderedAccessUnits,
    firstPacketAt: run.firstVideoAt,
    lastPacketAt: after(current.lastPacketAt, base.lastPacketAt),
    lastDecodableKeyframeAt: after(current.lastDecodableKeyframeAt, base.lastDecodableKeyframeAt),
  };
}

/** How the run's legs are doing now, for the process's state. */
export function runHealth(source: RtpSource, run: Run): WebRtcHealth {
  const now = Date.now();
  const video = runVideo(source, run, now);
  const verdict = run.ended
    ? run.verdict
    : judgeVideo(run.plan.video, video, now, run.webrtc.video, pace(run), run.verdict.condition);
  const status = run.ended
    ? 'stopped'
    : isWarning(verdict.condition)
      ? 'warning'
      : verdict.condition === 'waiting'
        ? 'waiting'
        : 'ok';
  return {
    status,
    video: verdict.condition,
    ...(verdict.message === undefined ? {} : { message: verdict.message }),
    video_packets: video.packets,
    audio_packets: (source.stats().audio?.packets ?? 0) - run.baseline.audioPackets,
    keyframes: video.keyframes,
    decodable_keyframes: video.decodableKeyframes,
    reordered_frames: video.reorderedAccessUnits,
    ...(video.lastDecodableKeyframeAt === null
      ? {}
      : { last_keyframe_seconds_ago: Math.round((now - video.lastDecodableKeyframeAt) / 100) / 10 }),
  };
}
