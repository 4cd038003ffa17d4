import { describe, expect, it } from 'vitest';
import { AttemptLimiter } from './attempt-limiter.js';

describe('AttemptLimiter', () => {
  it('allows a number of attempts per window, then says how long to wait', () => {
    let now = 1_000_000;
    const limiter = new AttemptLimiter({ maxAttempts: 2, windowMs: 60_000, now: () => now });
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(0);
    now += 15_000;
    expect(limiter.take('a')).toBe(45);
    expect(limiter.take('b')).toBe(0);
    now += 45_000;
    expect(limiter.take('a')).toBe(0);
  });

  it('gives a successful attempt back', () => {
    const limiter = new AttemptLimiter({ maxAttempts: 1, now: () => 0 });
    expect(limiter.take('a')).toBe(0);
    limiter.forgive('a');
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeGreaterThan(0);
  });

  it('forgets the oldest client beyond its size bound', () => {
    const limiter = new AttemptLimiter({ maxAttempts: 1, maxClients: 2, now: () => 0 });
    limiter.take('a');
    limiter.take('b');
    limiter.take('c');
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('c')).toBeGreaterThan(0);
  });
});
