import { FanoutPlane } from '@dragon/webrtc';
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
