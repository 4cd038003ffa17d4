import { describe, expect, it } from 'vitest';
import { PacketResults } from './feedback-join.js';
import { QueueDelay } from './queue-delay.js';
import { packetKind } from './send-record.js';

/** One feedback of packets sent every 5 ms from `fromMs`, with one-way delays from `delayMs(i)`. */
function feedback(fromMs: number, count: number, delayMs: (index: number) => number): PacketResults {
  const results = new PacketResults(count);
  for (let index = 0; index < count; index++) {
    const sentMs = fromMs + index * 5;
    // The receiver's clock is 1000 s ahead of ours: only differences matter.
    results.push(index, sentMs * 1000, (sentMs + 1_000_000 + delayMs(index)) * 1000, 1000, packetKind.media);
  }
  return results;
}

describe('QueueDelay', () => {
  it('is the newest packets’ delay above the lowest of the last 10 s', () => {
    const queue = new QueueDelay();
    queue.update(feedback(0, 20, () => 30));
    expect(queue.delayMs).toBe(0);

    // A queue growing 3 ms per packet: the least delayed of those sent in the last 50 ms (the 10th
    // of 20) waited 27 ms.
    expect(queue.update(feedback(100, 20, (index) => 30 + index * 3))).toBe(27);
  });

  it('ignores a receiver stall: the last packets it read were not delayed', () => {
    const queue = new QueueDelay();
    queue.update(feedback(0, 20, () => 30));
    // Sent at 100–195 ms; the reader stalled until 160 ms: the first ones were read up to 60 ms late,
    // everything after as usual.
    const stalled = feedback(100, 20, (index) => Math.max(30, 160 - (100 + index * 5)));

    expect(queue.update(stalled)).toBeLessThan(10);
  });

  it('forgets a minimum older than 10 s (a route that got longer is not a queue forever)', () => {
    const queue = new QueueDelay();
    queue.update(feedback(0, 20, () => 10));
    queue.update(feedback(5000, 20, () => 60));
    expect(queue.delayMs).toBe(50);

    queue.update(feedback(12_000, 20, () => 60));
    expect(queue.delayMs).toBe(0);
  });

  it('keeps its figure through a feedback that reports only losses', () => {
    const queue = new QueueDelay();
    queue.update(feedback(0, 20, () => 10));
    queue.update(feedback(100, 20, () => 40));
    expect(queue.update(feedback(200, 5, () => Number.NaN))).toBe(30);
  });
});
