import type { SourceEntry } from './source-entry.js';

// What the running WebRTC processes already spend, in estimated cores: what a new plan's budgets
// are reduced by. A process's own previous run is left out (it is being replaced).

/** The estimated cores of the other auto-enabled processes' running transcodes. */
export function autoEnabledCores(entries: ReadonlyMap<string, SourceEntry>, exceptId: string): number {
  let cores = 0;
  for (const [id, entry] of entries) {
    const run = entry.run;
    if (id !== exceptId && run && !run.ended && run.origin === 'auto') cores += run.plan.cpu_cores;
  }
  return cores;
}

/**
 * The estimated cores of the other processes' running renditions, and how many processes run them:
 * their ladders, and their VP8 made on demand while its FFmpeg runs (a viewer without H.264
 * watches). Each plan kept room for its own VP8; another process's counts once it is made.
 */
export function ladderCores(
  entries: ReadonlyMap<string, Pick<SourceEntry, 'run' | 'vp8'>>,
  exceptId: string,
): { cores: number; processes: number } {
  let cores = 0;
  let processes = 0;
  for (const [id, entry] of entries) {
    const run = entry.run;
    if (id === exceptId || !run || run.ended) continue;
    const vp8 = entry.vp8?.running ? entry.vp8.state().estimated_cpu : 0;
    if (run.plan.ladder_cpu_cores === 0 && vp8 === 0) continue;
    cores += run.plan.ladder_cpu_cores + vp8;
    processes++;
  }
  return { cores: Math.round(cores * 100) / 100, processes };
}
