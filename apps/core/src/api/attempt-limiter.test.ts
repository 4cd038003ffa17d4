import { describe, expect, it } from 'vitest';
import { AttemptLimiter, addressBuckets } from './attempt-limiter.js';

describe('AttemptLimiter', () => {
  it('allows a number of attempts per window, then says how long to wait', () => {
    let now = 1_000_000;
    const limiter = new AttemptLimiter({ maxAttempts: 2, windowMs: 60_000, now: () => now });
    expect(limiter.take('192.0.2.1')).toBe(0);
    expect(limiter.take('192.0.2.1')).toBe(0);
    now += 15_000;
    expect(limiter.take('192.0.2.1')).toBe(45);
    expect(limiter.take('192.0.2.2')).toBe(0);
    now += 45_000;
    expect(limiter.take('192.0.2.1')).toBe(0);
  });

  it('gives a successful attempt back', () => {
    const limiter = new AttemptLimiter({ maxAttempts: 1, now: () => 0 });
    expect(limiter.take('192.0.2.1')).toBe(0);
    limiter.forgive('192.0.2.1');
    expect(limiter.take('192.0.2.1')).toBe(0);
    expect(limiter.take('192.0.2.1')).toBeGreaterThan(0);
  });

  it('keeps a blocked client blocked however many other clients come, within its bound', () => {
    let now = 0;
    const limiter = new AttemptLimiter({ maxAttempts: 2, now: () => now });
    limiter.take('203.0.113.7');
    limiter.take('203.0.113.7');
    expect(limiter.take('203.0.113.7')).toBeGreaterThan(0);
    // Far more clients than the limiter remembers (10,000), each from a network of its own.
    for (let i = 0; i < 12_000; i++) {
      limiter.take(`2001:db8:${(i >> 8).toString(16)}:${(i & 0xff).toString(16)}00::1`);
      now += 1;
    }
    expect(limiter.take('203.0.113.7')).toBeGreaterThan(0);
    // Past the bound, clients it does not hold share one window: the flood is limited as one client.
    expect(limiter.take('2001:db8:ffff:ff00::1')).toBeGreaterThan(0);
    // The window ends: the client may try again.
    now += 300_000;
    expect(limiter.take('203.0.113.7')).toBe(0);
  });

  it('counts one IPv6 host (/64) as one client, however many addresses it uses', () => {
    const limiter = new AttemptLimiter({ maxAttempts: 3, now: () => 0 });
    for (let i = 1; i <= 3; i++) expect(limiter.take(`2001:db8:1:2::${i.toString(16)}`)).toBe(0);
    expect(limiter.take('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBeGreaterThan(0);
    expect(limiter.take('2001:db8:1:3::1')).toBe(0);
  });

  it('limits a whole network (/24, /56) too, so many addresses of one network are not many clients', () => {
    const limiter = new AttemptLimiter({ maxAttempts: 2, maxAttemptsPerNetwork: 4, now: () => 0 });
    for (let host = 1; host <= 4; host++) expect(limiter.take(`198.51.100.${host}`)).toBe(0);
    expect(limiter.take('198.51.100.200')).toBeGreaterThan(0);
    expect(limiter.take('198.51.101.1')).toBe(0);
    for (let subnet = 0; subnet < 4; subnet++) expect(limiter.take(`2001:db8:0:${subnet}::1`)).toBe(0);
    expect(limiter.take('2001:db8:0:ff::1')).toBeGreaterThan(0);
    expect(limiter.take('2001:db8:0:100::1')).toBe(0);
  });
});

describe('addressBuckets', () => {
  it('keys IPv4 by address and /24, IPv6 by /64 and /56, a mapped IPv4 as IPv4', () => {
    expect(addressBuckets('198.51.100.23')).toEqual({ client: '198.51.100.23', network: '198.51.100.0/24' });
    expect(addressBuckets('::ffff:198.51.100.23')).toEqual(addressBuckets('198.51.100.23'));
    expect(addressBuckets('2001:db8:a:b1c2:1:2:3:4')).toEqual({
      client: '2001:db8:a:b1c2::/64',
      network: '2001:db8:a:b100::/56',
    });
    expect(addressBuckets('fe80::1%eth0')).toEqual({ client: 'fe80:0:0:0::/64', network: 'fe80:0:0:0::/56' });
    expect(addressBuckets('::1').client).toBe('0:0:0:0::/64');
    expect(addressBuckets('unknown')).toEqual({ client: 'unknown', network: 'unknown' });
  });
});
