import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTransportFeedback, TransportFeedback, type TransportFeedbackStatus } from './twcc-feedback.js';
import { TransportFeedbackWriter } from './twcc-feedback-writer.js';

/** A feedback packet laid out by hand, field by field, as the draft's §3.1 figure draws it. */
function feedback(fields: {
  base: number;
  count: number;
  reference: number;
  feedbackCount?: number;
  chunks: number[];
  deltas: number[];
  padWithP?: boolean;
}): Uint8Array {
  const body = [
    ...[0x11, 0x22, 0x33, 0x44], // sender SSRC
    ...[0xaa, 0xbb, 0xcc, 0xdd], // media source SSRC
    fields.base >> 8,
    fields.base & 0xff,
    fields.count >> 8,
    fields.count & 0xff,
    (fields.reference >> 16) & 0xff,
    (fields.reference >> 8) & 0xff,
    fields.reference & 0xff,
    fields.feedbackCount ?? 0,
    ...fields.chunks.flatMap((chunk) => [chunk >> 8, chunk & 0xff]),
    ...fields.deltas,
  ];
  const padding = (4 - ((body.length + 4) % 4)) % 4;
  const padded = [...body, ...Array(padding).fill(0)];
  if (fields.padWithP && padding > 0) padded[padded.length - 1] = padding;
  const words = (padded.length + 4) / 4 - 1;
  const first = 0x80 | (fields.padWithP && padding > 0 ? 0x20 : 0) | 15;
  return Uint8Array.from([first, 205, words >> 8, words & 0xff, ...padded]);
}

function parse(
  bytes: Uint8Array,
  capacity?: number,
): { status: TransportFeedbackStatus; out: TransportFeedback } {
  const out = new TransportFeedback(capacity);
  return { status: parseTransportFeedback(bytes, 0, bytes.length, out), out };
}

/** Arrival times in ms after the reference time, `null` for lost, as the parser reports them. */
function arrivalsMs(out: TransportFeedback): (number | null)[] {
  return Array.from(out.arrivalUs.subarray(0, out.statusCount), (us) =>
    Number.isNaN(us) ? null : us / 1000,
  );
}

