import { describe, expect, it } from 'vitest';
import { InterArrival } from './inter-arrival.js';
import { type BandwidthUsage, Trendline } from './trendline.js';

/** Packets (send ms, arrival ms) through the grouping into the detector: the states it went through. */
function detect(packets: [number, number][]): { states: BandwidthUsage[]; samples: number } {
  const groups = new InterArrival();
  const trendline = new Trendline();
  const states: BandwidthUsage[] = [];
  let samples = 0;
  for (const [sendMs, arrivalMs] of packets) {
    if (!groups.add(sendMs, arrivalMs)) continue;
    samples++;
    trendline.update(groups.arrivalDeltaMs, groups.sendDeltaMs, groups.arrivalMs);
    states.push(trendline.state);
  }
  return { states, samples };
}

/** A packet every `sendEveryMs`, delivered through a path that can take one every `serviceMs`. */
function bottleneck(
  count: number,
  sendEveryMs: number,
  serviceMs: number,
  jitter = (_: number) => 0,
): [number, number][] {
  const packets: [number, number][] = [];
  let free = 0;
  for (let index = 0; index < count; index++) {
    const sendMs = index * sendEveryMs;
    free = Math.max(free, sendMs) + serviceMs;
    packets.push([sendMs, free + 20 + jitter(index)]);
  }
  return packets;
}

describe('Trendline', () => {
  it('stays normal on a path with room, jitter included', () => {
    const { states } = detect(bottleneck(600, 10, 4, (index) => (index * 7919) % 5));
    expect(states.filter((state) => state === 'overusing')).toEqual([]);
  });

  it('detects overuse when a queue builds (sending 100 packets/s into room for 83)', () => {
    const { states } = detect(bottleneck(300, 10, 12));
    const first = states.indexOf('overusing');

    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(60); // well within a second of groups
  });

  it('detects underuse while a standing queue drains', () => {
    const building = bottleneck(200, 10, 12);
    const lastArrival = building.at(-1)![1];
    // Then the sender backs off to a rate the path clears faster than it arrives.
    const draining: [number, number][] = Array.from({ length: 100 }, (_, index) => [
      2000 + index * 10,
      lastArrival + (index + 1) * 6,
    ]);
    const { states } = detect([...building, ...draining]);

    expect(states.slice(-60)).toContain('underusing');
  });

  it('adapts its threshold: it rises slowly under a large trend and falls back fast', () => {
    const trendline = new Trendline();
    for (let index = 1; index <= 100; index++) trendline.update(10 + (index % 2 ? 6 : -6), 10, index * 10);
    const quiet = trendline.threshold;
    expect(quiet).toBeGreaterThanOrEqual(6);
    expect(quiet).toBeLessThan(12.5);
  });
});

describe('InterArrival', () => {
  it('groups what was sent within 5 ms, so a frame is one sample', () => {
    // Frames every 40 ms, each of 8 packets sent 0.5 ms apart.
    const packets: [number, number][] = [];
    for (let frame = 0; frame < 20; frame++) {
      for (let packet = 0; packet < 8; packet++) {
        const sendMs = frame * 40 + packet * 0.5;
        packets.push([sendMs, sendMs + 15]);
      }
    }
    expect(detect(packets).samples).toBe(18);
  });

  it('reads a burst released at once after a 70 ms receiver stall as one group', () => {
    // A packet every 5 ms (two per 5 ms group); the 14 sent during the stall arrive together when
    // it ends: seven groups' worth that must count as one, or the burst reads as a queue emptying.
    const packets: [number, number][] = [];
    for (let index = 0; index < 60; index++) {
      const sendMs = index * 5;
      const arrivalMs = sendMs >= 100 && sendMs < 170 ? 190 : sendMs + 20;
      packets.push([sendMs, arrivalMs]);
    }
    const withStall = detect(packets).samples;
    const without = detect(packets.map(([sendMs]) => [sendMs, sendMs + 20])).samples;

    expect(without - withStall).toBe(6);
  });
});
