import { HttpError } from '@dragon/http-error';
import { type Answer, errorAnswer } from '@dragon/http-routes';
import { processConfigSchema, processReportJsonSchema, processStateJsonSchema } from '@dragon/restream';
import { z } from 'zod';
import { webRtcStateSchema } from '../webrtc/webrtc-status.js';

/** Metadata values are any JSON; a process or the server without any answers `null`. */
export const metadataSchema = z.json();

/** A process's state: datarhei's, and with WebRTC on, Dragon's `webrtc` (the plan and its legs' health). */
export const processStateSchema = processStateJsonSchema.extend({ webrtc: webRtcStateSchema.optional() });

/** datarhei's `api.Process`; `filter` picks which of config, state, report and metadata come along. */
export const processSchema = z.object({
  id: z.string(),
  type: z.literal('ffmpeg'),
  reference: z.string(),
  created_at: z.number(),
  updated_at: z.number(),
  config: processConfigSchema.optional(),
  state: processStateSchema.optional(),
  report: processReportJsonSchema.optional(),
  metadata: metadataSchema.optional(),
});

export const unknownProcessAnswer: Record<number, Answer> = { 404: errorAnswer('Unknown process') };

/** The bodies datarhei Core answers for an id it does not know. */
export const unknownProcess = () => new HttpError(404, 'Unknown process ID', ['unknown process']);

/** A JSON object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Metadata as datarhei sends it: `null` when none is stored. */
export function orNull(metadata: unknown): unknown {
  return isObject(metadata) && Object.keys(metadata).length === 0 ? null : metadata;
}
