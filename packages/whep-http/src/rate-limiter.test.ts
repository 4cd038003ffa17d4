import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.js';

function clock(start = 1_000_000) {
  const c = { now: start, advance: (ms: number) => (c.now += ms) };
  return c;
}

describe('RateLimiter', () => {
  it('allows max hits per window and refuses the next with the seconds left', () => {
    const time = clock();
    const limiter = new RateLimiter({ windowMs: 10_000, max: 2, now: () => time.now });

    expect(limiter.hit('a').allowed).toBe(true);
    time.advance(2_500);
    expect(limiter.hit('a').allowed).toBe(true);
    expect(limiter.hit('a')).toEqual({ allowed: false, retryAfterSeconds: 8 });
  });

  it('checks a key without counting a hit', () => {
    const time = clock();
    const limiter = new RateLimiter({ windowMs: 10_000, max: 1, now: () => time.now });

    expect(limiter.check('a')).toEqual({ allowed: true });
    expect(limiter.check('a')).toEqual({ allowed: true });
    limiter.hit('a');
    time.advance(4_000);
    expect(limiter.check('a')).toEqual({ allowed: false, retryAfterSeconds: 6 });
    time.advance(6_000);
    expect(limiter.check('a')).toEqual({ allowed: true });
  });

  it('counts each key on its own', () => {
    const limiter = new RateLimiter({ windowMs: 10_000, max: 1, now: () => 0 });

    expect(limiter.hit('a').allowed).toBe(true);
    expect(limiter.hit('b').allowed).toBe(true);
    expect(limiter.hit('a').allowed).toBe(false);
  });

  it('starts a new window once the old one is over', () => {
    const time = clock();
    const limiter = new RateLimiter({ windowMs: 1_000, max: 1, now: () => time.now });
    limiter.hit('a');
    expect(limiter.hit('a').allowed).toBe(false);

    time.advance(1_000);

    expect(limiter.hit('a').allowed).toBe(true);
  });

  it('forgets expired windows when the table grows', () => {
    const time = clock();
    const limiter = new RateLimiter({ windowMs: 1_000, max: 1, now: () => time.now, sweepAt: 3 });
    limiter.hit('a');
    limiter.hit('b');
    limiter.hit('c');
    time.advance(1_000);

    limiter.hit('d');

    expect(limiter.size).toBe(1);
  });
});
