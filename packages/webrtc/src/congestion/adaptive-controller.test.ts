import { describe, expect, it } from 'vitest';
import { parseTransportFeedback, TransportFeedback } from '../rtcp/twcc-feedback.js';
import { TransportFeedbackWriter } from '../rtcp/twcc-feedback-writer.js';
import { AdaptiveController } from './adaptive-controller.js';
import { packetKind, SendRecord } from './send-record.js';

const renditions = [{ bitrateBps: 2_000_000 }, { bitrateBps: 350_000 }];

function feedbackFor(writer: TransportFeedbackWriter): TransportFeedback {
  const bytes = writer.build(1)!;
  const feedback = new TransportFeedback();
  expect(parseTransportFeedback(bytes, 0, bytes.length, feedback)).toBe('ok');
  return feedback;
}

describe('AdaptiveController', () => {
  it('starts on the given rendition with the estimate at its need, pacing above it', () => {
    const controller = new AdaptiveController(new SendRecord(), { renditions, start: 1 });

    expect(controller.rendition).toBe(1);
    expect(controller.estimateBps).toBeCloseTo(1.155 * 350_000 + 87_000);
    expect(controller.pacingRateBps).toBeGreaterThanOrEqual(1.1 * (1.155 * 350_000 + 87_000));
  });

  it('decides nothing on feedback about packets it never sent, and counts them', () => {
    const controller = new AdaptiveController(new SendRecord(), { renditions });
    const writer = new TransportFeedbackWriter();
    writer.onPacket(7, 1000);

    expect(controller.onFeedback(0, feedbackFor(writer))).toBeUndefined();
    expect(controller.unmatchedPackets).toBe(1);
  });

  it('joins feedback with its record: acknowledged rate and loss from what the viewer reported', () => {
    const record = new SendRecord();
    const controller = new AdaptiveController(record, { renditions, start: 1 });
    const writer = new TransportFeedbackWriter();
    // 1 s of 1000-byte packets every 10 ms (0.8 Mbit/s + headers), one in ten lost.
    for (let sequence = 0; sequence < 100; sequence++) {
      record.record(sequence, sequence * 10_000, 1000, packetKind.media);
      if (sequence % 10 !== 4) writer.onPacket(sequence, 5_000_000 + sequence * 10_000);
    }
    controller.onFeedback(1000, feedbackFor(writer));

    expect(controller.loss).toBeCloseTo(0.1, 2);
    // What arrived: 90 packets a second of 1028 bytes on the wire (IP and UDP headers added).
    expect(controller.ackedBps).toBeGreaterThan(0.72e6);
    expect(controller.ackedBps).toBeLessThan(0.76e6);
  });

  it('passes pins and rendition changes through as decisions, and says where the viewer is', () => {
    const controller = new AdaptiveController(new SendRecord(), { renditions });

    expect(controller.pin(0, 1)).toMatchObject({ kind: 'switch', rendition: 1, reason: 'pinned' });
    expect(controller.targetRendition).toBe(1);
    controller.onSwitched(10, 1);
    expect(controller.rendition).toBe(1);
    expect(controller.pin(20, 'auto')).toBeUndefined();
    expect(
      controller.setRenditions(30, [renditions[0]!, { ...renditions[1]!, active: false }]),
    ).toMatchObject({
      rendition: -1,
      reason: 'layer-gone',
    });
    expect(controller.lastReason).toBe('layer-gone');
  });
});
