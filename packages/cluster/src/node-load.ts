import { cpus } from 'node:os';

/**
 * Turns counters into rates between two heartbeats: the machine's CPU busy share (all cores, so
 * FFmpeg counts as much as the node itself) and the egress bitrate.
 */
export class LoadSampler {
  #cpu = cpuTimes();
  #bytes = 0;
  #at = Date.now();

  sample(bytesSent: number): { cpuPercent: number; egressBps: number } {
    const now = Date.now();
    const cpu = cpuTimes();
    const total = cpu.total - this.#cpu.total;
    const idle = cpu.idle - this.#cpu.idle;
    const seconds = (now - this.#at) / 1000;
    // A source closed since the last sample takes its bytes with it: no negative rates.
    const bytes = Math.max(0, bytesSent - this.#bytes);
    this.#cpu = cpu;
    this.#bytes = bytesSent;
    this.#at = now;
    return {
      cpuPercent: total > 0 ? Math.min(100, Math.max(0, (100 * (total - idle)) / total)) : 0,
      egressBps: seconds > 0 ? Math.round((bytes * 8) / seconds) : 0,
    };
  }
}

function cpuTimes(): { total: number; idle: number } {
  let total = 0;
  let idle = 0;
  for (const cpu of cpus()) {
    const { user, nice, sys, idle: idleTime, irq } = cpu.times;
    total += user + nice + sys + idleTime + irq;
    idle += idleTime;
  }
  return { total, idle };
}
