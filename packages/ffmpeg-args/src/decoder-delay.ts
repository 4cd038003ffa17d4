import { z } from 'zod';
import type { StreamFacts } from './input-facts.js';
import type { ProcessInput } from './listening-input.js';

/** Options FFmpeg gets before one input, for the decoder of the video a transcode reads from it. */
export const decoderPlanSchema = z.object({
  /** The input's index in the process's `input` list. */
  input: z.number().int().min(0),
  /** Decoder options placed before that input's `-i` for this start. */
  options: z.array(z.string()),
  /** Why, in words for the process's state and log. */
  reason: z.string(),
});

export type DecoderPlan = z.infer<typeof decoderPlanSchema>;

/**
 * Tallest picture decoded on one thread: H.264 1080p30 decodes at several times real time on one
 * core of a NAS-class CPU; 4K would not, so it keeps FFmpeg's frame threads (and their delay).
 */
export const sliceDecodeMaxHeight = 1080;

/**
 * How the video a transcode reads is decoded. FFmpeg decodes H.264 with frame threads by default
 * (one per core, plus one), and each thread beyond the first holds a frame: on a 2-core machine two
 * frames (66 ms at 30 fps) between a frame's arrival and its encode, on 8 cores eight. Slice
 * threads hand each frame on as soon as it is decoded. Measured with the glass-to-glass benchmark
 * (`bench/glass-to-glass.mjs`). Only for a picture known to be at most `sliceDecodeMaxHeight` tall
 * (one thread keeps up with it), and never over the input's own threading options.
 */
export function planDecoder(
  input: number,
  stream: StreamFacts,
  inputs: readonly ProcessInput[],
): DecoderPlan | undefined {
  const options = inputs[input]?.options ?? [];
  if (options.some((option) => /^-(threads|thread_type|flags)(:|$)/.test(option))) return undefined;
  if (stream.height === undefined || stream.height === 0 || stream.height > sliceDecodeMaxHeight)
    return undefined;
  return {
    input,
    options: ['-thread_type', 'slice'],
    reason: `${stream.height}p decoded with slice threads: each frame goes to the encoder as soon as it is decoded, not a frame per extra thread later`,
  };
}
