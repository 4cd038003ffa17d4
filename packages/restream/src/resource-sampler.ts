import { readFileSync } from 'node:fs';

export interface ResourceSample {
  /** Percent of one core, averaged since the previous sample. */
  cpuPercent: number;
  memoryBytes: number;
}

/** Linux reports CPU time in clock ticks; 100 per second on every common kernel config. */
const ticksPerSecond = 100;

/** CPU and memory of child processes from /proc (Linux); elsewhere it samples nothing. */
export class ResourceSampler {
  readonly #previous = new Map<number, { at: number; ticks: number; sample: ResourceSample | undefined }>();

  sample(pid: number, now: number): ResourceSample | undefined {
    let ticks: number;
    let memoryBytes: number;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks = Number(fields[11]) + Number(fields[12]);
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      memoryBytes = rss ? Number(rss[1]) * 1024 : 0;
    } catch {
      return undefined;
    }
    const previous = this.#previous.get(pid);
    const sample =
      previous && now > previous.at
        ? {
            cpuPercent: (((ticks - previous.ticks) / ticksPerSecond) * 100_000) / (now - previous.at),
            memoryBytes,
          }
        : undefined;
    this.#previous.set(pid, { at: now, ticks, sample });
    return sample;
  }

  last(pid: number): ResourceSample | undefined {
    return this.#previous.get(pid)?.sample;
  }

  forget(pid: number): void {
    this.#previous.delete(pid);
  }
}
