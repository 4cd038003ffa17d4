import { describe, expect, it } from 'vitest';
import { pacingRate, ViewerPacer } from './viewer-pacer.js';

/** A viewer whose sends are recorded: what went when, and its octets counter. */
function recorder(length = 1000) {
  const sent: { ext: number; atMs: number; seqOffset: number }[] = [];
  const state = { nowMs: 0, octets: 0 };
  const pacer = new ViewerPacer<string>(
    (_track, ext, seqOffset) => {
      sent.push({ ext, atMs: state.nowMs, seqOffset });
      state.octets += length;
      return length;
    },
    { capacity: 16, burstMs: 10, maxQueueMs: 300, minQueueBytes: 0 },
  );
  return { sent, state, pacer };
}

/** Drains at every due time the pacer names until it is empty. */
function runUntilEmpty(viewer: ReturnType<typeof recorder>): void {
  for (;;) {
    const due = viewer.pacer.drain(viewer.state.nowMs, viewer.state.octets);
    if (due < 0) return;
    viewer.state.nowMs += due;
  }
}

describe('ViewerPacer', () => {
  it('sends a lone packet at once', () => {
    const viewer = recorder();
    viewer.pacer.setRate(0, 0, 800_000);

    viewer.pacer.offer(0, 0, 'v', 1, 0, 0, 1000, true);

    expect(viewer.sent).toEqual([{ ext: 1, atMs: 0, seqOffset: 0 }]);
    expect(viewer.pacer.queued).toBe(0);
  });

  it('spreads a keyframe burst over time at its rate', () => {
    const viewer = recorder();
    viewer.pacer.setRate(0, 0, 800_000); // 100 bytes per ms: a 1000-byte packet every 10 ms

    for (let ext = 0; ext < 10; ext++)
      viewer.pacer.offer(0, viewer.state.octets, 'v', ext, 0, 0, 1000, ext === 0);
    runUntilEmpty(viewer);

    expect(viewer.sent.map((send) => send.ext)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The bucket holds 1200 bytes (one packet and a bit): the first two go at once, then one per 10 ms.
    expect(viewer.sent[1]!.atMs).toBe(0);
    const last = viewer.sent[9]!.atMs;
    expect(last).toBeGreaterThanOrEqual(75);
    expect(last).toBeLessThanOrEqual(95);
  });

  it('lets audio and other sends use tokens, so that video waits behind them', () => {
    const viewer = recorder();
    viewer.pacer.setRate(0, 0, 800_000);
    // 3000 bytes of audio and retransmissions went out beside the pacer.
    viewer.state.octets += 3000;

    viewer.pacer.offer(0, viewer.state.octets, 'v', 7, 0, 0, 1000, false);
    expect(viewer.sent).toEqual([]);
    const due = viewer.pacer.drain(0, viewer.state.octets);

    // 1200 − 3000 = −1800 bytes: due once the bucket is back above zero, ≈ 18 ms at 100 bytes/ms.
    expect(due).toBeGreaterThanOrEqual(18);
    expect(due).toBeLessThanOrEqual(19);
    viewer.state.nowMs = due;
    expect(viewer.pacer.drain(due, viewer.state.octets)).toBe(-1);
    expect(viewer.sent.map((send) => send.ext)).toEqual([7]);
  });

  it('owes at most 100 ms for a burst sent beside it, such as the join primer', () => {
    const viewer = recorder();
    viewer.pacer.setRate(0, 0, 800_000);
    // A 200 KB cached GOP went out at join: 2 s at this rate.
    viewer.state.octets += 200_000;

    viewer.pacer.offer(0, viewer.state.octets, 'v', 1, 0, 0, 1000, false);
    const due = viewer.pacer.drain(0, viewer.state.octets);

    expect(due).toBeGreaterThan(90);
    expect(due).toBeLessThanOrEqual(101);
  });

  it('sends at its rate even when it is drained late', () => {
    const viewer = recorder();
    viewer.pacer.setRate(0, 0, 800_000); // 100 bytes per ms
    viewer.state.octets = 4000; // the bucket (40 ms) is empty: everything waits

    for (let ext = 0; ext < 14; ext++)
      viewer.pacer.offer(0, viewer.state.octets, 'v', ext, 0, 0, 1000, ext === 0);
    // A busy thread: the timer fires every 100 ms, not when the next packet is due.
    for (const at of [100, 200]) {
      viewer.state.nowMs = at;
      viewer.pacer.drain(at, viewer.state.octets);
    }

    // 200 ms at 100 bytes/ms carry all 14 packets of 1000 bytes, not four or five per late look.
    expect(viewer.sent.length).toBe(14);
  });

  it('keeps each waiting packet with the offsets it was queued with', () => {
    const viewer = recorder();
    viewer.pacer.setRate(0, 0, 800_000);

    viewer.pacer.offer(0, 0, 'v', 1, 0, 0, 1000, false);
    viewer.pacer.offer(0, viewer.state.octets, 'v', 2, 0, 0, 1000, false);
    viewer.pacer.offer(0, viewer.state.octets, 'v', 3, 0, 0, 1000, false);
    viewer.pacer.offer(0, viewer.state.octets, 'w', 100, -97, 0, 1000, true);
    runUntilEmpty(viewer);

    expect(viewer.sent.map((send) => [send.ext, send.seqOffset])).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
      [100, -97],
    ]);
  });

  it('drops the oldest video up to the next keyframe start when the queue outgrows its bound', () => {
    const viewer = recorder();
    // 300 ms at 80 kbit/s = 3000 bytes: a fourth waiting packet is one too many.
    viewer.pacer.setRate(0, 0, 80_000);
    viewer.state.octets = 1200; // the bucket is empty: everything waits

    for (let ext = 0; ext < 6; ext++)
      viewer.pacer.offer(0, viewer.state.octets, 'v', ext, 0, 0, 1000, ext === 2);
    runUntilEmpty(viewer);

    // 0 and 1 were dropped to reach the keyframe at 2; then 2 itself, and 3 (up to none: no keyframe after).
    expect(viewer.pacer.dropped).toBeGreaterThan(0);
    const sent = viewer.sent.map((send) => send.ext);
    expect(sent.at(-1)).toBe(5);
    expect(sent).not.toContain(0);
    expect(sent).not.toContain(1);
    expect(viewer.pacer.dropped + sent.length).toBe(6);
  });

  it('drops nothing when its ring is full but makes room at a keyframe start', () => {
    const viewer = recorder();
    viewer.pacer.setRate(0, 0, 1_000_000_000); // a bound far above what 16 packets weigh
    viewer.state.octets = 1_000_000_000; // …but a bucket deep in debt

    for (let ext = 0; ext < 17; ext++)
      viewer.pacer.offer(0, viewer.state.octets, 'v', ext, 0, 0, 1000, ext % 8 === 0);

    // The 17th found the ring full: the oldest run (0…7, up to the keyframe at 8) made room.
    expect(viewer.pacer.dropped).toBe(8);
    expect(viewer.pacer.queued).toBe(9);
  });

  it('forgets what waits when the video stops', () => {
    const viewer = recorder();
    viewer.pacer.setRate(0, 0, 80_000);
    viewer.state.octets = 5000;
    viewer.pacer.offer(0, viewer.state.octets, 'v', 1, 0, 0, 1000, false);
    viewer.pacer.offer(0, viewer.state.octets, 'v', 2, 0, 0, 1000, false);

    expect(viewer.pacer.clear()).toBe(2);
    expect(viewer.pacer.drain(1000, viewer.state.octets)).toBe(-1);
    expect(viewer.sent).toEqual([]);
  });

  it('sends everything at once while unpaced', () => {
    const viewer = recorder();

    for (let ext = 0; ext < 10; ext++)
      viewer.pacer.offer(0, viewer.state.octets, 'v', ext, 0, 0, 1000, false);

    expect(viewer.sent.length).toBe(10);
    expect(viewer.sent.every((send) => send.atMs === 0)).toBe(true);
  });
});

describe('pacingRate', () => {
  it('is 1.3 × the estimate, floored at 2.5 × the rendition and audio, and above a probe', () => {
    expect(pacingRate(400_000, 350_000, 87_000, 0)).toBeCloseTo(2.5 * 437_000);
    expect(pacingRate(2_000_000, 350_000, 87_000, 0)).toBe(2_600_000);
    expect(pacingRate(300_000, 350_000, 87_000, 0)).toBeCloseTo(2.5 * 437_000);
    expect(pacingRate(500_000, 100_000, 87_000, 1_000_000)).toBe(1_200_000);
  });

  it('does not pace when nothing says what the link or the rendition carries', () => {
    expect(pacingRate(Number.NaN, 0, 87_000, 0)).toBe(Number.POSITIVE_INFINITY);
  });
});
