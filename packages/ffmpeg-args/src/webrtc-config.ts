import { z } from 'zod';

/** RTP dynamic payload types (RFC 3551 §3): what FFmpeg stamps on its packets before the peer rewrites them. */
const dynamicPayloadType = z.number().int().min(96).max(127);

/** What to do with the video track: `auto` lets the media plan decide from the input's facts. */
export const videoModeSchema = z.enum(['auto', 'copy', 'transcode']);

/** What to do with the audio track: `auto` lets the media plan decide; `off` sends no audio. */
export const audioModeSchema = z.enum(['auto', 'copy', 'transcode', 'off']);

/** One rung of an explicit ladder: a smaller H.264 encode of the video, sent beside the top. */
export const renditionSchema = z.object({
  /** Height in pixels, below the top's (rungs never scale up); width follows the display aspect. */
  height: z.number().int().min(144).max(2160),
  /** Target and cap, kbit/s (`-b:v`, `-maxrate`, a one-second `-bufsize`). */
  bitrate_kbit: z.number().int().min(100).max(20_000),
});

/**
 * Renditions beside the top video: `auto` picks a ladder from the input's height and the CPU the
 * machine can spare (docs/media-plan.md), `off` sends the top only, or an explicit ladder (up to 4).
 */
export const renditionsSettingSchema = z.union([
  z.enum(['auto', 'off']),
  z.array(renditionSchema).min(1).max(4),
]);

/**
 * VP8 for viewers whose browser cannot decode H.264 (Firefox without OpenH264): `always` encodes a
 * VP8 rendition with the ladder, `on-demand` only while such a viewer watches, `off` never.
 */
export const vp8ModeSchema = z.enum(['on-demand', 'always', 'off']);

/**
 * `audio` used to be a boolean; stored process configs still say `true`/`false`. `false` meant "send
 * no audio" (`off`); `true` meant "send the input's audio", which is what `auto` does now.
 */
const audioSetting = z.union([
  audioModeSchema,
  // Piped into the enum, so the schema's output side (OpenAPI responses) says what comes out.
  z
    .boolean()
    .transform((on): z.infer<typeof audioModeSchema> => (on ? 'auto' : 'off'))
    .pipe(audioModeSchema),
]);

/**
 * The per-process `webrtc` block (JSON names as in datarhei Core's process config).
 *
 * `video` and `audio` say how each track reaches the browser; the media plan (`planMedia`) turns
 * `auto` into copy or transcode from what the input really is. The `max_*` and `gop_seconds` fields
 * bound what a transcode produces; a copied track is sent as the input has it.
 */
export const webRtcConfigSchema = z.object({
  /** Send this process to WebRTC viewers. @default false */
  enabled: z.boolean().default(false),
  /** Payload type FFmpeg uses for video. @default 96 */
  video_pt: dynamicPayloadType.default(96),
  /** Payload type FFmpeg uses for audio; 111 is what browsers use for Opus. @default 111 */
  audio_pt: dynamicPayloadType.default(111),
  /**
   * Re-encode both tracks (H.264 constrained baseline + Opus) whatever the input is; wins over
   * `video`/`audio` except `audio: 'off'`. @default false
   */
  force_transcode: z.boolean().default(false),
  /**
   * `auto`: copy H.264 that browsers decode over WebRTC (no B-frames, 4:2:0 8-bit), transcode
   * anything else to H.264. `copy`/`transcode` force it. @default 'auto'
   */
  video: videoModeSchema.default('auto'),
  /**
   * `auto`: copy Opus at 48 kHz, transcode anything else to Opus, none when the input has no audio.
   * `copy`/`transcode` force it; `off` sends no audio. The former booleans are accepted: `false` is
   * `off`, `true` is `auto`. @default 'auto' @example 'off'
   */
  audio: audioSetting.default('auto'),
  /**
   * Height cap of transcoded video, in pixels: larger inputs are scaled down (aspect kept, even
   * dimensions), smaller ones are not scaled up. 0 keeps the input's height. @default 720
   */
  max_height: z.union([z.literal(0), z.number().int().min(144).max(4320)]).default(720),
  /** Bitrate cap of transcoded video (`-maxrate`, with a one-second `-bufsize`), in kbit/s. @default 2500 */
  max_bitrate_kbit: z.number().int().min(100).max(50_000).default(2500),
  /**
   * Keyframe interval of transcoded video, in seconds: how long a new viewer waits for a picture
   * at worst. @default 1
   */
  gop_seconds: z.number().min(0.2).max(10).default(1),
  /**
   * Renditions beside the top video for viewers on slower links: `auto`, `off`, or a list of
   * `{ height, bitrate_kbit }`. Absent: the server's `webrtc.renditions`.
   * @example 'auto'
   * @example [{ "height": 360, "bitrate_kbit": 400 }]
   */
  renditions: renditionsSettingSchema.optional(),
  /** VP8 for viewers without H.264. Absent: the server's `webrtc.vp8`. @example 'always' */
  vp8: vp8ModeSchema.optional(),
  /** Bearer token viewers of this process may present over WHEP instead of the global one; empty for none. @default '' */
  token: z.string().max(256).default(''),
});

export type WebRtcConfig = z.infer<typeof webRtcConfigSchema>;
export type WebRtcConfigInput = z.input<typeof webRtcConfigSchema>;
export type VideoMode = z.infer<typeof videoModeSchema>;
export type AudioMode = z.infer<typeof audioModeSchema>;
export type RenditionConfig = z.infer<typeof renditionSchema>;
export type RenditionsSetting = z.infer<typeof renditionsSettingSchema>;
export type Vp8Mode = z.infer<typeof vp8ModeSchema>;
