/**
 * How long packets wait in queues on the way to the viewer now: the one-way delay of the newest
 * packets minus the lowest one-way delay of the last 10 s. The two clocks (send record, viewer's
 * arrivals) have unrelated origins, so only this difference means anything; 10 s of minimum is
 * short enough that clock drift (tens of ppm) does not matter and long enough to contain a moment
 * without a queue on any link the viewer can use.
 *
 * "Now" is the smallest one-way delay among the packets of the latest feedback sent within 50 ms of
 * its newest: a standing queue delays all of them, while a receiver that stalled (a busy machine
 * reading its socket late: arrivals jump 30–80 ms, then a burst) delays the packets sent during the
 * stall but not the last ones it read, so a stall does not look like a queue.
 */
import type { PacketResults } from './feedback-join.js';

const bucketMs = 1000;
const buckets = 10;
const newestSpanMs = 50;

export class QueueDelay {
  /** Queue delay now, ms (0 until known). */
  delayMs = 0;

  /** Lowest one-way delay per second of send time, over the last `buckets` seconds. */
  readonly #minimum = new Float64Array(buckets).fill(Number.POSITIVE_INFINITY);
  #newestBucket = Number.NEGATIVE_INFINITY;

  /** One feedback's packets; a feedback with nothing received changes nothing. */
  update(results: PacketResults): number {
    let newestSentUs = Number.NEGATIVE_INFINITY;
    for (let index = 0; index < results.count; index++) {
      if (!Number.isNaN(results.arrivalUs[index]!))
        newestSentUs = Math.max(newestSentUs, results.sentUs[index]!);
    }
    if (newestSentUs === Number.NEGATIVE_INFINITY) return this.delayMs;
    const fromUs = newestSentUs - newestSpanMs * 1000;
    let newest = Number.POSITIVE_INFINITY;
    for (let index = 0; index < results.count; index++) {
      const arrivalUs = results.arrivalUs[index]!;
      if (Number.isNaN(arrivalUs)) continue;
      const sentUs = results.sentUs[index]!;
      const oneWayMs = (arrivalUs - sentUs) / 1000;
      this.#remember(sentUs / 1000, oneWayMs);
      if (sentUs >= fromUs && oneWayMs < newest) newest = oneWayMs;
    }
    let base = Number.POSITIVE_INFINITY;
    for (let index = 0; index < buckets; index++) base = Math.min(base, this.#minimum[index]!);
    this.delayMs = Math.max(0, newest - base);
    return this.delayMs;
  }

  #remember(sentMs: number, oneWayMs: number): void {
    const bucket = Math.floor(sentMs / bucketMs);
    if (bucket > this.#newestBucket) {
      const from = Math.max(this.#newestBucket + 1, bucket - buckets + 1);
      for (let index = from; index <= bucket; index++) this.#minimum[slot(index)] = Number.POSITIVE_INFINITY;
      this.#newestBucket = bucket;
    } else if (bucket <= this.#newestBucket - buckets) {
      return;
    }
    const at = slot(bucket);
    if (oneWayMs < this.#minimum[at]!) this.#minimum[at] = oneWayMs;
  }
}

function slot(bucket: number): number {
  return ((bucket % buckets) + buckets) % buckets;
}
