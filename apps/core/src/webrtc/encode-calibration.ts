import { execFile } from 'node:child_process';
import { referenceRungCores, rungBenchmarkArgs } from '@dragon/ffmpeg-args';

/** This machine's factor for the renditions' CPU estimates, and what to tell the user about it. */
export interface Calibration {
  /** Multiplies the rendition model's figures (`rendition_cost_factor` of the plan). */
  factor: number;
  /** How it was found, for the process log: measured, or why the conservative one is used. */
  note: string;
}

/** What a start needs of a calibration: its result, measured once. */
export interface CostCalibration {
  get(): Promise<Calibration>;
}

export interface EncodeCalibrationOptions {
  ffmpegBinary: string;
  /** FFmpeg's environment and working directory: the ones the processes' FFmpeg get. */
  env?: Record<string, string>;
  cwd?: string;
  /** Bound on each of the two runs. @default 10000 */
  timeoutMs?: number;
  /** Seconds of generated video each run encodes as fast as it can. @default 4 */
  seconds?: number;
}

/** When the runs fail: twice what the model says, so a machine not measured is not overcommitted. */
const unmeasuredFactor = 2;

/**
 * Finds how fast this machine encodes a rendition, once, the first time a ladder is planned: two
 * `ffmpeg -benchmark` runs over generated 720p25 video (the generator alone, then with a 360p rung
 * encoded as the legs do; well under a second of wall time on a desktop core), whose CPU difference
 * against the model's `referenceRungCores` is the factor. A NAS CPU four times slower gets about 4,
 * so its budget takes a quarter of the rungs. Measured as CPU time, which a busy machine inflates
 * only a little.
 */
export class EncodeCalibration implements CostCalibration {
  readonly #options: EncodeCalibrationOptions;
  #result: Promise<Calibration> | undefined;

  constructor(options: EncodeCalibrationOptions) {
    this.#options = options;
  }

  get(): Promise<Calibration> {
    this.#result ??= this.#measure();
    return this.#result;
  }

  async #measure(): Promise<Calibration> {
    const seconds = this.#options.seconds ?? 4;
    try {
      const source = await this.#cpuSeconds(rungBenchmarkArgs(seconds, false));
      const withRung = await this.#cpuSeconds(rungBenchmarkArgs(seconds, true));
      const rungCores = (withRung - source) / seconds;
      if (!(rungCores > 0)) throw new Error(`a 360p rung measured ${rungCores} cores`);
      const factor = Math.round((rungCores / referenceRungCores) * 100) / 100;
      return {
        factor,
        note: `renditions' CPU estimates from this machine: a 360p rung of a 720p25 input takes ${Math.round(rungCores * 1000) / 10} % of a core, ${factor}× the model`,
      };
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return {
        factor: unmeasuredFactor,
        note: `renditions' CPU estimates at ${unmeasuredFactor}× the model: timing a rung on this machine failed (${why.split('\n')[0]})`,
      };
    }
  }

  /** User + system CPU seconds of one run, from FFmpeg's `bench: utime=… stime=…` line. */
  #cpuSeconds(args: string[]): Promise<number> {
    return new Promise((resolve, reject) => {
      execFile(
        this.#options.ffmpegBinary,
        args,
        {
          timeout: this.#options.timeoutMs ?? 10_000,
          killSignal: 'SIGKILL',
          maxBuffer: 1 << 20,
          ...(this.#options.env ? { env: this.#options.env } : {}),
          ...(this.#options.cwd ? { cwd: this.#options.cwd } : {}),
        },
        (error, _stdout, stderr) => {
          const bench = /bench: utime=([\d.]+)s stime=([\d.]+)s/.exec(stderr);
          if (error) reject(new Error(`ffmpeg -benchmark: ${error.message}`, { cause: error }));
          else if (!bench) reject(new Error('ffmpeg -benchmark printed no bench line'));
          else resolve(Number(bench[1]) + Number(bench[2]));
        },
      );
    });
  }
}
