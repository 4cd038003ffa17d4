import { describe, expect, it } from 'vitest';
import { packetKind } from '../congestion/send-record.js';
import { TransportFeedbackWriter } from '../rtcp/twcc-feedback-writer.js';
import { type AdaptationMove, ViewerAdaptation } from './viewer-adaptation.js';

const renditions = [{ bitrateBps: 2_000_000 }, { bitrateBps: 350_000 }];

describe('ViewerAdaptation', () => {
  it('follows pins: a rendition or audio only moves the viewer, auto hands it back without a move', () => {
    const adaptation = new ViewerAdaptation({ renditions, start: 0 });
    expect(adaptation.pin(0, 1)).toMatchObject({ rendition: 1 });
    adaptation.switched(10, 1);
    expect(adaptation.pin(20, 'audio')).toMatchObject({ rendition: 'audio' });
    adaptation.switched(30, -1);
    expect(adaptation.pin(40, 'auto')).toBeUndefined();
    expect(adaptation.rendition).toBe(-1);
  });

  it('ignores what is not a transport-wide feedback packet', () => {
    const adaptation = new ViewerAdaptation({ renditions, start: 0, feedback: 'transport-cc' });
    expect(adaptation.feedback(0, new Uint8Array([0x80, 200, 0, 1, 0, 0, 0, 0]))).toBeUndefined();
    expect(adaptation.feedback(0, new Uint8Array(3))).toBeUndefined();
  });

  it('moves the viewer down when its feedback shows the top does not get through', () => {
    const adaptation = new ViewerAdaptation({ renditions, start: 0, feedback: 'transport-cc' });
    const writer = new TransportFeedbackWriter();
    const moves: AdaptationMove[] = [];
    // The top at 1.9 Mbit/s (a 1200-byte packet every 5 ms) into a link that carries half of it.
    let sequence = 0;
    for (let now = 0; now < 3000 && moves.length === 0; now += 5) {
      adaptation.record.record(sequence, now * 1000, 1200, packetKind.media);
      if (sequence % 2 === 0) writer.onPacket(sequence, now * 1000 + 20_000 + sequence * 2_000);
      sequence++;
      if (now % 100 !== 95) continue;
      for (let bytes = writer.build(0x1234); bytes; bytes = writer.build(0x1234)) {
        const move = adaptation.feedback(now + 20, bytes);
        if (move) moves.push({ ...move });
      }
    }
    expect(moves.length).toBeGreaterThan(0);
    expect(moves[0]!.rendition).not.toBe(0);
  });
});
