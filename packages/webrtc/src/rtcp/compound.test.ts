import { describe, expect, it } from 'vitest';
import { type ReportBlock, RtcpCompoundReader, readReportBlock } from './compound.js';
import { parseRemb, Remb, writeRemb } from './remb.js';
import { parseTransportFeedback, TransportFeedback } from './twcc-feedback.js';
import { TransportFeedbackWriter } from './twcc-feedback-writer.js';

/** A sender report with one report block: SSRC 0x0a, block for 0xbb with 25 % lost. */
function senderReport(): Uint8Array {
  const bytes = new Uint8Array(52);
  bytes.set([0x81, 200, 0x00, 12, 0, 0, 0, 0x0a]);
  // 20 bytes of sender info, then the block.
  bytes.set([0, 0, 0, 0xbb, 64, 0xff, 0xff, 0xfe, 0, 1, 0, 7], 28);
  return bytes;
}

function receiverReport(blocks: number): Uint8Array {
  const bytes = new Uint8Array(8 + blocks * 24);
  bytes.set([0x80 | blocks, 201, 0x00, 1 + blocks * 6, 0, 0, 0, 0x0c]);
  for (let index = 0; index < blocks; index++) bytes.set([0, 0, 0, 0x10 + index, 128], 8 + index * 24);
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function twcc(): Uint8Array {
  const writer = new TransportFeedbackWriter();
  writer.onPacket(5, 1000);
  writer.onPacket(7, 3000);
  return writer.build(0xbb)!;
}

describe('RtcpCompoundReader', () => {
  it('finds SR, transport-wide feedback and REMB in one compound, and reads each in place', () => {
    const compound = concat(senderReport(), twcc(), writeRemb(550_000, 0x0c, [0xbb]));
    const reader = new RtcpCompoundReader().reset(compound);
    const kinds: string[] = [];
    const feedback = new TransportFeedback();
    const remb = new Remb();
    const block = {} as ReportBlock;

    while (reader.next()) {
      kinds.push(reader.kind);
      if (reader.kind === 'sender-report') {
        expect(reader.reportBlockCount).toBe(1);
        readReportBlock(compound, reader.reportBlockOffset(0), block);
      }
      if (reader.kind === 'transport-feedback') {
        expect(parseTransportFeedback(compound, reader.offset, reader.length, feedback)).toBe('ok');
      }
      if (reader.kind === 'remb') expect(parseRemb(compound, reader.offset, reader.length, remb)).toBe('ok');
    }

    expect(kinds).toEqual(['sender-report', 'transport-feedback', 'remb']);
    expect(reader.error).toBeUndefined();
    expect(block).toMatchObject({
      ssrc: 0xbb,
      fractionLost: 0.25,
      cumulativeLost: -2,
      highestSequence: 65_543,
    });
    expect([feedback.baseSequence, feedback.statusCount, feedback.receivedCount]).toEqual([5, 3, 2]);
    expect(remb.bitrateBps).toBe(550_000);
  });

  it('tells NACK and PLI apart from the feedback it looks for', () => {
    const nack = Uint8Array.from([0x81, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 5, 0, 0]);
    const pli = Uint8Array.from([0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]);
    const reader = new RtcpCompoundReader().reset(concat(receiverReport(2), nack, pli));
    const kinds: string[] = [];
    while (reader.next()) kinds.push(reader.kind);

    expect(kinds).toEqual(['receiver-report', 'generic-nack', 'picture-loss']);
  });

  it('stops at a packet whose length runs past the datagram, after the packets before it', () => {
    const compound = concat(receiverReport(1), twcc());
    const reader = new RtcpCompoundReader().reset(compound.subarray(0, compound.length - 4));
    const kinds: string[] = [];
    while (reader.next()) kinds.push(reader.kind);

    expect(kinds).toEqual(['receiver-report']);
    expect(reader.error).toBe('truncated');
    expect(reader.next()).toBe(false);
  });

  it('stops at a header that is not RTCP version 2, and at a stub of a header', () => {
    const notRtcp = new RtcpCompoundReader().reset(
      concat(receiverReport(0), Uint8Array.from([0x40, 201, 0, 0])),
    );
    while (notRtcp.next());
    const stub = new RtcpCompoundReader().reset(concat(receiverReport(0), Uint8Array.from([0x80, 201])));
    while (stub.next());

    expect(notRtcp.error).toBe('bad-version');
    expect(stub.error).toBe('truncated');
  });

  it('counts only the report blocks that fit in the packet', () => {
    const lying = receiverReport(1);
    lying[0] = 0x80 | 5; // claims five blocks, holds one
    const reader = new RtcpCompoundReader().reset(lying);

    expect(reader.next()).toBe(true);
    expect(reader.reportBlockCount).toBe(1);
  });
});
