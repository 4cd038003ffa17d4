import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InputFacts, MediaFacts, StreamFacts } from './input-facts.js';
import { planMedia } from './media-plan.js';
import { checkPlan } from './plan-check.js';
import { webRtcConfigSchema } from './webrtc-config.js';

const auto = webRtcConfigSchema.parse({ enabled: true });
const h264: StreamFacts = { index: 0, kind: 'video', codec: 'h264', profile: 'High', pix_fmt: 'yuv420p' };
const aac: StreamFacts = { index: 1, kind: 'audio', codec: 'aac', sample_rate: 44_100, channels: 2 };
const opus: StreamFacts = { index: 1, kind: 'audio', codec: 'opus', sample_rate: 48_000, channels: 2 };
const input = (source: InputFacts['source'], ...streams: StreamFacts[]): InputFacts => ({
  source,
  format: 'flv',
  listening: true,
  streams,
});

describe('checkPlan', () => {
  it('fits a copy planned from a probe when the banner cannot tell B-frames', () => {
    const plan = planMedia(input('probe', { ...h264, reorders: false }, aac), auto);
    expect(plan.video.action).toBe('copy');
    expect(checkPlan(plan, input('banner', h264, aac), auto)).toEqual({ fits: true, reasons: [] });
  });

  it('does not fit when the planned audio stream is missing from the run', () => {
    const plan = planMedia(input('banner', h264, aac), auto);
    const check = checkPlan(plan, input('banner', h264), auto);
    expect(check.fits).toBe(false);
    expect(check.reasons).toEqual(['the input has no audio stream at 0:1']);
  });

  it('does not fit when the conservative plan maps audio the publisher does not send', () => {
    const plan = planMedia(undefined, auto);
    const check = checkPlan(plan, input('banner', h264), auto);
    expect(check.reasons).toEqual(['the input has no audio stream at 0:a:0']);
  });

  it('fits the conservative plan when the publisher sends both tracks, whatever their codecs', () => {
    const plan = planMedia(undefined, auto);
    expect(checkPlan(plan, input('banner', { ...h264, codec: 'hevc' }, aac), auto).fits).toBe(true);
  });

  it('does not fit when a copied stream changed codec', () => {
    const plan = planMedia(input('probe', h264, opus), auto);
    const check = checkPlan(plan, input('banner', h264, { ...opus, codec: 'aac' }), auto);
    expect(check.reasons).toEqual(['audio changed from opus to aac; it was copied']);
  });

  it('does not fit when copied H.264 now shows B-frames', () => {
    const plan = planMedia(input('probe', { ...h264, reorders: false }), auto);
    const check = checkPlan(plan, input('probe', { ...h264, reorders: true }), auto);
    expect(check.reasons).toEqual(['copied video does not play: H.264 with B-frames (frames out of order)']);
  });

  it('keeps an explicit copy that was warned about', () => {
    const copy = { ...auto, video: 'copy' as const };
    const plan = planMedia(input('probe', { ...h264, codec: 'hevc' }), copy);
    expect(plan.video.warning).toBeDefined();
    expect(checkPlan(plan, input('banner', { ...h264, codec: 'hevc' }), copy).fits).toBe(true);
  });

  it('does not fit when a track planned off for lack of a stream now has one', () => {
    const plan = planMedia(input('banner', h264), auto);
    const check = checkPlan(plan, input('banner', h264, aac), auto);
    expect(check.reasons).toEqual(['the input now has audio (aac), planned off']);
  });

  it('fits audio off by choice whatever the input sends', () => {
    const off = { ...auto, audio: 'off' as const };
    const plan = planMedia(input('banner', h264), off);
    expect(checkPlan(plan, input('banner', h264, aac), off).fits).toBe(true);
  });

  it('never rejects the plan made from the same facts, so restarting on a misfit cannot loop', () => {
    const stream = fc.record(
      {
        index: fc.nat(3),
        kind: fc.constantFrom('video' as const, 'audio' as const, 'other' as const),
        codec: fc.constantFrom('h264', 'h264', 'opus', 'hevc', 'aac', 'png', ''),
        profile: fc.constantFrom('High', 'Main', 'Constrained Baseline', 'High 10', 'LC'),
        pix_fmt: fc.constantFrom('yuv420p', 'yuvj420p', 'yuv420p10le'),
        field_order: fc.constantFrom('progressive', 'tt'),
        reorders: fc.boolean(),
        attached_pic: fc.boolean(),
        sample_rate: fc.constantFrom(48_000, 44_100),
        channels: fc.constantFrom(1, 2, 6),
      },
      { requiredKeys: ['index', 'kind', 'codec'] },
    );
    const inputFacts = fc.record({
      source: fc.constantFrom('probe' as const, 'banner' as const),
      format: fc.constant('mpegts'),
      listening: fc.boolean(),
      streams: fc.uniqueArray(stream, { selector: (s) => s.index, maxLength: 4 }),
    });
    const facts: fc.Arbitrary<MediaFacts> = fc.array(fc.option(inputFacts, { nil: undefined }), {
      minLength: 1,
      maxLength: 3,
    });
    const settings = fc.record({
      video: fc.constantFrom('auto' as const, 'copy' as const, 'transcode' as const),
      audio: fc.constantFrom('auto' as const, 'copy' as const, 'transcode' as const, 'off' as const),
      force_transcode: fc.boolean(),
      max_height: fc.constantFrom(0, 360, 720),
      cpu_budget: fc.option(
        fc.record({ cores: fc.constantFrom(0, 0.005, 0.5, 1, 4), why: fc.constant('a budget') }),
        { nil: undefined },
      ),
    });
    fc.assert(
      fc.property(facts, settings, (someFacts, someSettings) => {
        const check = checkPlan(planMedia(someFacts, someSettings), someFacts, someSettings);
        expect(check).toEqual({ fits: true, reasons: [] });
      }),
      { numRuns: 2000 },
    );
  });
});
