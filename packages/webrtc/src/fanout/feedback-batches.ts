import type { Lane } from './lanes.js';
import type { FeedbackItem } from './shard-protocol.js';

/** How long a report may wait for others bound to the same shard. */
const flushAfterMs = 20;

/**
 * Viewers' congestion reports on their way to the shards that send to them: at most one command
 * per shard every 20 ms, however many viewers report (a congested Chromium sends REMB hundreds of
 * times a second). A viewer's REMBs within one batch keep only the newest: it is a level, the
 * receiver's belief now, and the shard only needs the latest (a drop is still seen: the previous
 * batch held the higher figure).
 */
export class FeedbackBatches {
  readonly #batches = new Map<Lane, FeedbackItem[]>();
  #timer: NodeJS.Timeout | undefined;

  add(lane: Lane, item: FeedbackItem): void {
    let batch = this.#batches.get(lane);
    if (!batch) {
      batch = [];
      this.#batches.set(lane, batch);
    }
    const previous = 'rembBps' in item ? batch.findIndex((queued) => sameRemb(queued, item.viewerKey)) : -1;
    if (previous >= 0) batch[previous] = item;
    else batch.push(item);
    this.#timer ??= setTimeout(() => this.flush(), flushAfterMs);
  }

  /** Sends every batch now. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const [lane, items] of this.#batches) lane.send({ type: 'feedback', items });
    this.#batches.clear();
  }

  /** Drops what waits (the plane closes). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#batches.clear();
  }
}

function sameRemb(item: FeedbackItem, viewerKey: number): boolean {
  return item.viewerKey === viewerKey && 'rembBps' in item;
}
