import { z } from 'zod';
import { allowBlock, count } from './shared-fields.js';

/** `ffmpeg`: the binary, how many processes, what they may read and write, their log. */
export const ffmpegSection = z
  .object({
    binary: z.string().min(1, 'a value is required').default('ffmpeg'),
    max_processes: count.default(0),
    access: z
      .object({
        input: allowBlock.prefault({}),
        output: allowBlock
          .extend({
            /**
             * Dragon's: directories file outputs may write into besides `storage.disk.dir` (datarhei
             * allows only that one). `/dev/null` is always allowed.
             */
            directories: z.array(z.string().trim().min(1, 'path name must not be empty')).default([]),
          })
          .prefault({}),
      })
      .prefault({}),
    log: z
      .object({
        max_lines: z.number().int().min(1).max(10000).default(50),
        max_history: z.number().int().min(0).max(100).default(3),
      })
      .prefault({}),
  })
  .prefault({});
