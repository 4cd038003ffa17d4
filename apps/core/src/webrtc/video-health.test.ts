import type { TrackPlan } from '@dragon/ffmpeg-args';
import { describe, expect, it } from 'vitest';
import { isWarning, judgeVideo, keyframeWindowMs, type RunVideo, stallMs } from './video-health.js';

const copy: TrackPlan = {
  action: 'copy',
  from: 'h264',
  to: 'h264',
  stream: '0:0',
  reason: 'copied',
  cpu_cores: 0,
};
const transcode: TrackPlan = {
  action: 'transcode',
  from: 'hevc',
  to: 'h264',
  stream: '0:0',
  reason: 'HEVC',
  cpu_cores: 1,
};
const off: TrackPlan = {
  action: 'off',
  from: 'none',
  to: 'none',
  reason: 'the input has no video stream',
  cpu_cores: 0,
};

const start = 1_000_000;
/** A run whose packets began at `start` and still arrive at `now`. */
function flowing(now: number, fields: Partial<RunVideo> = {}): RunVideo {
  return {
    packets: 500,
    keyframes: 0,
    decodableKeyframes: 0,
    reorderedAccessUnits: 0,
    firstPacketAt: start,
    lastPacketAt: now,
    lastDecodableKeyframeAt: null,
    ...fields,
  };
}

describe('judgeVideo', () => {
  it('is off without a video leg, and waiting before the first packet', () => {
    expect(judgeVideo(off, flowing(start), start, 'auto')).toEqual({ condition: 'off' });
    const none = { ...flowing(start), packets: 0, firstPacketAt: undefined, lastPacketAt: null };
    expect(judgeVideo(copy, none, start + 60_000, 'auto').condition).toBe('waiting');
  });

  it('is ok while decodable keyframes keep coming', () => {
    const now = start + 30_000;
    const video = flowing(now, { keyframes: 30, decodableKeyframes: 30, lastDecodableKeyframeAt: now - 900 });
    expect(judgeVideo(copy, video, now, 'auto')).toEqual({ condition: 'ok' });
  });

  it('waits for the first keyframe within the window, then warns that none came', () => {
    expect(judgeVideo(copy, flowing(start + 2000), start + 2000, 'auto').condition).toBe('waiting');
    const late = start + keyframeWindowMs + 1000;
    const verdict = judgeVideo(copy, flowing(late), late, 'auto');
    expect(verdict.condition).toBe('no-keyframe');
    expect(verdict.message).toContain("the input's keyframe interval");
    expect(judgeVideo(transcode, flowing(late), late, 'auto').message).toContain('the encoder makes none');
  });

  it('names keyframes without parameter sets, the RTSP camera case', () => {
    const late = start + keyframeWindowMs + 1000;
    const verdict = judgeVideo(copy, flowing(late, { keyframes: 4 }), late, 'auto');
    expect(verdict.condition).toBe('no-parameter-sets');
    expect(verdict.message).toContain('SPS/PPS');
  });

  it('warns when keyframes stop coming for longer than the window', () => {
    const now = start + 60_000;
    const video = flowing(now, {
      keyframes: 3,
      decodableKeyframes: 3,
      lastDecodableKeyframeAt: now - 20_000,
    });
    expect(judgeVideo(copy, video, now, 'auto')).toMatchObject({
      condition: 'no-keyframe',
      message: expect.stringContaining('20 s'),
    });
  });

  it('says B-frames on a copied leg, and what happens next depends on the setting', () => {
    const now = start + 3000;
    const video = flowing(now, {
      reorderedAccessUnits: 12,
      decodableKeyframes: 1,
      lastDecodableKeyframeAt: now,
    });
    expect(judgeVideo(copy, video, now, 'auto')).toMatchObject({
      condition: 'b-frames',
      message: expect.stringContaining('transcoded from the next start'),
    });
    expect(judgeVideo(copy, video, now, 'copy').message).toContain('set video to transcode');
  });

  it('says stalled when video stops after it flowed', () => {
    const now = start + 30_000;
    const video = flowing(now, { lastPacketAt: now - stallMs - 2000, decodableKeyframes: 5 });
    expect(judgeVideo(transcode, video, now, 'auto').condition).toBe('stalled');
  });

  it('counts only real problems as warnings', () => {
    expect(['off', 'waiting', 'ok'].map((c) => isWarning(c as never))).toEqual([false, false, false]);
    expect(
      ['stalled', 'no-keyframe', 'no-parameter-sets', 'b-frames'].map((c) => isWarning(c as never)),
    ).toEqual([true, true, true, true]);
  });
});
