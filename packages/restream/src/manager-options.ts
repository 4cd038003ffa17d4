import { z } from 'zod';
import { ffmpegAccessSchema } from './ffmpeg-access.js';
import type { PlaceholderTemplate } from './placeholders.js';
import type { ProcessHooks } from './start-context.js';

/** pino-compatible, optional. */
export interface ManagerLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

const silentLogger: ManagerLogger = { info() {}, warn() {}, error() {} };

const isObject = (value: unknown) => value !== null && typeof value === 'object';
const isFunction = (value: unknown) => typeof value === 'function';

/** The options of `ProcessManager.create`, parsed once. */
export const processManagerOptionsSchema = z.object({
  /** Where the process store (`store/`) and `ffmpeg.pids` live. */
  dataDir: z.string().min(1),
  /** @default 'ffmpeg' */
  ffmpegBinary: z.string().min(1).default('ffmpeg'),
  /** Log lines kept per run. @default 50 */
  logLines: z.number().int().min(1).default(50),
  /** Earlier runs kept in the report. @default 3 */
  historyRuns: z.number().int().min(0).default(3),
  /**
   * The lifecycle hooks, for every start — restored processes included.
   * @example hooks: { onStart: (ctx) => ctx.appendOutput({ address: 'udp://127.0.0.1:5000', options: ['-f', 'mpegts'] }) }
   */
  hooks: z.custom<ProcessHooks>(isObject, 'an object of hooks').default({}),
  logger: z.custom<ManagerLogger>(isObject, 'a logger').default(silentLogger),
  /**
   * The server's placeholders (`diskfs`, `memfs`, `fs:<name>`, `rtmp`, `srt`): a value, a `{key}`
   * template, or a function of the placeholder's parameters, called at each start.
   * @default {} @example { diskfs: '/data', rtmp: 'rtmp://127.0.0.1:1935/live/{name}' }
   */
  placeholders: z
    .record(z.string(), z.union([z.string(), z.custom<PlaceholderTemplate>(isFunction, 'a function')]))
    .default({}),
  /** Skip the FFmpeg capability check (tests that run a fake FFmpeg). @default false */
  skipSkills: z.boolean().default(false),
  /** Grace between SIGINT and SIGKILL. @default 5000 */
  stopTimeoutMs: z.number().int().min(0).default(5000),
  /** What FFmpeg may read, write and see (datarhei's `ffmpeg.access`, plus protected paths and the environment). */
  access: ffmpegAccessSchema.prefault({}),
  /** Largest metadata value, as JSON. @default 1048576 */
  maxMetadataBytes: z
    .number()
    .int()
    .min(1)
    .default(1024 * 1024),
  /** Largest process store (all its files). @default 33554432 */
  maxStoreBytes: z
    .number()
    .int()
    .min(1)
    .default(32 * 1024 * 1024),
});

export type ProcessManagerOptions = z.input<typeof processManagerOptionsSchema>;
export type ResolvedManagerOptions = z.output<typeof processManagerOptionsSchema>;
