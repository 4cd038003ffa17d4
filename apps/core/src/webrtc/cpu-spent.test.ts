import { describe, expect, it } from 'vitest';
import { ladderCores } from './cpu-spent.js';
import type { SourceEntry } from './source-entry.js';

/** An entry as `ladderCores` reads it: its run's plan, and its VP8 made on demand. */
const entry = (ladder: number, vp8?: { running: boolean; cores: number }) =>
  ({
    run: { ended: false, plan: { ladder_cpu_cores: ladder } },
    ...(vp8
      ? {
          vp8: {
            running: vp8.running,
            state: () => ({ running: vp8.running, viewers: 1, estimated_cpu: vp8.cores }),
          },
        }
      : {}),
  }) as unknown as Pick<SourceEntry, 'run' | 'vp8'>;

describe('what the other processes spend on renditions', () => {
  it('counts a VP8 made on demand while it runs, beside the ladders', () => {
    const entries = new Map([
      ['ladder', entry(0.3)],
      ['watched-by-firefox', entry(0, { running: true, cores: 0.2 })],
      ['vp8-idle', entry(0, { running: false, cores: 0.2 })],
      ['self', entry(0.4, { running: true, cores: 0.2 })],
    ]);

    expect(ladderCores(entries, 'self')).toEqual({ cores: 0.5, processes: 2 });
  });
});