describe('parseTransportFeedback: the draft layouts', () => {
  it('reads a run-length chunk of small deltas, with the header fields', () => {
    // T=0, S=01 (received, small delta), run length 4: 0b0_01_0000000000100.
    const bytes = feedback({
      base: 1000,
      count: 4,
      reference: 3,
      feedbackCount: 9,
      chunks: [0x2004],
      deltas: [4, 0, 255, 1],
    });
    const { status, out } = parse(bytes);

    expect(status).toBe('ok');
    expect(out.senderSsrc).toBe(0x11223344);
    expect(out.mediaSsrc).toBe(0xaabbccdd);
    expect(out.baseSequence).toBe(1000);
    expect(out.referenceTime).toBe(3);
    expect(out.feedbackCount).toBe(9);
    expect(out.receivedCount).toBe(4);
    expect(arrivalsMs(out)).toEqual([1, 1, 64.75, 65]);
  });

  it('reads a 1-bit status vector: fourteen symbols, received or not', () => {
    // T=1, S=0, symbols 1 0 1 1 0 0 0 0 0 0 0 0 0 1.
    const bytes = feedback({
      base: 7,
      count: 14,
      reference: 0,
      chunks: [0b1_0_10110000000001],
      deltas: [8, 4, 4, 20],
    });
    const { status, out } = parse(bytes);

    expect(status).toBe('ok');
    expect(out.receivedCount).toBe(4);
    expect(arrivalsMs(out)).toEqual([2, null, 3, 4, ...Array(9).fill(null), 9]);
  });

  it('reads a 2-bit status vector with large and negative deltas', () => {
    // T=1, S=1, symbols 01 10 00 10 01 00 00: small, large, lost, large, small.
    const chunk = 0b1_1_01_10_00_10_01_00_00;
    // 0 ms; +64 ms (256 ticks, one more than a byte holds); lost; −1 ms (−4 ticks); +63.75 ms.
    const deltas = [0, 0x01, 0x00, 0xff, 0xfc, 255];
    const { status, out } = parse(feedback({ base: 50, count: 5, reference: 1, chunks: [chunk], deltas }));

    expect(status).toBe('ok');
    expect(arrivalsMs(out)).toEqual([0, 64, null, 63, 126.75]);
  });

  it('stops at the status count inside the last vector chunk', () => {
    // Seven 2-bit symbols written, three are packets: the rest are not read as packets.
    const chunk = 0b1_1_01_01_01_00_00_00_00;
    const { status, out } = parse(
      feedback({ base: 0, count: 3, reference: 0, chunks: [chunk], deltas: [1, 1, 1] }),
    );

    expect(status).toBe('ok');
    expect(out.statusCount).toBe(3);
    expect(arrivalsMs(out)).toEqual([0.25, 0.5, 0.75]);
  });

  it('reads mixed chunks in order: a run of losses, then vectors', () => {
    // Run of 20 not received (S=00), then a 1-bit vector with the 21st and 23rd received.
    const chunks = [0b0_00_0000000010100, 0b1_0_10100000000000];
    const { status, out } = parse(
      feedback({ base: 65_530, count: 23, reference: 5, chunks, deltas: [40, 2] }),
    );

    expect(status).toBe('ok');
    expect(out.baseSequence).toBe(65_530); // packets 65530 … 65535, 0 … 16: the wrap is the join's business
    expect(out.receivedCount).toBe(2);
    expect(arrivalsMs(out).slice(19)).toEqual([null, 10, null, 10.5]);
  });

  it('reads the whole 24-bit reference time', () => {
    const { out } = parse(
      feedback({ base: 0, count: 1, reference: 0xffffff, chunks: [0x2001], deltas: [0] }),
    );
    expect(out.referenceTime).toBe(0xffffff);
  });

  it('skips padding: zeros without the P bit, and counted padding with it', () => {
    // 3 delta bytes after one chunk: 20 + 2 + 3 = 25 bytes → 3 bytes of padding either way.
    const fields = { base: 9, count: 3, reference: 0, chunks: [0x2003], deltas: [1, 2, 3] };
    const zeros = parse(feedback(fields));
    const counted = parse(feedback({ ...fields, padWithP: true }));

    expect(zeros.status).toBe('ok');
    expect(counted.status).toBe('ok');
    expect(counted.out.arrivalUs[0]).toBe(250);
    expect(arrivalsMs(zeros.out)).toEqual(arrivalsMs(counted.out));
    expect(counted.out.arrivalUs.subarray(0, 3)).toEqual(Float64Array.from([250, 750, 1500]));
  });
});

