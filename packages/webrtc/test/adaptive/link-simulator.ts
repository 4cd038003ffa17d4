/**
 * A deterministic trace of one adaptive viewer, in 1 ms steps of trace time: the media source,
 * the data plane's part (the viewer's pacer, transport-wide sequence numbers, the send record,
 * switching at keyframes, pausing, padding probes), the path (`Bottleneck`), and the browser's part
 * (Chromium's receiver: arrival times on its own clock, a transport-wide feedback every 100 ms built
 * with `TransportFeedbackWriter`). Feedback bytes come back over the path and go through the real
 * parser, join and controller, exactly as the shard will drive them. Nothing here reads a clock.
 */
import {
  AdaptiveController,
  type BandwidthUsage,
  type Decision,
} from '../../src/congestion/adaptive-controller.js';
import { type PacketKind, packetKind, SendRecord } from '../../src/congestion/send-record.js';
import { parseTransportFeedback, TransportFeedback } from '../../src/rtcp/twcc-feedback.js';
import { TransportFeedbackWriter } from '../../src/rtcp/twcc-feedback-writer.js';
import { Bottleneck, type BottleneckOptions } from './bottleneck.js';
import { MediaSource, type RenditionSpec } from './media-source.js';
import { seededRandom } from './prng.js';

export interface SimulationOptions {
  seed: number;
  durationMs: number;
  /** High to low, as the controller indexes them. */
  renditions: readonly RenditionSpec[];
  /** @default 0 (the top, as Dragon starts viewers) */
  start?: number;
  link: Omit<BottleneckOptions, 'stalls'>;
  /** Receiver stalls (the browser reads nothing, then everything): gaps and lengths drawn in these ranges. */
  stalls?: StallPattern;
  /** Stalls of our own data plane (a busy machine): nothing is sent or read, then the backlog. */
  senderStalls?: StallPattern;
  /** @default 100 */
  feedbackIntervalMs?: number;
}

export interface StallPattern {
  gapMs: [number, number];
  stallMs: [number, number];
}

export interface Switch {
  atMs: number;
  /** -1: video paused (audio only). */
  rendition: number;
}

export interface DecisionRecord extends Decision {
  atMs: number;
}

export interface SimulationResult {
  /** Renditions as the viewer received them: each change, when it took effect. */
  timeline: Switch[];
  decisions: DecisionRecord[];
  /** After each feedback. */
  samples: {
    atMs: number;
    estimateBps: number;
    queueDelayMs: number;
    loss: number;
    usage: BandwidthUsage;
    rendition: number;
  }[];
  controller: AdaptiveController;
  link: Bottleneck;
  /** How many times our own data plane stalled. */
  senderStalls: number;
}

const ipUdpBytes = 28;
const paddingBytes = 255;
/** The receiver's clock is not ours: its origin is far from trace time 0 (only differences matter). */
const receiverClockOffsetUs = 987_654_321_000;

