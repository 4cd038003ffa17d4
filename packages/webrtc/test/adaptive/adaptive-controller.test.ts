import { describe, expect, it } from 'vitest';
import { type SimulationOptions, type SimulationResult, simulate } from './link-simulator.js';

/**
 * The ladder for a 720p, 2 Mbit/s source: a copied top with a 2 s GOP, and 480p/360p/240p
 * rungs with a keyframe every 0.5 s. Needs on the wire (1.155 × video + 87 k audio): 2.4 M, 1.01 M,
 * 491 k, 237 k.
 */
const ladder = [
  { bitrateBps: 2_000_000, gopMs: 2000 },
  { bitrateBps: 800_000, gopMs: 500 },
  { bitrateBps: 350_000, gopMs: 500 },
  { bitrateBps: 130_000, gopMs: 500 },
];
const need = (rendition: number) => 1.155 * ladder[rendition]!.bitrateBps + 87_000;
const tbf = (rateBps: number, fromMs = 0) => ({ fromMs, rateBps });

function run(options: Partial<SimulationOptions> & Pick<SimulationOptions, 'link'>): SimulationResult {
  return simulate({ seed: 1, durationMs: 60_000, renditions: ladder, ...options });
}

/** Renditions the viewer received after `fromMs` (the one it had then first). */
function receivedAfter(result: SimulationResult, fromMs: number): number[] {
  const before = result.timeline.filter((change) => change.atMs <= fromMs).at(-1)!;
  return [
    before.rendition,
    ...result.timeline.filter((change) => change.atMs > fromMs).map((change) => change.rendition),
  ];
}

const switchDecisions = (result: SimulationResult) =>
  result.decisions.filter((decision) => decision.kind === 'switch');

describe('a capped link (tbf 600 kbit/s, burst 10 KB, latency 50 ms)', () => {
  const result = run({ link: { caps: [tbf(600_000)] } });

  it('settles on 360p, the rung that fits, within the first 3 s', () => {
    const settled = result.timeline.at(-1)!;

    expect(settled.rendition).toBe(2);
    expect(settled.atMs).toBeLessThan(3000);
    expect(need(2)).toBeLessThan(600_000);
    expect(need(1)).toBeGreaterThan(600_000);
  });

  it('never switches up again: every probe for 480p fails, and they space out to 8 s', () => {
    const probes = result.decisions.filter((decision) => decision.kind === 'probe');
    const gaps = probes.slice(1).map((probe, index) => probe.atMs - probes[index]!.atMs);

    expect(receivedAfter(result, 3000)).toEqual([2]);
    expect(probes.length).toBeGreaterThan(3);
    expect(result.controller.probesFailed).toBe(probes.length);
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(8000);
    expect(probes.length).toBeLessThanOrEqual(10);
  });

  it('keeps 480p on a 1.2 Mbit/s link, where it fits, although probes for the top overshoot', () => {
    const wider = run({ link: { caps: [tbf(1_200_000)] } });

    expect(receivedAfter(wider, 3000)).toEqual([1]);
    expect(wider.controller.probes).toBeGreaterThan(2);
  });

  it('takes 240p on a 300 kbit/s link', () => {
    expect(receivedAfter(run({ link: { caps: [tbf(300_000)] } }), 3000)).toEqual([3]);
  });
});

describe('a cap lifted', () => {
  // Lifts at different points of the probe schedule: right after a failed probe is the slowest.
  for (const liftMs of [30_000, 33_400, 38_300]) {
    it(`climbs one rung per successful probe and is on the top within 20 s (lift at ${liftMs / 1000} s)`, () => {
      const result = run({
        durationMs: liftMs + 25_000,
        link: { caps: [tbf(600_000), tbf(Infinity, liftMs)] },
      });
      const climb = receivedAfter(result, liftMs);
      const top = result.timeline.find((change) => change.atMs > liftMs && change.rendition === 0);
      const ups = switchDecisions(result).filter((decision) => decision.atMs > liftMs);

      expect(climb).toEqual([2, 1, 0]);
      expect(top!.atMs - liftMs).toBeLessThan(20_000);
      for (const up of ups) {
        const before = result.decisions[result.decisions.indexOf(up) - 1]!;
        expect(up.reason).toBe('probe');
        expect(before.kind).toBe('probe');
        expect(before.probeRateBps).toBeGreaterThanOrEqual(need(up.rendition));
      }
    });
  }
});

