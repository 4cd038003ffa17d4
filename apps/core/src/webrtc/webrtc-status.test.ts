import { describe, expect, it } from 'vitest';
import { renditionFigures, viewerStatus, type WebRtcState } from './webrtc-status.js';

const track = { action: 'copy', from: 'h264', to: 'h264' } as const;
const rendition = (id: string, kind: string, height?: number) => ({
  id,
  kind,
  action: kind === 'top' ? 'copy' : 'transcode',
  ...(height === undefined ? {} : { height }),
  bitrate_kbit: 0,
  estimated_cpu: 0,
  reason: '',
});
/** The parts of a state `viewerStatus` reads: a copied 720p top with a ladder. */
const state = {
  plan: {
    video: track,
    audio: { action: 'transcode', from: 'aac', to: 'opus' },
    renditions: [
      rendition('720p', 'top', 720),
      rendition('360p', 'rung', 360),
      rendition('240p', 'rung', 240),
      rendition('audio', 'audio-only'),
    ],
  },
  health: { status: 'ok', video: 'ok' },
} as unknown as WebRtcState;

describe("the player's status of an adaptive viewer", () => {
  it('names the rendition as the plan does, with its height, the estimate in kbit/s and the loss in percent', () => {
    const status = viewerStatus('running', state, {
      rendition: '360p',
      estimateBps: 551_400,
      loss: 0.0123,
      switches: 2,
    });

    expect(status.viewer).toEqual({
      rendition: '360p',
      height: 360,
      estimate_kbit: 551,
      loss_percent: 1.2,
      switches: 2,
    });
  });

  it("calls the data plane's top by the plan's name for it", () => {
    const status = viewerStatus('running', state, {
      rendition: 'top',
      estimateBps: 3e6,
      loss: 0,
      switches: 0,
    });

    expect(status.viewer).toMatchObject({ rendition: '720p', height: 720 });
  });

  it('gives audio only no height', () => {
    const status = viewerStatus('running', state, { rendition: 'audio', estimateBps: 120_000, switches: 1 });

    expect(status.viewer).toEqual({
      rendition: 'audio',
      estimate_kbit: 120,
      loss_percent: 0,
      switches: 1,
    });
  });

  it('says nothing of a viewer that is not adaptive, or of no session', () => {
    expect(viewerStatus('running', state, { switches: 0 })).not.toHaveProperty('viewer');
    expect(viewerStatus('running', state)).not.toHaveProperty('viewer');
  });
});

describe('what the renditions of a running source received, in the state', () => {
  it('names each as the plan does, with its packets, bitrate and keyframes', () => {
    const received = [
      { id: 'top', active: true, packets: 900, bitrateBps: 2_012_400, keyframes: 12, keyframeAgeMs: 420 },
      { id: '360p', active: true, packets: 300, bitrateBps: 351_000, keyframes: 24, keyframeAgeMs: 60 },
      { id: '240p', active: false, packets: 0, bitrateBps: 0, keyframes: 0, keyframeAgeMs: null },
    ];

    expect(renditionFigures(received, state.plan)).toEqual([
      {
        id: '720p',
        active: true,
        packets: 900,
        bitrate_kbit: 2012,
        keyframes: 12,
        last_keyframe_seconds_ago: 0.4,
      },
      {
        id: '360p',
        active: true,
        packets: 300,
        bitrate_kbit: 351,
        keyframes: 24,
        last_keyframe_seconds_ago: 0.1,
      },
      { id: '240p', active: false, packets: 0, bitrate_kbit: 0, keyframes: 0 },
    ]);
  });
});
