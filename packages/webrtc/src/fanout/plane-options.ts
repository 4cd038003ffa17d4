import { z } from 'zod';

export const fanoutPlaneOptionsSchema = z.object({
  /**
   * `native`: SRTP and sendmmsg(2) in the addon, in worker threads apart from the caller's event
   * loop; `js`: Node's crypto and dgram in the caller's thread (the fallback where the addon was not
   * built); `auto`: native when the addon loads. @default 'auto'
   */
  engine: z.enum(['auto', 'native', 'js']).default('auto'),
  /**
   * Worker threads sharing the viewers (native only); 0 runs the native data plane in the calling
   * thread. A source is received by one worker; the others read its packets from shared memory.
   * @default 1
   */
  shards: z.number().int().min(0).max(64).default(1),
  /**
   * The nice value the worker threads ask for once they run, where the process may set it
   * (CAP_SYS_NICE, or an RLIMIT_NICE that allows it: systemd `LimitNICE=`, docker
   * `--ulimit nice=`): a negative value puts a frame's fan-out ahead of FFmpeg, the API and every
   * other program at nice 0 on a busy machine. Where the process may not, the workers keep the
   * caller's value, and `prioritized` says so. Never by lowering anything else (see `controlNice`).
   * 0 leaves them alone. Linux. @default -10
   */
  dataPlaneNice: z.number().int().min(-20).max(0).default(-10),
  /**
   * Opt-in: once the worker threads run, every other thread of the process (the caller's event
   * loop, V8's and libuv's helpers) gets this nice value, and so do the threads and child processes
   * (FFmpeg) they start later. On a machine with other work this gives the stream away with the rest:
   * they all yield to every other program. 0 leaves priorities alone, as does a plane without
   * workers. Linux. @default 0
   */
  controlNice: z.number().int().min(0).max(19).default(0),
  /**
   * Opt-in, stronger than `controlNice`: the other threads (FFmpeg started from them included) run
   * under SCHED_IDLE (native only, Linux), so a waking worker preempts them at once. On a machine
   * where other programs keep the cores busy they then get almost no CPU: FFmpeg stops delivering
   * and the API takes seconds (docs/performance.md). For a host that runs nothing else. Where the
   * kernel refuses, `controlNice` applies. @default false
   */
  controlIdle: z.boolean().default(false),
});
export type Priorities = Pick<
  z.output<typeof fanoutPlaneOptionsSchema>,
  'dataPlaneNice' | 'controlNice' | 'controlIdle'
>;
export type FanoutPlaneOptions = z.input<typeof fanoutPlaneOptionsSchema>;

const envSchema = z.object({
  DRAGON_FANOUT_ENGINE: z.enum(['auto', 'native', 'js']).optional(),
  DRAGON_FANOUT_SHARDS: z.coerce.number().int().min(0).max(64).optional(),
});

/** `DRAGON_FANOUT_ENGINE` and `DRAGON_FANOUT_SHARDS`, for `FanoutPlane.shared()`. */
export function sharedOptionsFromEnv(env: NodeJS.ProcessEnv): FanoutPlaneOptions {
  const parsed = envSchema.parse({
    DRAGON_FANOUT_ENGINE: env.DRAGON_FANOUT_ENGINE || undefined,
    DRAGON_FANOUT_SHARDS: env.DRAGON_FANOUT_SHARDS || undefined,
  });
  return {
    ...(parsed.DRAGON_FANOUT_ENGINE ? { engine: parsed.DRAGON_FANOUT_ENGINE } : {}),
    ...(parsed.DRAGON_FANOUT_SHARDS !== undefined ? { shards: parsed.DRAGON_FANOUT_SHARDS } : {}),
  };
}
