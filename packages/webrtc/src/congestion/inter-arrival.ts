/**
 * Groups received packets into send bursts and yields, for each pair of consecutive groups, how much
 * further apart they arrived than they were sent: the delay-gradient sample the trendline works on
 * (draft-ietf-rmcat-gcc-02 §5.2; libwebrtc's `InterArrivalDelta`, whose rules these are).
 *
 * - A group is the packets sent within 5 ms of its first one: a video frame leaves as a burst, and
 *   its packets' spacing says more about our send loop than about the path.
 * - A packet sent later but arriving within 5 ms of the group's last, sooner than its send spacing
 *   (the network delivered a queue at once), and within 100 ms of the group's first arrival,
 *   joins the group: a burst that a stalled receiver or a router released at once is not read as
 *   the queue emptying.
 * - A packet sent before the current group's first is reordered and skipped; three group pairs in a
 *   row whose arrivals went backwards reset the grouping.
 */

const groupLengthMs = 5;
const burstDeltaMs = 5;
const maxBurstMs = 100;
const reorderedResetThreshold = 3;

export class InterArrival {
  /** The last completed pair: send spacing and arrival spacing of the two groups, and when the later one completed. */
  sendDeltaMs = 0;
  arrivalDeltaMs = 0;
  arrivalMs = 0;

  #hasCurrent = false;
  #firstSendMs = 0;
  #sendMs = 0;
  #firstArrivalMs = 0;
  #completeMs = 0;
  #hasPrevious = false;
  #previousSendMs = 0;
  #previousCompleteMs = 0;
  #reordered = 0;

  /** Adds a received packet (in send order); true when a group pair completed (see the fields). */
  add(sendMs: number, arrivalMs: number): boolean {
    if (!this.#hasCurrent) {
      this.#startGroup(sendMs, arrivalMs);
      return false;
    }
    if (sendMs < this.#firstSendMs) return false;
    let completed = false;
    if (this.#startsNewGroup(sendMs, arrivalMs)) {
      if (this.#hasPrevious) {
        const sendDelta = this.#sendMs - this.#previousSendMs;
        const arrivalDelta = this.#completeMs - this.#previousCompleteMs;
        if (arrivalDelta < 0) {
          // The groups arrived in the wrong order: no sample, and the packet is not counted.
          if (++this.#reordered >= reorderedResetThreshold) this.reset();
          return false;
        }
        this.#reordered = 0;
        this.sendDeltaMs = sendDelta;
        this.arrivalDeltaMs = arrivalDelta;
        this.arrivalMs = this.#completeMs;
        completed = true;
      }
      this.#shiftGroup(sendMs, arrivalMs);
    } else if (sendMs > this.#sendMs) {
      this.#sendMs = sendMs;
    }
    if (arrivalMs > this.#completeMs) this.#completeMs = arrivalMs;
    return completed;
  }

  reset(): void {
    this.#hasCurrent = false;
    this.#hasPrevious = false;
    this.#reordered = 0;
  }

  #startsNewGroup(sendMs: number, arrivalMs: number): boolean {
    const arrivalDelta = arrivalMs - this.#completeMs;
    const sendDelta = sendMs - this.#sendMs;
    if (sendDelta === 0) return false;
    const inBurst =
      arrivalDelta - sendDelta < 0 &&
      arrivalDelta <= burstDeltaMs &&
      arrivalMs - this.#firstArrivalMs < maxBurstMs;
    if (inBurst) return false;
    return sendMs - this.#firstSendMs > groupLengthMs;
  }

  #shiftGroup(sendMs: number, arrivalMs: number): void {
    this.#hasPrevious = true;
    this.#previousSendMs = this.#sendMs;
    this.#previousCompleteMs = this.#completeMs;
    this.#startGroup(sendMs, arrivalMs);
  }

  #startGroup(sendMs: number, arrivalMs: number): void {
    this.#hasCurrent = true;
    this.#firstSendMs = sendMs;
    this.#sendMs = sendMs;
    this.#firstArrivalMs = arrivalMs;
    this.#completeMs = arrivalMs;
  }
}