export function simulate(options: SimulationOptions): SimulationResult {
  const random = seededRandom(options.seed);
  const link = new Bottleneck(
    { ...options.link, stalls: makeStalls(options.stalls, options.durationMs, random) },
    random,
  );
  const senderStalls = makeStalls(options.senderStalls, options.durationMs, random);
  const media = new MediaSource(options.renditions);
  const record = new SendRecord();
  const start = options.start ?? 0;
  const controller = new AdaptiveController(record, {
    renditions: options.renditions.map(({ bitrateBps }) => ({ bitrateBps })),
    start,
  });
  const writer = new TransportFeedbackWriter();
  const feedback = new TransportFeedback();
  const result: SimulationResult = {
    timeline: [{ atMs: 0, rendition: start }],
    decisions: [],
    samples: [],
    controller,
    link,
    senderStalls: senderStalls.length,
  };

  let current = start; // what is sent; -1 paused
  let pending: number | undefined; // waiting for its keyframe
  let probeUntilMs = -1;
  let sequence = 65_000; // wraps within the first seconds
  let budgetBytes = 0;
  const videoQueue: number[] = [];
  let audioQueued = 0;
  const toReceiver: [number, number][] = []; // [read at, sequence]
  const toSender: [number, Uint8Array][] = []; // [arrives at, feedback]
  let nextFeedbackMs = options.feedbackIntervalMs ?? 100;

  const switchTo = (atMs: number, rendition: number) => {
    current = rendition;
    controller.onSwitched(atMs, rendition);
    result.timeline.push({ atMs, rendition });
  };
  const pauseVideo = (atMs: number) => {
    videoQueue.length = 0;
    if (current !== -1) switchTo(atMs, -1);
  };
  const apply = (atMs: number, decision: Decision) => {
    result.decisions.push({ atMs, ...decision });
    if (decision.kind === 'probe') probeUntilMs = atMs + decision.probeDurationMs;
    if (decision.kind === 'probe-stop') probeUntilMs = -1;
    if (decision.kind !== 'switch') return;
    probeUntilMs = -1;
    pending = undefined;
    if (decision.rendition < 0 || decision.pauseNow) pauseVideo(atMs);
    if (decision.rendition >= 0 && decision.rendition !== current) pending = decision.rendition;
  };
  const send = (atMs: number, bytes: number, kind: PacketKind) => {
    record.record(sequence, atMs * 1000, bytes, kind);
    const readAt = link.send(atMs, bytes + ipUdpBytes);
    if (readAt !== undefined) toReceiver.push([readAt, sequence & 0xffff]);
    sequence = (sequence + 1) & 0xffff;
    budgetBytes -= bytes + ipUdpBytes;
  };

  for (let now = 0; now < options.durationMs; now++) {
    // The source: frames of every rendition; the viewer's go to its pacer; switches at keyframes.
    for (const frame of media.framesAt(now)) {
      if (frame.rendition === pending && frame.keyframe) {
        pending = undefined;
        switchTo(now, frame.rendition);
      }
      if (frame.rendition === current) videoQueue.push(...frame.packets);
    }
    if (media.audioAt(now) > 0) audioQueued++;
    const shardRuns = !within(senderStalls, now);
    // The pacer: audio never waits; video and padding within the budget.
    if (shardRuns) {
      const rateBps = controller.pacingRateBps;
      budgetBytes = Math.min(budgetBytes + rateBps / 8000, Math.max(1500, (rateBps / 8000) * 5));
      for (; audioQueued > 0; audioQueued--) send(now, media.audioAt(0), packetKind.audio);
      while (videoQueue.length > 0 && budgetBytes > 0) send(now, videoQueue.shift()!, packetKind.media);
      while (now < probeUntilMs && videoQueue.length === 0 && budgetBytes > 0)
        send(now, paddingBytes, packetKind.probe);
    }
    // The browser: reads what arrived; sends feedback on its timer, late when it stalled.
    toReceiver.sort((a, b) => a[0] - b[0]);
    while (toReceiver.length > 0 && toReceiver[0]![0] <= now) {
      const [readAt, seq] = toReceiver.shift()!;
      writer.onPacket(seq, Math.round(readAt * 1000) + receiverClockOffsetUs);
    }
    if (now >= nextFeedbackMs && link.afterStalls(now) === now) {
      for (let bytes = writer.build(0x1234); bytes; bytes = writer.build(0x1234)) {
        toSender.push([now + link.delayMs, bytes]);
      }
      nextFeedbackMs = now + (options.feedbackIntervalMs ?? 100);
    }
    // The shard: each feedback through the parser and the controller.
    while (shardRuns && toSender.length > 0 && toSender[0]![0] <= now) {
      const [, bytes] = toSender.shift()!;
      if (parseTransportFeedback(bytes, 0, bytes.length, feedback) !== 'ok') throw new Error('bad feedback');
      const decision = controller.onFeedback(now, feedback);
      if (decision) apply(now, decision);
      result.samples.push({
        atMs: now,
        estimateBps: controller.estimateBps,
        queueDelayMs: controller.queueDelayMs,
        loss: controller.loss,
        usage: controller.usage,
        rendition: current,
      });
    }
  }
  return result;
}

function makeStalls(
  pattern: StallPattern | undefined,
  durationMs: number,
  random: () => number,
): [number, number][] {
  const stalls: [number, number][] = [];
  if (!pattern) return stalls;
  const draw = ([low, high]: [number, number]) => low + random() * (high - low);
  for (let at = draw(pattern.gapMs); at < durationMs; ) {
    const end = at + draw(pattern.stallMs);
    stalls.push([at, end]);
    at = end + draw(pattern.gapMs);
  }
  return stalls;
}

function within(stalls: readonly [number, number][], atMs: number): boolean {
  for (const [start, end] of stalls) {
    if (atMs >= start && atMs < end) return true;
    if (start > atMs) return false;
  }
  return false;
}