describe('5 % uniform random loss on an uncapped link', () => {
  it('never switches the top viewer over 60 s: random loss is not congestion', () => {
    const result = run({ seed: 3, link: { caps: [], randomLoss: 0.05 } });
    const lossRate = result.link.randomDrops / result.link.packets;

    expect(lossRate).toBeGreaterThan(0.04);
    expect(lossRate).toBeLessThan(0.06);
    expect(switchDecisions(result)).toEqual([]);
  });

  it('only climbs from 360p, never down, on the same link', () => {
    for (const seed of [3, 4, 5]) {
      const climb = receivedAfter(run({ seed, start: 2, link: { caps: [], randomLoss: 0.05 } }), 0);
      expect([...climb].sort().reverse()).toEqual(climb);
      expect(climb.at(-1)).toBe(0);
    }
  });
});

describe('a cap below the lowest rung (150 kbit/s)', () => {
  const liftMs = 40_000;
  const result = run({ seed: 4, durationMs: 80_000, link: { caps: [tbf(150_000), tbf(Infinity, liftMs)] } });

  it('falls back to audio only within 2 s and sends no video while capped', () => {
    const audioOnly = result.timeline.find((change) => change.rendition === -1);

    expect(audioOnly!.atMs).toBeLessThan(2000);
    expect(receivedAfter(result, 2000).slice(0, 1)).toEqual([-1]);
    expect(result.timeline.filter((change) => change.atMs > 2000 && change.atMs < liftMs)).toEqual([]);
  });

  it('comes back to video on the lowest rung within 20 s of the lift, then climbs', () => {
    const back = result.timeline.find((change) => change.atMs > liftMs && change.rendition >= 0);

    expect(back!.rendition).toBe(3);
    expect(back!.atMs - liftMs).toBeLessThan(20_000);
    expect(receivedAfter(result, liftMs)).toEqual([-1, 3, 2, 1, 0]);
  });
});

describe('an uncapped viewer on a busy machine', () => {
  it('does not go down for 30–80 ms stalls of the browser and of our own data plane', () => {
    const stalls = { gapMs: [300, 2000] as [number, number], stallMs: [30, 80] as [number, number] };
    const result = run({ seed: 5, link: { caps: [] }, stalls, senderStalls: stalls });

    expect(result.link.stallCount).toBeGreaterThan(40);
    expect(result.senderStalls).toBeGreaterThan(40);
    expect(switchDecisions(result)).toEqual([]);
  });

  it('does not go down for 100–300 ms stalls of the browser either', () => {
    const result = run({ seed: 8, link: { caps: [] }, stalls: { gapMs: [1000, 5000], stallMs: [100, 300] } });

    expect(result.link.stallCount).toBeGreaterThan(15);
    expect(switchDecisions(result)).toEqual([]);
  });
});

describe('a cap applied mid-stream (unlimited → 600 kbit/s at 20 s)', () => {
  const capMs = 20_000;
  const result = run({ seed: 6, link: { caps: [tbf(600_000, capMs)] } });

  it('is on a rendition that fits within 10 s and stays there', () => {
    const fitting = result.timeline.find((change) => change.atMs > capMs && change.rendition >= 2);

    expect(fitting!.atMs - capMs).toBeLessThan(10_000);
    expect(
      result.timeline
        .filter((change) => change.atMs > fitting!.atMs)
        .every((change) => change.rendition >= 2),
    ).toBe(true);
  });

  it('pauses the video for less than 1 s on the way down', () => {
    const changes = result.timeline.filter((change) => change.atMs > capMs);
    let pausedMs = 0;
    changes.forEach((change, index) => {
      if (change.rendition === -1) pausedMs += (changes[index + 1]?.atMs ?? 60_000) - change.atMs;
    });

    expect(changes.length).toBeGreaterThan(0);
    expect(pausedMs).toBeLessThan(1000);
  });
});
