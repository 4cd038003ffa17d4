import { describe, expect, it } from 'vitest';
import type { CongestionSignals } from './bandwidth-estimator.js';
import { type Decision, RenditionPolicy } from './rendition-policy.js';

// Needs: 2.4 M, 1.01 M, 491 k, 237 k (audio 87 k).
const ladder = [
  { bitrateBps: 2_000_000 },
  { bitrateBps: 800_000 },
  { bitrateBps: 350_000 },
  { bitrateBps: 130_000 },
];

type Signals = { -readonly [K in keyof CongestionSignals]: CongestionSignals[K] };
const calm = (estimateBps: number): Signals => ({
  estimateBps,
  ackedBps: estimateBps,
  recentBps: estimateBps,
  usage: 'normal',
  queueDelayMs: 0,
  excessLoss1s: 0,
  excessLoss300ms: 0,
  inherentLoss: 0,
});

/** Feedback every 100 ms from `fromMs` for `durationMs`, until the first decision (a copy). */
function feed(
  policy: RenditionPolicy,
  fromMs: number,
  durationMs: number,
  signals: Signals,
  probe: 'idle' | 'running' | 'succeeded' | 'failed' = 'idle',
  deliveredBps = 0,
): (Decision & { atMs: number })[] {
  const decisions: (Decision & { atMs: number })[] = [];
  for (let ms = fromMs; ms < fromMs + durationMs; ms += 100) {
    const decision = policy.decide(ms, signals, probe, deliveredBps);
    if (decision) {
      decisions.push({ ...decision, atMs: ms });
      break;
    }
  }
  return decisions;
}

describe('RenditionPolicy: down', () => {
  it('does not go down on a low estimate alone: an application-limited sender cannot see the path', () => {
    const policy = new RenditionPolicy(ladder, { start: 0 });
    expect(feed(policy, 0, 5000, calm(1_800_000))).toEqual([]);
  });

  it('goes down after 400 ms below need with a standing queue, to the best rendition that fits', () => {
    const policy = new RenditionPolicy(ladder, { start: 0 });
    const decisions = feed(policy, 0, 1000, { ...calm(1_100_000), queueDelayMs: 25 });

    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({
      atMs: 400,
      kind: 'switch',
      rendition: 1,
      reason: 'congestion',
      pauseNow: false,
    });
  });

  it('pauses the video at once in an emergency, choosing by what actually arrives', () => {
    const policy = new RenditionPolicy(ladder, { start: 0 });
    const signals = { ...calm(2_400_000), recentBps: 560_000, excessLoss300ms: 0.45 };
    const [decision] = feed(policy, 0, 100, signals);

    expect(decision).toMatchObject({ kind: 'switch', rendition: 2, reason: 'loss', pauseNow: true });
  });

  it('goes at least one rung down on loss even when the estimate says the rendition fits', () => {
    const policy = new RenditionPolicy(ladder, { start: 1 });
    const [decision] = feed(policy, 0, 100, { ...calm(3_000_000), excessLoss1s: 0.12 });
    expect(decision).toMatchObject({ rendition: 2, reason: 'loss' });
  });

  it('waits for the switch and a second of new sends before going down again', () => {
    const policy = new RenditionPolicy(ladder, { start: 0 });
    const congested = { ...calm(700_000), excessLoss1s: 0.15 };
    expect(feed(policy, 0, 100, congested)).toHaveLength(1); // → 360p
    expect(feed(policy, 100, 2000, congested)).toEqual([]); // the switch has not happened
    policy.onSwitched(2100, 2);
    expect(feed(policy, 2100, 900, congested)).toEqual([]);
    expect(feed(policy, 3100, 100, congested)[0]).toMatchObject({ rendition: 3 });
  });

  it('falls back to audio only when nothing fits', () => {
    const policy = new RenditionPolicy(ladder, { start: 3 });
    const [decision] = feed(policy, 0, 100, { ...calm(150_000), excessLoss300ms: 0.3 });

    expect(decision).toMatchObject({ rendition: -1, pauseNow: true });
    expect(policy.state).toBe('audio-only');
  });
});

