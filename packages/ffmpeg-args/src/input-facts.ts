import { z } from 'zod';
import { isListeningInput, isLoopingInput, type ProcessInput } from './listening-input.js';

/**
 * What the media plan needs to know about one stream of an input. Absent fields are unknown (a
 * banner says less than a probe); the planner is conservative about what it does not know.
 */
export const streamFactsSchema = z.object({
  /** The stream's index within its input (`Stream #0:1` → 1). */
  index: z.number().int().min(0),
  kind: z.enum(['video', 'audio', 'other']),
  /** FFmpeg's codec name: `h264`, `hevc`, `aac`, `opus`…; `''` when unknown. */
  codec: z.string(),
  /** FFmpeg's profile name: `High`, `Constrained Baseline`, `High 10`, `LC`… */
  profile: z.string().optional(),
  width: z.number().int().min(0).optional(),
  height: z.number().int().min(0).optional(),
  fps: z.number().min(0).optional(),
  /** `yuv420p`, `yuvj420p`, `yuv420p10le`, `yuv422p`… */
  pix_fmt: z.string().optional(),
  /** `progressive`, or `tt`/`bb`/`tb`/`bt` for interlaced video. */
  field_order: z.string().optional(),
  /** The decoder's reorder depth as ffprobe reports it (from the SPS's VUI, or what it saw). */
  has_b_frames: z.number().int().min(0).optional(),
  /**
   * Whether frames arrive out of presentation order (B-frames): true when `has_b_frames` > 0 or the
   * probed packets' timestamps went back; false when a probe saw neither; absent when unknown.
   */
  reorders: z.boolean().optional(),
  /** A cover picture (MP3/M4A artwork), not a video track. */
  attached_pic: z.boolean().optional(),
  sample_rate: z.number().int().min(0).optional(),
  channels: z.number().int().min(0).optional(),
});

/** What is known about one input of a process, from a probe or from FFmpeg's own banner. */
export const inputFactsSchema = z.object({
  /** Where the facts come from: `probe` (ffprobe, knows B-frames) or `banner` (FFmpeg's stream lines). */
  source: z.enum(['probe', 'banner']),
  /** FFmpeg's demuxer name(s), e.g. `mpegts`, `mov,mp4,m4a,3gp,3g2,mj2`; `''` when unknown. */
  format: z.string(),
  /** FFmpeg is the server for this input (it waits for a publisher): it must not be probed. */
  listening: z.boolean(),
  /**
   * FFmpeg reads the input in a loop (`-stream_loop`): the copy path's bitstream filters stop at
   * the first pass's end in FFmpeg 5.1, so its video is not copied. Absent: no loop.
   */
  loops: z.boolean().optional(),
  /** The input's length in seconds, when it has an end (a file, an HLS playlist that ends); absent for a live input or when not known. */
  duration: z.number().min(0).optional(),
  streams: z.array(streamFactsSchema),
});

export type StreamFacts = z.infer<typeof streamFactsSchema>;
export type InputFacts = z.infer<typeof inputFactsSchema>;

/**
 * Facts about a process's inputs, in the process's input order; `undefined` where an input is not
 * known (a listening input before its first run).
 */
export type MediaFacts = readonly (InputFacts | undefined)[];

/**
 * One `Stream #i:s` line of FFmpeg's banner, as a banner parser reports it. Zero and `''` mean
 * "not printed". Structural, so any parser with these fields fits.
 */
export interface BannerStream {
  /** Input index (`Stream #1:0` → 1). */
  index: number;
  /** Stream index within the input (`Stream #1:0` → 0). */
  stream: number;
  /** `video`, `audio`, `data`, `subtitle`… */
  type: string;
  /** The codec word (`h264`), or the codec text with its profile (`h264 (High)`). */
  codec: string;
  /** The profile, when the parser reads it apart (`High`). */
  profile?: string;
  /** The input's demuxer name from its `Input #i, <format>, from …` line. */
  format?: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
  fps?: number;
  sampling_hz?: number;
  channels?: number;
  /** The line ends in `(attached pic)`: cover art, not a video track. */
  attached_pic?: boolean;
}

/**
 * Facts from FFmpeg's banner of a run: one entry per input index up to the highest seen. The banner
 * does not say whether a stream has B-frames, so `reorders` stays unknown and the planner decides
 * by profile. Pass the process's inputs to mark listening ones.
 *
 * @example factsFromBanner(banner.inputs, config.input)
 */
export function factsFromBanner(
  streams: readonly BannerStream[],
  inputs: readonly ProcessInput[] = [],
): InputFacts[] {
  const count = Math.max(inputs.length, ...streams.map((stream) => stream.index + 1));
  const facts: InputFacts[] = [];
  for (let input = 0; input < count; input++) {
    const own = streams.filter((stream) => stream.index === input);
    const config = inputs[input];
    facts.push({
      source: 'banner',
      format: own.find((stream) => stream.format)?.format ?? '',
      listening: config ? isListeningInput(config) : false,
      ...(config && isLoopingInput(config) ? { loops: true } : {}),
      streams: own.map(bannerStreamFacts),
    });
  }
  return facts;
}

function bannerStreamFacts(stream: BannerStream): StreamFacts {
  const codecText = stream.codec.trim();
  const profile = stream.profile || profileIn(codecText);
  const kind = stream.type === 'video' || stream.type === 'audio' ? stream.type : 'other';
  return {
    index: stream.stream,
    kind,
    codec: (codecText.split(' ')[0] ?? '').toLowerCase(),
    ...(profile ? { profile } : {}),
    ...known('width', stream.width),
    ...known('height', stream.height),
    ...known('fps', stream.fps),
    ...(stream.pix_fmt ? { pix_fmt: stream.pix_fmt } : {}),
    ...known('sample_rate', stream.sampling_hz),
    ...known('channels', stream.channels),
    ...(stream.attached_pic ? { attached_pic: true } : {}),
  };
}

/** `h264 (High) (avc1 / 0x31637661)` → `High`; a codec tag in parentheses is not a profile. */
function profileIn(codecText: string): string | undefined {
  for (const match of codecText.matchAll(/\(([^()]+)\)/g)) {
    const inner = match[1]!.trim();
    if (!/ \/ 0x[0-9a-f]+$/i.test(inner)) return inner;
  }
  return undefined;
}

function known<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return value !== undefined && value > 0 ? ({ [key]: value } as { [P in K]: number }) : {};
}
