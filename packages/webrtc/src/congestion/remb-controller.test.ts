import { describe, expect, it } from 'vitest';
import { RembController } from './remb-controller.js';
import type { Decision } from './rendition-policy.js';

// 720p at 2 Mbit/s and three rungs, audio beside them.
const renditions = [
  { bitrateBps: 2_000_000 },
  { bitrateBps: 800_000 },
  { bitrateBps: 350_000 },
  { bitrateBps: 130_000 },
];
const audioBps = 87_000;
const tickMs = 25;
const packetBytes = 1100;

/**
 * A viewer behind a link of `capBps` (Infinity: none), ticked every 25 ms for `forMs`: what it is
 * sent is its current rendition (plus a running probe's share), and what exceeds the link is lost
 * and NACKed. `remb(now)` is what its browser says, if anything. Returns every decision, applied.
 */
function drive(
  controller: RembController,
  from: number,
  forMs: number,
  capBps: (now: number) => number,
  remb?: (now: number) => number | undefined,
): { at: number; decision: Decision }[] {
  const decisions: { at: number; decision: Decision }[] = [];
  let probeUntil = 0;
  let probeRate = 0;
  // Fractions of packets carried over between ticks.
  let sending = 0;
  let losing = 0;
  for (let now = from; now < from + forMs; now += tickMs) {
    const rendition = controller.rendition;
    const video = rendition < 0 ? 0 : renditions[rendition]!.bitrateBps;
    const mediaBps = video * 1.1 + audioBps;
    const sendBps = now < probeUntil ? Math.max(mediaBps, probeRate) : mediaBps;
    const octets = (sendBps * tickMs) / 8000;
    sending += (video * 1.1 * tickMs) / 8000 / packetBytes;
    const sent = Math.floor(sending);
    sending -= sent;
    losing += sent * Math.max(0, 1 - capBps(now) / sendBps);
    const lost = Math.floor(losing);
    losing -= lost;
    const browser = remb?.(now);
    if (browser !== undefined) controller.remb(now, browser);
    const decision = controller.tick(now, sent, lost, octets);
    if (!decision) continue;
    decisions.push({ at: now, decision: { ...decision } });
    if (decision.kind === 'probe') {
      probeUntil = now + decision.probeDurationMs;
      probeRate = decision.probeRateBps;
    } else if (decision.kind === 'probe-stop') {
      probeUntil = 0;
    } else {
      probeUntil = 0;
      // The switch happens at the target's next keyframe (rungs: every 0.5 s).
      controller.onSwitched(now + 250, decision.rendition);
    }
  }
  return decisions;
}

describe('RembController', () => {
  it('moves a viewer whose NACKs show the top does not fit down to a rung that does', () => {
    const controller = new RembController({ renditions, start: 0 });
    const decisions = drive(controller, 0, 8000, () => 600_000);
    expect(decisions[0]!.decision).toMatchObject({ kind: 'switch' });
    expect(controller.rendition).toBeGreaterThanOrEqual(2);
    expect(controller.rendition).toBeLessThanOrEqual(3);
  });

  it('keeps a viewer that loses 5 % of its packets at random where it is', () => {
    const controller = new RembController({ renditions, start: 0 });
    const sent = 25;
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let now = 0; now < 20_000; now += tickMs) {
      let lost = 0;
      for (let packet = 0; packet < sent; packet++) if (random() < 0.05) lost++;
      const decision = controller.tick(now, sent, lost, (2_300_000 * tickMs) / 8000);
      expect(decision?.kind).not.toBe('switch');
    }
    expect(controller.rendition).toBe(0);
  });

  it('climbs back one rung at a time through probes once the link has room, up to the top', () => {
    const controller = new RembController({ renditions, start: 2 });
    const decisions = drive(controller, 0, 40_000, () => Number.POSITIVE_INFINITY);
    const ups = decisions
      .filter(({ decision }) => decision.kind === 'switch')
      .map(({ decision }) => decision);
    expect(ups.map((decision) => decision.rendition)).toEqual([1, 0]);
    expect(decisions.filter(({ decision }) => decision.kind === 'probe')).toHaveLength(2);
    expect(controller.rendition).toBe(0);
  });

  it('does not go up when its probes overflow the link, and probes less often after each failure', () => {
    const controller = new RembController({ renditions, start: 2 });
    const decisions = drive(controller, 0, 60_000, () => 600_000);
    expect(decisions.filter(({ decision }) => decision.kind === 'switch')).toEqual([]);
    const probes = decisions.filter(({ decision }) => decision.kind === 'probe').map(({ at }) => at);
    expect(probes.length).toBeGreaterThan(2);
    const gaps = probes.slice(1).map((at, index) => at - probes[index]!);
    expect(gaps.at(-1)!).toBeGreaterThan(gaps[0]!);
  });

  it('takes a drop of the browser estimate during a probe as a failed probe', () => {
    const controller = new RembController({ renditions, start: 2 });
    const decisions = drive(
      controller,
      0,
      20_000,
      () => Number.POSITIVE_INFINITY,
      // The browser's estimate falls while a probe runs: its delay-based detector overuses.
      () => (controller.state === 'probing' ? 500_000 : 700_000),
    );
    expect(decisions.some(({ decision }) => decision.kind === 'probe')).toBe(true);
    expect(decisions.filter(({ decision }) => decision.kind === 'switch')).toEqual([]);
  });

  it('goes to audio only below the lowest rung, and starts the lowest again once the link allows', () => {
    const controller = new RembController({ renditions, start: 3 });
    let cap = 150_000;
    const capped = drive(controller, 0, 5000, () => cap);
    expect(capped.at(-1)!.decision).toMatchObject({ kind: 'switch', rendition: -1 });
    expect(controller.rendition).toBe(-1);
    cap = Number.POSITIVE_INFINITY;
    const lifted = drive(controller, 5000, 10_000, () => cap);
    expect(lifted.find(({ decision }) => decision.kind === 'switch')!.decision.rendition).toBe(3);
  });

  it('tries the lowest rung from audio only less and less often while the link cannot carry it', () => {
    const controller = new RembController({ renditions, start: -1 });
    const decisions = drive(controller, 0, 90_000, () => 150_000);
    const tries = decisions
      .filter(({ decision }) => decision.kind === 'switch' && decision.rendition === 3)
      .map(({ at }) => at);
    expect(tries.length).toBeGreaterThan(2);
    const gaps = tries.slice(1).map((at, index) => at - tries[index]!);
    // 4 s, then up to 8 s between tries (and the try itself).
    expect(gaps.at(-1)!).toBeGreaterThan(gaps[0]! + 3000);
    expect(controller.rendition).toBe(-1);
  });

  it("keeps the lowest rung while the browser's estimate climbs from audio only", () => {
    const controller = new RembController({ renditions, start: 3 });
    let remb = 90_000;
    for (let now = 0; now < 15_000; now += tickMs) {
      // Chromium's estimate grows from what it received (audio) by ≈ 8 % a second.
      if (now % 1000 === 0) remb *= 1.08;
      controller.remb(now, remb);
      const decision = controller.tick(now, 3, 0, (237_000 * tickMs) / 8000);
      expect(decision?.kind === 'switch' && decision.rendition === -1).toBe(false);
    }
    expect(controller.rendition).toBe(3);
  });
});