describe('RenditionPolicy: up', () => {
  it('probes for the next rung after 2 s clean, at 1.1 × its need, for long enough to outlast a shaper', () => {
    const policy = new RenditionPolicy(ladder, { start: 2 });
    const [probe] = feed(policy, 0, 3000, calm(600_000));

    expect(probe).toMatchObject({ atMs: 2000, kind: 'probe' });
    expect(probe!.probeRateBps).toBeCloseTo(1.1 * (1.155 * 800_000 + 87_000));
    expect(probe!.probeDurationMs).toBe(300);
    expect(policy.state).toBe('probing');
  });

  it('doubles the wait after each failed probe, up to 8 s', () => {
    const policy = new RenditionPolicy(ladder, { start: 2 });
    const waits: number[] = [];
    let cleanSince = 0;
    let from = 0;
    for (let round = 0; round < 5; round++) {
      const [probe] = feed(policy, from, 20_000, calm(600_000));
      waits.push(probe!.atMs - cleanSince);
      cleanSince = probe!.atMs + 300;
      feed(policy, cleanSince, 100, calm(600_000), 'failed');
      from = cleanSince + 100;
    }
    // Clean since the start, then since each failure.
    expect(waits).toEqual([2000, 4000, 8000, 8000, 8000]);
  });

  it('switches up one rung when the probe delivered its need, holds it through probation, then climbs on sooner', () => {
    const policy = new RenditionPolicy(ladder, { start: 2 });
    feed(policy, 0, 2100, calm(600_000));
    const [up] = feed(policy, 2100, 100, calm(600_000), 'succeeded', 1_100_000);
    expect(up).toMatchObject({ kind: 'switch', rendition: 1, reason: 'probe' });
    expect(policy.state).toBe('probation');

    policy.onSwitched(2500, 1);
    expect(feed(policy, 2500, 2100, calm(1_100_000))).toEqual([]);
    expect(policy.state).toBe('steady');
    // The link carried one more rung: the next probe comes after 1 s clean, not 2 s.
    expect(policy.holdUpMs).toBe(1000);
    const [next] = feed(policy, 4600, 1200, calm(1_100_000));
    expect(next).toMatchObject({ kind: 'probe', atMs: 5500 });
  });

  it('backs off the rung that failed, not the one below it', () => {
    const policy = new RenditionPolicy(ladder, { start: 2 });
    // Probes for 480p fail twice: it waits 4 s, then 8 s.
    feed(policy, 0, 2100, calm(600_000));
    feed(policy, 2100, 100, calm(600_000), 'failed');
    expect(policy.holdUpMs).toBe(4000);
    const [second] = feed(policy, 2200, 4100, calm(600_000));
    expect(second).toMatchObject({ kind: 'probe', atMs: 6100 });
    feed(policy, 6200, 100, calm(600_000), 'failed');
    expect(policy.holdUpMs).toBe(8000);

    // Knocked down to 240p, the viewer probes for 360p again after the usual 2 s, not 8 s.
    const [down] = feed(policy, 6300, 1500, { ...calm(600_000), excessLoss1s: 0.15 });
    expect(down).toMatchObject({ kind: 'switch', rendition: 3 });
    policy.onSwitched(down!.atMs + 250, 3);
    expect(policy.holdUpMs).toBe(2000);
  });

  it('forgets the backoffs of a cap once the video stopped for audio only', () => {
    const policy = new RenditionPolicy(ladder, { start: 2 });
    feed(policy, 0, 2100, calm(600_000));
    feed(policy, 2100, 100, calm(600_000), 'failed');
    expect(policy.holdUpMs).toBe(4000);

    // A cap below every rung: audio only.
    const [audio] = feed(policy, 2200, 2000, { ...calm(100_000), excessLoss300ms: 0.3 });
    expect(audio).toMatchObject({ kind: 'switch', rendition: -1 });
    policy.onSwitched(audio!.atMs, -1);
    // Lifted: back up through 240p and 360p, each proven by its probation.
    let at = audio!.atMs + 1000;
    for (const rung of [3, 2]) {
      const [up] = feed(policy, at, 4000, calm(5_000_000));
      expect(up).toMatchObject({ kind: 'switch', rendition: rung });
      policy.onSwitched(up!.atMs + 100, rung);
      at = up!.atMs + 200;
      expect(feed(policy, at, 2100, { ...calm(5_000_000), estimateBps: 500_000 })).toEqual([]);
      at += 2100;
    }
    // 480p failed under the old cap; the climb goes on after 1 s, not its 4 s backoff.
    expect(policy.holdUpMs).toBe(1000);
  });

  it('goes back down from probation on overuse with a queue, and waits longer before the next try', () => {
    const policy = new RenditionPolicy(ladder, { start: 2 });
    feed(policy, 0, 2100, calm(600_000));
    feed(policy, 2100, 100, calm(600_000), 'succeeded', 1_100_000);
    policy.onSwitched(2500, 1);
    const [back] = feed(policy, 2500, 1000, { ...calm(1_100_000), usage: 'overusing', queueDelayMs: 30 });

    expect(back).toMatchObject({ rendition: 2, reason: 'congestion' });
    expect(policy.holdUpMs).toBe(4000);
  });

  it('does not take a failed probe’s own losses for a worse link', () => {
    const policy = new RenditionPolicy(ladder, { start: 1 });
    feed(policy, 0, 2100, calm(1_200_000));
    expect(policy.state).toBe('probing');
    const overshoot = { ...calm(1_100_000), excessLoss300ms: 0.25, queueDelayMs: 60 };
    expect(feed(policy, 2100, 200, overshoot, 'running')).toEqual([]);
    expect(feed(policy, 2300, 100, overshoot, 'failed')).toEqual([]);
    expect(feed(policy, 2400, 1000, { ...overshoot, queueDelayMs: 0, excessLoss300ms: 0.12 })).toEqual([]);
  });

  it('comes back from audio only on the lowest rung after a probe at 1.25 × its need', () => {
    const policy = new RenditionPolicy(ladder, { start: -1 });
    const [probe] = feed(policy, 0, 2100, calm(200_000));
    expect(probe!.probeRateBps).toBeCloseTo(1.25 * (1.155 * 130_000 + 87_000));

    const [back] = feed(policy, 2100, 100, calm(200_000), 'succeeded', 300_000);
    expect(back).toMatchObject({ rendition: 3, reason: 'recovered' });
  });

  it('skips the probe when the estimate already covers it', () => {
    const policy = new RenditionPolicy(ladder, { start: 1 });
    const [up] = feed(policy, 0, 2100, calm(3_000_000));
    expect(up).toMatchObject({ kind: 'switch', rendition: 0, reason: 'probe' });
  });
});

