import { describe, expect, it } from 'vitest';
import { LossBound, lossLowerBound } from './loss-bound.js';

/** `seconds` of 250 packets/s, every `lossEvery`-th lost (0: none), one update per 100 ms. */
function run(bound: LossBound, fromMs: number, seconds: number, lossEvery: number, congested: boolean): void {
  let packet = 0;
  for (let ms = fromMs; ms < fromMs + seconds * 1000; ms += 4) {
    packet++;
    bound.add(ms, lossEvery > 0 && packet % lossEvery === 0, false);
    if (ms % 100 === 0) bound.update(ms, congested, 2_000_000);
  }
}

describe('LossBound', () => {
  it('learns a link’s inherent loss and does not count it as excess', () => {
    const bound = new LossBound();
    run(bound, 0, 12, 20, false); // 5 % whatever the rate

    expect(bound.loss1s).toBeCloseTo(0.05, 2);
    expect(bound.inherentLoss).toBeCloseTo(0.05, 2);
    expect(bound.excessLoss1s).toBe(0);
    expect(bound.boundBps).toBe(Number.POSITIVE_INFINITY);
  });

  it('learns nothing while the path is congested: that loss stays excess, and binds the estimate', () => {
    const bound = new LossBound();
    run(bound, 0, 12, 5, true); // 20 % with a queue

    expect(bound.inherentLoss).toBe(0);
    expect(bound.excessLoss1s).toBeGreaterThan(0.15);
    expect(bound.boundBps).toBeLessThan(2_000_000 * 0.95);
  });

  it('lets the bound grow back and stop binding once the loss is gone', () => {
    const bound = new LossBound();
    run(bound, 0, 3, 5, true);
    const bound0 = bound.boundBps;
    run(bound, 3000, 15, 0, false);

    expect(bound0).toBeLessThan(2_000_000);
    expect(bound.boundBps).toBe(Number.POSITIVE_INFINITY);
  });

  it('takes a packet reported late off the losses', () => {
    const bound = new LossBound();
    for (let ms = 0; ms < 1000; ms += 10) bound.add(ms, ms === 500, false);
    bound.add(500, false, true);
    bound.update(1000, false, 1e6);

    expect(bound.loss1s).toBe(0);
  });
});

describe('lossLowerBound', () => {
  it('is what a window proves: little for few packets, nearly the ratio for many', () => {
    expect(lossLowerBound(6, 27)).toBeGreaterThan(0.09);
    expect(lossLowerBound(6, 27)).toBeLessThan(0.11);
    expect(lossLowerBound(60, 270)).toBeGreaterThan(0.17);
    expect(lossLowerBound(0, 100)).toBe(0);
    expect(lossLowerBound(0, 0)).toBe(0);
  });
});
