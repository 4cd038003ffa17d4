/**
 * A viewer's output space across rendition switches. Every viewer of a source without renditions
 * is sent the source's own sequence numbers and timestamps. A viewer moved to another rendition
 * (whose leg numbers its packets independently) is sent `ext + seqOffset` and `ts + tsOffset`
 * instead, chosen at the switch so that its sequence numbers go on without a gap and its
 * timestamps keep increasing with the time between the two packets: `RtpContinuity`'s rule for
 * an FFmpeg restart, per viewer.
 */

/** Where a viewer's output stands: its newest packet, in its own output space. */
export interface OutputEnd {
  /** Extended sequence number, as sent. */
  outExt: number;
  /** RTP timestamp, as sent. */
  outTs: number;
  /** When that packet arrived at the source (ms). */
  arrivalMs: number;
}

/** The offsets that continue `end` with a packet `firstExt`/`firstTs` that arrived at `firstArrivalMs`. */
export function rebase(
  end: OutputEnd,
  firstExt: number,
  firstTs: number,
  firstArrivalMs: number,
  clockRate: number,
): { seqOffset: number; tsOffset: number } {
  // At least one tick: a picture of another rendition is a new frame for the decoder.
  const elapsed = Math.max(1, Math.round(((firstArrivalMs - end.arrivalMs) * clockRate) / 1000));
  return {
    seqOffset: end.outExt + 1 - firstExt,
    tsOffset: (end.outTs + elapsed - firstTs) >>> 0,
  };
}

/** A run of a viewer's output space sent from one track with one pair of offsets. */
export interface Segment<Track> {
  /** The first output ext of the run. */
  outStart: number;
  track: Track;
  seqOffset: number;
  tsOffset: number;
}

/** Runs kept: at 0.5 s keyframe intervals, 16 switches reach further back than any NACK. */
const capacity = 16;

/**
 * The segments of a viewer's output space, newest last, so that a NACK for a sequence number sent
 * before a switch is answered from the rendition it was sent from, with the offsets it had.
 */
export class SwitchLog<Track> {
  readonly #segments: Segment<Track>[] = [];

  /** A new run starts at `outStart` (the older ones stay for NACKs, up to a bound). */
  push(segment: Segment<Track>): void {
    if (this.#segments.length === capacity) this.#segments.shift();
    this.#segments.push(segment);
  }

  /** The run that output ext `outExt` was sent in, or undefined when it is older than the log. */
  find(outExt: number): Segment<Track> | undefined {
    for (let index = this.#segments.length - 1; index >= 0; index--) {
      const segment = this.#segments[index]!;
      if (segment.outStart <= outExt) return segment;
    }
    return undefined;
  }

  get size(): number {
    return this.#segments.length;
  }
}
