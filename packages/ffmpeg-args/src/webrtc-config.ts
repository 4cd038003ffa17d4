import { z } from 'zod';

/** RTP dynamic payload types (RFC 3551 §3): what FFmpeg stamps on its packets before the peer rewrites them. */
const dynamicPayloadType = z.number().int().min(96).max(127);

/**
 * The per-process `webrtc` block (JSON names as in datarhei Core's process config).
 * Audio is explicit because FFmpeg cannot make an RTP output optional: an optional map that
 * matches nothing makes it pick a stream on its own (seen with FFmpeg 5.1).
 */
export const webRtcConfigSchema = z.object({
  /** Send this process to WebRTC viewers. @default false */
  enabled: z.boolean().default(false),
  /** Payload type FFmpeg uses for video. @default 96 */
  video_pt: dynamicPayloadType.default(96),
  /** Payload type FFmpeg uses for audio; 111 is what browsers use for Opus. @default 111 */
  audio_pt: dynamicPayloadType.default(111),
  /** Re-encode to H.264 constrained baseline + Opus instead of copying the input's codecs. @default false */
  force_transcode: z.boolean().default(false),
  /** Send an audio track; set false for inputs without audio. @default true */
  audio: z.boolean().default(true),
  /** Bearer token viewers of this process may present over WHEP instead of the global one; empty for none. @default '' */
  token: z.string().max(256).default(''),
});

export type WebRtcConfig = z.infer<typeof webRtcConfigSchema>;
export type WebRtcConfigInput = z.input<typeof webRtcConfigSchema>;