describe('RenditionPolicy: pins and layers', () => {
  it('follows a pin and decides nothing until handed back', () => {
    const policy = new RenditionPolicy(ladder, { start: 0 });
    expect(policy.pin(0, 3)).toMatchObject({ kind: 'switch', rendition: 3, reason: 'pinned' });
    expect(feed(policy, 0, 5000, { ...calm(100_000), excessLoss300ms: 0.5 })).toEqual([]);
    expect(policy.pin(5000, 'audio')).toMatchObject({ rendition: -1, reason: 'pinned' });

    policy.onSwitched(5000, -1);
    expect(policy.pin(5000, 'auto')).toBeUndefined();
    expect(feed(policy, 5000, 2100, calm(200_000))[0]).toMatchObject({ kind: 'probe' });
  });

  it('moves a viewer down at once when its layer stops, and never chooses an inactive one', () => {
    const policy = new RenditionPolicy(ladder, { start: 1 });
    const gone = policy.setRenditions([
      ladder[0]!,
      { ...ladder[1]!, active: false },
      { ...ladder[2]!, active: false },
      ladder[3]!,
    ]);

    expect(gone).toMatchObject({ kind: 'switch', rendition: 3, reason: 'layer-gone' });
    policy.onSwitched(100, 3);
    const [probe] = feed(policy, 1200, 3000, calm(5_000_000));
    expect(probe).toMatchObject({ kind: 'switch', rendition: 0 });
  });
});