describe('parseTransportFeedback: hostile input never throws', () => {
  it('refuses a header alone or a length beyond the datagram', () => {
    const whole = feedback({ base: 0, count: 2, reference: 0, chunks: [0x2002], deltas: [1, 1] });

    expect(parse(whole.subarray(0, 12)).status).toBe('truncated');
    const lying = whole.slice();
    lying[3] = lying[3]! + 5; // length field says 20 bytes more than there are
    expect(parse(lying).status).toBe('truncated');
  });

  it('refuses a status count of 65535 with no chunks: beyond the capacity, or truncated', () => {
    const bytes = feedback({ base: 0, count: 65_535, reference: 0, chunks: [], deltas: [] });

    expect(parse(bytes).status).toBe('too-many-packets');
    expect(parse(bytes, 65_535).status).toBe('truncated');
  });

  it('refuses chunks that promise more deltas than the packet holds', () => {
    const bytes = feedback({ base: 0, count: 8000, reference: 0, chunks: [0x2000 | 8000], deltas: [1, 2] });
    expect(parse(bytes, 8192).status).toBe('truncated');
  });

  it('refuses the reserved symbol, bad padding and other packet types', () => {
    const reserved = feedback({
      base: 0,
      count: 2,
      reference: 0,
      chunks: [0b0_11_0000000000010],
      deltas: [],
    });
    const badPadding = feedback({
      base: 0,
      count: 1,
      reference: 0,
      chunks: [0x2001],
      deltas: [1],
      padWithP: true,
    });
    badPadding[badPadding.length - 1] = 200;
    const nack = feedback({ base: 0, count: 1, reference: 0, chunks: [0x2001], deltas: [1] });
    nack[0] = 0x81;

    expect(parse(reserved).status).toBe('reserved-symbol');
    expect(parse(badPadding).status).toBe('bad-padding');
    expect(parse(nack).status).toBe('not-transport-feedback');
  });

  it('leaves no packets behind after a failure', () => {
    const out = new TransportFeedback();
    const good = feedback({ base: 0, count: 2, reference: 0, chunks: [0x2002], deltas: [1, 1] });
    parseTransportFeedback(good, 0, good.length, out);
    const status = parseTransportFeedback(good, 0, 10, out);

    expect(status).toBe('truncated');
    expect(out.statusCount).toBe(0);
  });

  it('returns a status for any bytes at all', () => {
    const out = new TransportFeedback(1024);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, asFeedback) => {
        if (asFeedback && bytes.length >= 2) {
          bytes[0] = 0x8f;
          bytes[1] = 205;
        }
        const status = parseTransportFeedback(bytes, 0, bytes.length, out);
        expect(typeof status).toBe('string');
        if (status === 'ok') expect(out.statusCount).toBeLessThanOrEqual(1024);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('TransportFeedbackWriter', () => {
  it('writes the layout by hand: a run of small deltas, P-bit padding, counted feedbacks', () => {
    const writer = new TransportFeedbackWriter({ senderSsrc: 0x11223344 });
    // Reference: 64 ms (1); deltas 1 ms (4 ticks) after it and between packets.
    writer.onPacket(1000, 65_000);
    writer.onPacket(1001, 66_000);
    writer.onPacket(1002, 67_000);

    const bytes = writer.build(0xaabbccdd);
    const expected = feedback({
      base: 1000,
      count: 3,
      reference: 1,
      feedbackCount: 0,
      chunks: [0x2003],
      deltas: [4, 4, 4],
      padWithP: true,
    });
    expect(bytes).toEqual(expected);
    expect(writer.build(0xaabbccdd)).toBeUndefined();
    writer.onPacket(1003, 68_000);
    expect(writer.build(0xaabbccdd)?.[19]).toBe(1);
  });

  it('reports losses, reordering and the 16-bit wrap, and re-reports a packet that came late', () => {
    const writer = new TransportFeedbackWriter();
    writer.onPacket(65_534, 1_000_000);
    writer.onPacket(0, 1_002_000); // 65535 missing so far
    writer.onPacket(1, 1_001_000); // arrived before 0: a negative delta
    const first = parse(writer.build(1)!).out;

    expect(first.baseSequence).toBe(65_534);
    expect(arrivalsMs(first).map((ms) => (ms === null ? null : ms - arrivalsMs(first)[0]!))).toEqual([
      0,
      null,
      2,
      1,
    ]);

    writer.onPacket(65_535, 1_010_000); // late
    const second = parse(writer.build(1)!).out;
    expect(second.baseSequence).toBe(65_535);
    expect(second.statusCount).toBe(3);
  });

  it('starts a new feedback where a delta would not fit 16 bits', () => {
    const writer = new TransportFeedbackWriter();
    writer.onPacket(10, 0);
    writer.onPacket(11, 9_000_000); // 9 s later: more than 32767 ticks

    const first = parse(writer.build(1)!).out;
    const second = parse(writer.build(1)!).out;
    expect([first.baseSequence, first.statusCount]).toEqual([10, 1]);
    expect([second.baseSequence, second.statusCount]).toEqual([11, 1]);
    expect(second.referenceTime * 64_000 + second.arrivalUs[0]!).toBe(9_000_000);
  });

  it('round-trips any arrival pattern through the parser (to the 250 µs tick)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.array(fc.record({ lost: fc.boolean(), gapUs: fc.integer({ min: -20_000, max: 300_000 }) }), {
          minLength: 1,
          maxLength: 700,
        }),
        (base, packets) => {
          const writer = new TransportFeedbackWriter({ maxPacketsPerFeedback: 300 });
          const expected = new Map<number, number>();
          let arrival = 50_000_000;
          packets.forEach((packet, index) => {
            arrival += packet.gapUs;
            if (packet.lost && index !== packets.length - 1) return;
            const sequence = (base + index) & 0xffff;
            writer.onPacket(sequence, arrival);
            expected.set(sequence, Math.round(arrival / 250) * 250);
          });
          const seen = new Map<number, number>();
          for (let bytes = writer.build(7); bytes; bytes = writer.build(7)) {
            const { status, out } = parse(bytes);
            expect(status).toBe('ok');
            for (let index = 0; index < out.statusCount; index++) {
              const us = out.arrivalUs[index]!;
              if (!Number.isNaN(us))
                seen.set((out.baseSequence + index) & 0xffff, out.referenceTime * 64_000 + us);
            }
          }
          expect(seen).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
