import type { MediaPlan, PlanSettings, TrackPlan } from '@dragon/ffmpeg-args';
import type { StartContext } from '@dragon/restream';
import type { Logger } from 'pino';
import type { Calibration } from './encode-calibration.js';
import type { ProcessWebRtc } from './webrtc-policy.js';

/** Where the process's own player page is, on this server. */
export function playerPath(processId: string): string {
  return `/player/${encodeURIComponent(processId)}`;
}

/** What one start decided, as the planner, the budget and the calibration gave it. */
export interface PlanReport {
  readonly id: string;
  readonly origin: ProcessWebRtc['origin'];
  readonly plan: MediaPlan;
  readonly settings: PlanSettings;
  /** The planner's own notes (the basis it chose, what it could not learn). */
  readonly notes: readonly string[];
  readonly calibration: Calibration | undefined;
}

/** The start's plan in the process's own log, where a user of the API reads why it plays as it does. */
export function notePlan(context: StartContext, { id, origin, plan, notes, calibration }: PlanReport): void {
  if (origin === 'auto') {
    context.note('webrtc: on by webrtc.auto_enable (the process config has no webrtc block)');
  }
  for (const note of notes) context.note(`webrtc: ${note}`);
  context.note(
    `webrtc plan (${plan.basis}): ${describeTrack('video', plan.video)}; ${describeTrack('audio', plan.audio)}; about ${plan.cpu_cores} cores`,
  );
  if (plan.renditions.length > 0) {
    context.note(
      `webrtc renditions: ${plan.renditions.map((r) => `${r.id} ${r.action}`).join(', ')}; about ${plan.ladder_cpu_cores} cores`,
    );
  }
  for (const note of plan.ladder_notes) context.note(`webrtc: ${note}`);
  if (calibration) context.note(`webrtc: ${calibration.note}`);
  context.note(
    `webrtc: sub-second player at ${playerPath(id)}, WHEP at /api/v3/process/${encodeURIComponent(id)}/whep`,
  );
  for (const { input, paced, reason } of plan.pacing) {
    if (paced) context.note(`webrtc: input ${input} ${reason}`);
  }
}

/** The start's plan in the server's log, one structured event, and each track's warning. */
export function logPlan(logger: Logger, { id, origin, plan, settings, notes }: PlanReport): void {
  logger.info(
    {
      processId: id,
      enabledBy: origin,
      basis: plan.basis,
      video: plan.video,
      audio: plan.audio,
      cpuCores: plan.cpu_cores,
      ...(settings.cpu_budget ? { cpuBudget: settings.cpu_budget } : {}),
      ...(plan.renditions.length > 0
        ? {
            renditions: plan.renditions.map(({ id, action }) => `${id} ${action}`),
            ladderCpuCores: plan.ladder_cpu_cores,
            ladderNotes: plan.ladder_notes,
          }
        : {}),
      notes,
    },
    'webrtc media plan',
  );
  for (const track of [plan.video, plan.audio]) {
    if (track.warning) logger.warn({ processId: id }, track.warning);
  }
}

/** `video copy h264: H.264 High … copied` — a track's decision as one line of the log. */
function describeTrack(kind: 'video' | 'audio', track: TrackPlan): string {
  if (track.action === 'off') return `${kind} off (${track.reason})`;
  const change = track.action === 'copy' ? track.from : `${track.from} → ${track.to}`;
  return `${kind} ${track.action} ${change}${track.stream ? ` from ${track.stream}` : ''} (${track.reason})`;
}
