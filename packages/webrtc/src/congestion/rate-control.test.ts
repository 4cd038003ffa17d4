import { describe, expect, it } from 'vitest';
import { AckedRate } from './acked-rate.js';
import { AimdRateControl } from './rate-control.js';

describe('AimdRateControl', () => {
  it('backs off to 0.85 × the acknowledged rate on overuse, then holds while overuse lasts', () => {
    const rate = new AimdRateControl({ startBps: 2_000_000 });

    expect(rate.update(1000, 'overusing', 600_000)).toBeCloseTo(510_000);
    expect(rate.update(1100, 'overusing', 600_000)).toBeCloseTo(510_000); // within 200 ms: no second cut
    expect(rate.update(1150, 'underusing', 600_000)).toBeCloseTo(510_000);
  });

  it('grows 8 % a second while far from the last saturation point, bounded by 1.5 × acked + 10 kbit/s', () => {
    const rate = new AimdRateControl({ startBps: 1_000_000 });
    rate.update(0, 'normal', 1_000_000);
    for (let ms = 100; ms <= 1000; ms += 100) rate.update(ms, 'normal', 1_000_000);
    expect(rate.estimateBps).toBeCloseTo(1_080_000, -4);

    for (let ms = 1100; ms <= 20_000; ms += 100) rate.update(ms, 'normal', 1_000_000);
    expect(rate.estimateBps).toBe(1_510_000);
  });

  it('grows additively near the rate at which the path saturated', () => {
    const rate = new AimdRateControl({ startBps: 1_000_000 });
    rate.update(0, 'overusing', 1_000_000); // saturated at 1 Mbit/s: 850 k
    rate.update(100, 'normal', 900_000);
    for (let ms = 200; ms <= 1100; ms += 100) rate.update(ms, 'normal', 900_000);

    // About one packet per response time ((200 + 100) × 2 ms), far less than 8 %.
    expect(rate.estimateBps - 850_000).toBeGreaterThan(5_000);
    expect(rate.estimateBps - 850_000).toBeLessThan(30_000);
  });

  it('takes a probe result past the bound, and halves without any acknowledged rate', () => {
    const rate = new AimdRateControl({ startBps: 500_000 });
    rate.setEstimate(1_200_000, 0);
    rate.update(100, 'normal', 450_000);
    expect(rate.estimateBps).toBeGreaterThanOrEqual(1_200_000);

    const blind = new AimdRateControl({ startBps: 800_000 });
    expect(blind.update(0, 'overusing', Number.NaN)).toBe(400_000);
  });
});

describe('AckedRate', () => {
  /** 1000-byte packets every `everyMs` from `fromMs` to `toMs`. */
  function feed(rate: AckedRate, fromMs: number, toMs: number, everyMs: number): void {
    for (let ms = fromMs; ms < toMs; ms += everyMs) rate.add(ms, 1000);
  }

  it('measures what arrived over the last 500 ms, once 150 ms have', () => {
    const rate = new AckedRate();
    feed(rate, 0, 100, 8);
    expect(rate.bps).toBeNaN();

    feed(rate, 100, 3000, 8); // 1 Mbit/s
    expect(rate.bps).toBeGreaterThan(0.98e6);
    expect(rate.bps).toBeLessThan(1.03e6);
  });

  it('shows a capacity drop in its 200 ms figure while the 500 ms one still lags', () => {
    const rate = new AckedRate();
    feed(rate, 0, 2000, 4); // 2 Mbit/s
    feed(rate, 2000, 2250, 16); // then 500 kbit/s

    expect(rate.recentBps(200)).toBeLessThan(0.6e6);
    expect(rate.bps).toBeGreaterThan(1e6);
  });
});
