import { type DataPlanePriority, FanoutPlane } from '@dragon/webrtc';
import type { Logger } from 'pino';
import { z } from 'zod';

/**
 * Which WebRTC data plane forwards the media, and why: `native` (the addon: built on this machine,
 * or the prebuild for this platform) or `js` (the JavaScript fallback), e.g. "the prebuild for
 * linux-x64-glibc" or "not built on this machine: no C++ compiler …; and no prebuild for …". What
 * `GET /api` and the boot log say.
 */
export const dataPlaneSchema = z.object({ engine: z.enum(['native', 'js']), reason: z.string() });
export type DataPlaneStatus = z.infer<typeof dataPlaneSchema>;

/** The process's data plane (the one every source opens on), started if it was not yet. */
export function dataPlaneStatus(): DataPlaneStatus {
  const plane = FanoutPlane.shared();
  return { engine: plane.engine, reason: plane.engineReason };
}

/**
 * One line at start naming the engine and why; a warning for the JavaScript one, the fallback
 * (several times dearer per packet, and on the API's thread).
 */
export function logDataPlane(logger: Logger, plane: FanoutPlane): void {
  const fields = { engine: plane.engine, reason: plane.engineReason, shards: plane.shards };
  if (plane.engine === 'native') {
    logger.info(fields, `WebRTC data plane: native (${plane.engineReason})`);
  } else {
    logger.warn(fields, `WebRTC data plane: JavaScript (${plane.engineReason})`);
  }
}

/** What an operator can do so that the data plane may be raised (docs/performance.md). */
const howToAllow =
  'to allow it: systemd LimitNICE=-10 (or AmbientCapabilities=CAP_SYS_NICE), docker --ulimit nice=30:30 ' +
  '(--cap-add SYS_NICE only helps a container that runs as root), or setcap cap_sys_nice+ep on the node binary';

export interface PriorityLine {
  level: 'info' | 'warn';
  message: string;
}

/**
 * The boot log line on the media data plane's priority: what its threads got, why, and, where it
 * could not be raised, what the operator can do. `serverNice` is the nice value of everything else
 * (FFmpeg and the API); `controlIdle`/`controlNice` the opt-in lowering of it.
 */
export function dataPlanePriorityLine(
  priority: DataPlanePriority,
  server: { nice: number; controlNice: number; controlIdle: boolean },
): PriorityLine {
  const rest = server.controlIdle
    ? 'FFmpeg and the API run under SCHED_IDLE (webrtc.control_plane_idle): on a machine with other work they yield to every program, the stream with them'
    : server.controlNice > 0
      ? `FFmpeg and the API run at nice ${Math.max(server.nice, server.controlNice)} (webrtc.control_plane_nice): on a machine with other work they yield to every program at 0, the stream with them`
      : `FFmpeg and the API run at the server's nice value, ${server.nice}`;
  const level = server.controlIdle || server.controlNice > 0 ? 'warn' : 'info';
  const { nice, requested, permission } = priority;
  const allowedBy = permission?.capSysNice ? 'CAP_SYS_NICE' : `RLIMIT_NICE ${permission?.rlimitNice ?? '?'}`;
  switch (priority.outcome) {
    case 'raised':
      return {
        level,
        message: `media data plane at nice ${nice} (${allowedBy}), ahead of the rest; ${rest}`,
      };
    case 'limited':
      return {
        level,
        message: `media data plane at nice ${nice}, not ${requested}: RLIMIT_NICE ${permission?.rlimitNice} allows no lower (LimitNICE=${requested}, docker --ulimit nice=${20 - requested}); ${rest}`,
      };
    case 'not-permitted':
      return {
        level,
        message: `media data plane at nice ${nice}, not ${requested}: this process may not raise a thread (no CAP_SYS_NICE, RLIMIT_NICE ${permission?.rlimitNice ?? 0}); ${howToAllow}; ${rest}`,
      };
    case 'already':
      return {
        level,
        message: `media data plane at nice ${nice}, the server's own (at or below ${requested}); ${rest}`,
      };
    case 'off':
      return {
        level,
        message: `media data plane at nice ${nice}, not raised (webrtc.data_plane_nice 0); ${rest}`,
      };
    case 'no-workers':
      return {
        level,
        message: `media data plane in the server's main thread (JavaScript engine, or no worker shards): not raised; ${rest}`,
      };
    case 'unknown':
      return {
        level,
        message: `media data plane priority unknown: its threads' ids could not be read; ${rest}`,
      };
  }
}
