import { describe, expect, it } from 'vitest';
import { LogThrottle } from './log-throttle.js';

describe('LogThrottle', () => {
  it('writes a burst per window, then counts what it left out on the next line', () => {
    let now = 0;
    const throttle = new LogThrottle({ burst: 2, windowMs: 1000, now: () => now });
    expect([throttle.admit('a'), throttle.admit('a'), throttle.admit('a'), throttle.admit('a')]).toEqual([
      0,
      0,
      undefined,
      undefined,
    ]);
    now = 1000;
    expect(throttle.admit('a')).toBe(2);
    expect(throttle.admit('a')).toBe(0);
  });

  it('keeps a budget per kind, so a flood of one kind hides no other', () => {
    const throttle = new LogThrottle({ burst: 1, windowMs: 1000, now: () => 0 });
    expect(throttle.admit('protocol')).toBe(0);
    expect(throttle.admit('protocol')).toBeUndefined();
    expect(throttle.admit('limit:bytes before publish or play')).toBe(0);
    expect(throttle.admit('timeout:handshake')).toBe(0);
  });
});
