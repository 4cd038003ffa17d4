import { describe, expect, it } from 'vitest';
import { parseTransportFeedback, TransportFeedback } from '../rtcp/twcc-feedback.js';
import { TransportFeedbackWriter } from '../rtcp/twcc-feedback-writer.js';
import { FeedbackJoin, PacketResults } from './feedback-join.js';
import { type PacketKind, packetKind, SendRecord } from './send-record.js';

/** A viewer: what we sent (the record) and what its browser reports (the writer), through the real parser. */
function viewer() {
  const record = new SendRecord(64);
  const writer = new TransportFeedbackWriter();
  const join = new FeedbackJoin(record);
  const feedback = new TransportFeedback();
  const results = new PacketResults(256);
  return {
    record,
    writer,
    join,
    results,
    send(sequence: number, sentUs: number, bytes = 1000, kind: PacketKind = packetKind.media) {
      record.record(sequence, sentUs, bytes, kind);
    },
    /** The next feedback, joined. */
    feedback(): PacketResults {
      const bytes = writer.build(1)!;
      expect(parseTransportFeedback(bytes, 0, bytes.length, feedback)).toBe('ok');
      join.join(feedback, results);
      return results;
    },
  };
}

const rows = (results: PacketResults) =>
  Array.from({ length: results.count }, (_, index) => ({
    sequence: results.sequence[index]!,
    sentUs: results.sentUs[index]!,
    arrivalUs: results.arrivalUs[index]!,
    bytes: results.bytes[index]!,
    kind: results.kind[index]!,
    late: results.late[index]!,
  }));

describe('FeedbackJoin', () => {
  it('joins reported packets with what was sent, across the 16-bit wrap, in send order', () => {
    const v = viewer();
    [65_534, 65_535, 0, 1].forEach((sequence, index) => {
      v.send(
        sequence,
        1_000_000 + index * 1000,
        1000 + index,
        index === 3 ? packetKind.audio : packetKind.media,
      );
      v.writer.onPacket(sequence, 5_000_000 + index * 2000);
    });
    const joined = rows(v.feedback());

    expect(joined.map((row) => row.sequence)).toEqual([131_070, 131_071, 131_072, 131_073]);
    expect(joined.map((row) => row.sentUs)).toEqual([1_000_000, 1_001_000, 1_002_000, 1_003_000]);
    expect(joined.map((row) => row.arrivalUs - joined[0]!.arrivalUs)).toEqual([0, 2000, 4000, 6000]);
    expect(joined.map((row) => row.bytes)).toEqual([1000, 1001, 1002, 1003]);
    expect(joined.map((row) => row.kind)).toEqual([0, 0, 0, 3]);
  });

  it('keeps arrivals on one clock when the 24-bit reference time wraps between feedbacks', () => {
    const v = viewer();
    const wrapUs = 2 ** 24 * 64_000;
    v.send(10, 0);
    v.writer.onPacket(10, wrapUs - 30_000); // reference 0xffffff
    const first = v.feedback().arrivalUs[0]!;
    v.send(11, 50_000);
    v.writer.onPacket(11, wrapUs + 20_000); // reference 0 again
    const second = v.feedback().arrivalUs[0]!;

    expect(second - first).toBe(50_000);
  });

  it('reports a packet once as lost, then as received and late; repeats are dropped', () => {
    const v = viewer();
    for (let sequence = 100; sequence <= 102; sequence++) v.send(sequence, sequence * 1000);
    v.writer.onPacket(100, 1_000_000);
    v.writer.onPacket(102, 1_002_000);
    const first = rows(v.feedback());
    v.writer.onPacket(101, 1_050_000); // late: the writer reports 101 and 102 again
    const second = rows(v.feedback());

    expect(first.map((row) => [row.sequence & 0xffff, Number.isNaN(row.arrivalUs), row.late])).toEqual([
      [100, false, 0],
      [101, true, 0],
      [102, false, 0],
    ]);
    expect(second.map((row) => [row.sequence & 0xffff, row.late])).toEqual([[101, 1]]);
    expect(v.join.repeated).toBe(1);
  });

  it('counts packets the record no longer has, and leaves them out', () => {
    const v = viewer();
    v.send(5, 0);
    v.send(5 + 64, 64_000); // the record holds 64 entries: 69 took 5's slot
    v.writer.onPacket(5, 1000);

    expect(v.feedback().count).toBe(0);
    expect(v.join.unmatched).toBe(1);
  });
});
