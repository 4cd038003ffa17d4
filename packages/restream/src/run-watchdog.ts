import type { ProcessConfig } from './config-schema.js';
import type { FFmpegRun } from './ffmpeg-run.js';
import type { ResourceSample } from './resource-sampler.js';

export interface WatchdogVerdict {
  cause: 'stale' | 'limits';
  /** The line for the run's log and the server log. */
  line: string;
}

/**
 * datarhei's stale timeout and CPU/memory limits for one process, asked once a second about its
 * running FFmpeg; it remembers since when the run has been over a limit.
 */
export class RunWatchdog {
  #overSince: number | undefined;

  reset(): void {
    this.#overSince = undefined;
  }

  /** Whether the run must be killed now, and why. */
  check(
    config: ProcessConfig,
    run: FFmpegRun,
    sample: ResourceSample | undefined,
    now: number,
  ): WatchdogVerdict | undefined {
    const stale = config.stale_timeout_seconds;
    if (stale > 0 && now - run.lastFrameChangeAt > stale * 1000) {
      return { cause: 'stale', line: `no progress for ${stale} s: stale, killing FFmpeg` };
    }
    const limits = config.limits;
    const overCpu = limits.cpu_usage > 0 && sample !== undefined && sample.cpuPercent > limits.cpu_usage;
    const overMemory =
      limits.memory_mbytes > 0 &&
      sample !== undefined &&
      sample.memoryBytes > limits.memory_mbytes * 1024 * 1024;
    if (!overCpu && !overMemory) {
      this.#overSince = undefined;
      return undefined;
    }
    this.#overSince ??= now;
    if (now - this.#overSince < limits.waitfor_seconds * 1000) return undefined;
    this.#overSince = undefined;
    const what = overCpu
      ? `CPU ${sample?.cpuPercent.toFixed(1)} % > ${limits.cpu_usage} %`
      : `memory ${sample?.memoryBytes} bytes > ${limits.memory_mbytes} MiB`;
    return {
      cause: 'limits',
      line: `limit exceeded (${what}) for ${limits.waitfor_seconds} s: stopping FFmpeg`,
    };
  }
}
