import { describe, expect, it } from 'vitest';
import { RetransmitPacer } from './retransmit-pacer.js';

describe('RetransmitPacer', () => {
  it('resends a packet again only after the minimum interval', () => {
    const pacer = new RetransmitPacer({ minIntervalMs: 100, perSecond: 1000 });

    expect(pacer.allow(5, 1000)).toBe(true);
    expect(pacer.allow(5, 1050)).toBe(false);
    expect(pacer.allow(6, 1050)).toBe(true);
    expect(pacer.allow(5, 1100)).toBe(true);
  });

  it('repairs a burst at once but holds a viewer to the rate over time', () => {
    const pacer = new RetransmitPacer({ minIntervalMs: 100, perSecond: 50 });
    let burst = 0;
    for (let ext = 0; ext < 200; ext++) if (pacer.allow(ext, 10_000)) burst++;
    let nextSecond = 0;
    for (let ext = 200; ext < 400; ext++) if (pacer.allow(ext, 11_000)) nextSecond++;

    expect(burst).toBe(50);
    expect(nextSecond).toBe(50);
  });
});

describe('RetransmitPacer memory', () => {
  it('holds no table until it first allows a resend', () => {
    const pacer = new RetransmitPacer();

    expect(pacer.tableBytes).toBe(0);
    expect(pacer.allow(7, 1000)).toBe(true);
    expect(pacer.tableBytes).toBeGreaterThan(0);
  });

  it('keeps a refusal for lack of tokens from making a table', () => {
    const pacer = new RetransmitPacer({ perSecond: 0 });

    expect(pacer.allow(7, 1000)).toBe(false);
    expect(pacer.tableBytes).toBe(0);
  });
});
