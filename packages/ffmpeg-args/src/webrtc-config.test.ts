import { describe, expect, it } from 'vitest';
import { webRtcConfigSchema } from './webrtc-config.js';

describe('webRtcConfigSchema', () => {
  it('defaults to disabled, payload types 96 and 111, both tracks auto, and the transcode caps', () => {
    expect(webRtcConfigSchema.parse({})).toEqual({
      enabled: false,
      video_pt: 96,
      audio_pt: 111,
      force_transcode: false,
      video: 'auto',
      audio: 'auto',
      max_height: 720,
      max_bitrate_kbit: 2500,
      gop_seconds: 1,
      token: '',
    });
  });

  it.each([
    [false, 'off'],
    [true, 'auto'],
  ] as const)('reads a stored config with audio: %s as %s', (stored, mode) => {
    expect(webRtcConfigSchema.parse({ enabled: true, audio: stored }).audio).toBe(mode);
  });

  it('takes the track modes by name', () => {
    const config = webRtcConfigSchema.parse({ video: 'copy', audio: 'transcode' });
    expect([config.video, config.audio]).toEqual(['copy', 'transcode']);
  });

  it('leaves renditions and VP8 to the server when the block says nothing, and takes them when it does', () => {
    const plain = webRtcConfigSchema.parse({ enabled: true });
    expect([plain.renditions, plain.vp8]).toEqual([undefined, undefined]);
    const ladder = [{ height: 360, bitrate_kbit: 400 }];
    const set = webRtcConfigSchema.parse({ renditions: ladder, vp8: 'always' });
    expect([set.renditions, set.vp8]).toEqual([ladder, 'always']);
    expect(webRtcConfigSchema.parse({ renditions: 'auto' }).renditions).toBe('auto');
  });

  it.each([
    ['a video mode of off (video has no off)', { video: 'off' }],
    ['an unknown audio mode', { audio: 'aac' }],
    ['a payload type outside the dynamic range', { video_pt: 34 }],
    ['an audio payload type over 127', { audio_pt: 128 }],
    ['a height cap below 144 that is not 0', { max_height: 100 }],
    ['a bitrate cap below 100 kbit/s', { max_bitrate_kbit: 50 }],
    ['a keyframe interval over 10 s', { gop_seconds: 11 }],
    ['an unknown renditions word', { renditions: 'on' }],
    ['an empty ladder', { renditions: [] }],
    ['a ladder of five rungs', { renditions: Array(5).fill({ height: 360, bitrate_kbit: 400 }) }],
    ['a rung below 144 lines', { renditions: [{ height: 100, bitrate_kbit: 400 }] }],
    ['a rung below 100 kbit/s', { renditions: [{ height: 240, bitrate_kbit: 50 }] }],
    ['an unknown VP8 mode', { vp8: 'sometimes' }],
  ])('rejects %s', (_name, input) => {
    expect(webRtcConfigSchema.safeParse(input).success).toBe(false);
  });
});
