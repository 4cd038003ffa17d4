import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RestartPolicy } from './restart-policy.js';

describe('RestartPolicy', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('restarts at once, then later and later while the worker keeps dying soon after its start', () => {
    const policy = new RestartPolicy();
    const starts: number[] = [];
    const start = () => starts.push(Date.now());

    const delays = [];
    for (let death = 0; death < 10; death++) {
      const delay = policy.schedule(0, start);
      delays.push(delay);
      vi.advanceTimersByTime(delay);
      // It dies 100 ms after each start.
      vi.advanceTimersByTime(100);
    }

    expect(delays).toEqual([0, 250, 500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(starts).toHaveLength(10);
  });

  it('restarts at once again after a worker that ran for a while', () => {
    const policy = new RestartPolicy();
    const start = vi.fn();
    for (let death = 0; death < 3; death++) vi.advanceTimersByTime(policy.schedule(0, start) + 100);

    vi.advanceTimersByTime(10_000);

    expect(policy.schedule(0, start)).toBe(0);
  });

  it('keeps each worker apart, and starts nothing once cancelled', () => {
    const policy = new RestartPolicy();
    const start = vi.fn();
    policy.schedule(0, start);
    vi.advanceTimersByTime(100);
    expect(policy.schedule(0, start)).toBe(250);
    expect(policy.schedule(1, start)).toBe(0);

    policy.cancelAll();
    vi.advanceTimersByTime(60_000);

    // Only the first restart of worker 0 ran, before the cancel.
    expect(start).toHaveBeenCalledTimes(1);
  });
});
