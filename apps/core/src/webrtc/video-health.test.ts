import type { TrackPlan } from '@dragon/ffmpeg-args';
import { describe, expect, it } from 'vitest';
import {
  isWarning,
  judgeVideo,
  keyframeWindowMs,
  type RunVideo,
  readsInRealTime,
  stallMs,
} from './video-health.js';

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
      ['stalled', 'no-keyframe', 'no-parameter-sets', 'b-frames', 'slow'].map((c) => isWarning(c as never)),
    ).toEqual([true, true, true, true, true]);
  });
});

describe('judgeVideo with FFmpeg short of CPU', () => {
  const live = (speed: number | undefined) => ({ speed, realTime: true });

  it('blames the CPU, not the input, when FFmpeg falls behind a real-time input', () => {
    // What a starved transcode looks like from its packets: no keyframe for long, then nothing.
    const late = start + keyframeWindowMs + 1000;
    const noKeyframe = judgeVideo(transcode, flowing(late), late, 'auto', live(0.3));
    expect(noKeyframe).toEqual({
      condition: 'slow',
      message: expect.stringMatching(/^FFmpeg runs at 0\.3× real time: the machine is short of CPU/),
    });
    expect(noKeyframe.message).not.toContain('encoder makes none');
    const now = start + 30_000;
    const stalled = flowing(now, { lastPacketAt: now - stallMs - 2000, decodableKeyframes: 5 });
    expect(judgeVideo(transcode, stalled, now, 'auto', live(0.42)).message).toMatch(/^FFmpeg runs at 0\.42×/);
    const none = { ...flowing(start), packets: 0, firstPacketAt: undefined, lastPacketAt: null };
    expect(judgeVideo(transcode, none, start, 'auto', live(0.1)).condition).toBe('slow');
  });

  it('warns while the video still flows, FFmpeg being behind', () => {
    const now = start + 30_000;
    const video = flowing(now, { keyframes: 30, decodableKeyframes: 30, lastDecodableKeyframeAt: now - 900 });
    expect(judgeVideo(transcode, video, now, 'auto', live(0.8)).condition).toBe('slow');
    expect(judgeVideo(transcode, video, now, 'auto', live(0.98))).toEqual({ condition: 'ok' });
  });

  it('stays slow until FFmpeg is clearly back, and needs a real-time input and a speed to say it', () => {
    const now = start + 30_000;
    const video = flowing(now, { keyframes: 30, decodableKeyframes: 30, lastDecodableKeyframeAt: now - 900 });
    expect(judgeVideo(transcode, video, now, 'auto', live(0.92), 'slow').condition).toBe('slow');
    expect(judgeVideo(transcode, video, now, 'auto', live(0.92), 'ok').condition).toBe('ok');
    expect(judgeVideo(transcode, video, now, 'auto', live(0.97), 'slow').condition).toBe('ok');
    // A file read as fast as FFmpeg can, or no speed yet: nothing to judge by.
    expect(judgeVideo(transcode, video, now, 'auto', { speed: 0.5, realTime: false }).condition).toBe('ok');
    expect(judgeVideo(transcode, video, now, 'auto', live(undefined)).condition).toBe('ok');
    // Without packets and without a speed, the input is still what is awaited.
    const late = start + keyframeWindowMs + 1000;
    expect(judgeVideo(transcode, flowing(late), late, 'auto', live(undefined)).condition).toBe('no-keyframe');
  });
});

describe('readsInRealTime', () => {
  it('is true for -re, -readrate, live protocols and capture devices', () => {
    expect(readsInRealTime([{ address: 'testsrc2=size=640x360', options: ['-re', '-f', 'lavfi'] }])).toBe(
      true,
    );
    expect(readsInRealTime([{ address: 'movie.mp4', options: ['-readrate', '1'] }])).toBe(true);
    expect(readsInRealTime([{ address: 'rtsp://camera/stream', options: [] }])).toBe(true);
    expect(readsInRealTime([{ address: 'srt://0.0.0.0:6000?mode=listener', options: [] }])).toBe(true);
    expect(readsInRealTime([{ address: 'rtmp://127.0.0.1/live/cam', options: ['-listen', '1'] }])).toBe(true);
    expect(readsInRealTime([{ address: '/dev/video0', options: ['-f', 'v4l2'] }])).toBe(true);
  });

  it('is false for files and patterns read as fast as FFmpeg can', () => {
    expect(readsInRealTime([{ address: 'movie.mp4', options: [] }])).toBe(false);
    expect(readsInRealTime([{ address: 'testsrc2', options: ['-f', 'lavfi'] }])).toBe(false);
    expect(readsInRealTime([{ address: 'https://example.com/video.mp4', options: [] }])).toBe(false);
  });
});
