import { describe, expect, it } from 'vitest';
import type { CongestionSignals } from './bandwidth-estimator.js';
import { PacketResults } from './feedback-join.js';
import { ProbeCluster } from './probe-cluster.js';
import { packetKind } from './send-record.js';

const calm: CongestionSignals = {
  estimateBps: 500_000,
  ackedBps: 450_000,
  recentBps: 450_000,
  usage: 'normal',
  queueDelayMs: 0,
  excessLoss1s: 0,
  excessLoss300ms: 0,
  inherentLoss: 0,
};

/**
 * A 300 ms probe at 1.1 Mbit/s from t = 1000 ms: 222-byte datagrams (250 on the wire) every
 * 1.82 ms, through a path of `capacityBps` (Infinity: room), losing every `lossEvery`-th.
 */
function probeResults(capacityBps: number, lossEvery = 0): PacketResults {
  const results = new PacketResults(400);
  const spacingMs = (250 * 8) / 1100;
  let free = 0;
  for (let index = 0; index * spacingMs < 360; index++) {
    const sentMs = 1000 + index * spacingMs;
    free = Math.max(free, sentMs) + (Number.isFinite(capacityBps) ? (250 * 8 * 1000) / capacityBps : 0);
    const lost = lossEvery > 0 && index % lossEvery === 0;
    results.push(index, sentMs * 1000, lost ? Number.NaN : (free + 20) * 1000, 222, packetKind.probe);
  }
  return results;
}

function judge(results: PacketResults, signals = calm): ProbeCluster {
  const probe = new ProbeCluster();
  probe.start(990, 1_100_000, 300, 900_000, 0);
  probe.observe(1400, results, signals);
  return probe;
}

describe('ProbeCluster', () => {
  it('succeeds on a path with room and reports the rate it delivered', () => {
    const probe = judge(probeResults(Number.POSITIVE_INFINITY));

    expect(probe.state).toBe('succeeded');
    expect(probe.deliveredBps).toBeGreaterThan(1_050_000);
    expect(probe.deliveredBps).toBeLessThan(1_150_000);
  });

  it('fails when the path stretched the packets: its capacity is below the probe', () => {
    const probe = judge(probeResults(700_000));

    expect(probe.state).toBe('failed');
    expect(probe.deliveredBps).toBeLessThan(750_000);
  });

  it('fails on loss beyond the link’s own, and survives the link’s own', () => {
    expect(judge(probeResults(Number.POSITIVE_INFINITY, 5)).state).toBe('failed'); // 20 %
    expect(judge(probeResults(Number.POSITIVE_INFINITY, 20), { ...calm, inherentLoss: 0.05 }).state).toBe(
      'succeeded',
    );
  });

  it('aborts at the first feedback that shows a queue growing, before the probe is over', () => {
    const probe = new ProbeCluster();
    probe.start(990, 1_100_000, 300, 900_000, 5);
    const firstHalf = probeResults(Number.POSITIVE_INFINITY);
    firstHalf.count = 40; // feedback so far covers the first 73 ms

    expect(probe.observe(1100, firstHalf, { ...calm, queueDelayMs: 25 })).toBe('failed');
    expect(probe.aborted).toBe(true);
  });

  it('waits for feedback covering the whole probe, and gives up when none shows it', () => {
    const probe = new ProbeCluster();
    probe.start(990, 1_100_000, 300, 900_000, 0);
    const early = probeResults(Number.POSITIVE_INFINITY);
    early.count = 100;
    expect(probe.observe(1200, early, calm)).toBe('running');

    const ignored = new ProbeCluster();
    ignored.start(990, 1_100_000, 300, 2_000_000, 0); // every packet was sent before the probe
    expect(ignored.observe(1400, probeResults(Number.POSITIVE_INFINITY), calm)).toBe('running');
    expect(ignored.observe(3000, probeResults(Number.POSITIVE_INFINITY), calm)).toBe('failed');
  });
});
