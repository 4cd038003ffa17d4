import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RtcpPacketConverter, RtcpTransportLayerFeedback, TransportWideCC } from 'werift';
import { RtcpCompoundReader } from './compound.js';
import { parseTransportFeedback, TransportFeedback } from './twcc-feedback.js';

/**
 * Feedback Chromium sent to a werift sender, decrypted, with Wireshark's decoding of each packet
 * beside it (test/fixtures/transport-feedback/capture.mjs made both).
 */
interface Fixture {
  chromium: string;
  packets: {
    shows: string[];
    hex: string;
    wireshark: {
      baseSequence: number;
      statusCount: number;
      referenceTime: number;
      feedbackCount: number;
      /** [sequence number, receive delta in ms] per received packet, in order. */
      received: [number, number][];
    };
  }[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/transport-feedback/chromium.json', import.meta.url), 'utf8'),
) as Fixture;

/** Our reading of one captured compound, in Wireshark's terms. */
function readWithOurParser(hex: string) {
  const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
  const reader = new RtcpCompoundReader().reset(bytes);
  const feedback = new TransportFeedback();
  const statuses: string[] = [];
  while (reader.next()) {
    if (reader.kind === 'transport-feedback') {
      statuses.push(parseTransportFeedback(bytes, reader.offset, reader.length, feedback));
    }
  }
  const received: [number, number][] = [];
  let previousUs = 0;
  for (let index = 0; index < feedback.statusCount; index++) {
    const arrivalUs = feedback.arrivalUs[index]!;
    if (Number.isNaN(arrivalUs)) continue;
    received.push([(feedback.baseSequence + index) & 0xffff, (arrivalUs - previousUs) / 1000]);
    previousUs = arrivalUs;
  }
  return { statuses, walkError: reader.error, feedback, received };
}

describe(`transport-wide feedback captured from Chromium ${fixture.chromium}`, () => {
  it('covers every layout the parser handles', () => {
    const shown = new Set(fixture.packets.flatMap((packet) => packet.shows));
    expect([...shown].sort()).toEqual(
      [
        '1-bit status vector',
        '2-bit status vector',
        'large delta',
        'negative delta',
        'no padding',
        'packets not received',
        'padding with the P bit',
        'run-length chunk',
      ].sort(),
    );
  });

  for (const packet of fixture.packets) {
    it(`reads it as Wireshark does: ${packet.shows.join(', ')}`, () => {
      const { statuses, walkError, feedback, received } = readWithOurParser(packet.hex);

      expect(walkError).toBeUndefined();
      expect(statuses).toEqual(['ok']);
      expect({
        baseSequence: feedback.baseSequence,
        statusCount: feedback.statusCount,
        referenceTime: feedback.referenceTime,
        feedbackCount: feedback.feedbackCount,
      }).toEqual({
        baseSequence: packet.wireshark.baseSequence,
        statusCount: packet.wireshark.statusCount,
        referenceTime: packet.wireshark.referenceTime,
        feedbackCount: packet.wireshark.feedbackCount,
      });
      expect(received).toEqual(packet.wireshark.received);
      expect(feedback.receivedCount).toBe(packet.wireshark.received.length);
    });
  }

  it("agrees with werift 0.25.2's parser on the receive deltas of every captured packet", () => {
    for (const packet of fixture.packets) {
      const [packetOfWerift] = RtcpPacketConverter.deSerialize(Buffer.from(packet.hex, 'hex'));
      const { received } = readWithOurParser(packet.hex);

      expect(packetOfWerift).toBeInstanceOf(RtcpTransportLayerFeedback);
      const werift = (packetOfWerift as RtcpTransportLayerFeedback).feedback;
      expect(werift).toBeInstanceOf(TransportWideCC);
      const deltas = (werift as TransportWideCC).recvDeltas.map(
        (delta) => (delta.delta ?? Number.NaN) / 1000,
      );
      expect(deltas).toEqual(received.map(([, ms]) => ms));
    }
  });
});
