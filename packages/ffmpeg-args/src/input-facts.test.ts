import { describe, expect, it } from 'vitest';
import { type BannerStream, factsFromBanner, inputFactsSchema } from './input-facts.js';

/** Fields as a banner parser reports them: zero and '' for what the line did not print. */
const bannerStream = (
  fields: Partial<BannerStream> & Pick<BannerStream, 'index' | 'stream' | 'type' | 'codec'>,
) => ({
  format: 'flv',
  pix_fmt: '',
  width: 0,
  height: 0,
  fps: 0,
  sampling_hz: 0,
  channels: 0,
  ...fields,
});

describe('factsFromBanner', () => {
  it('marks an input read in a loop', () => {
    const [facts] = factsFromBanner(
      [bannerStream({ index: 0, stream: 0, type: 'video', codec: 'h264' })],
      [{ address: '/media/clip.mp4', options: ['-re', '-stream_loop', '-1'] }],
    );
    expect(facts?.loops).toBe(true);
  });

  it('turns the banner streams into facts per input, unknown where the banner printed nothing', () => {
    const facts = factsFromBanner(
      [
        bannerStream({
          index: 0,
          stream: 0,
          type: 'video',
          codec: 'h264',
          pix_fmt: 'yuv420p',
          width: 1280,
          height: 720,
          fps: 25,
        }),
        bannerStream({ index: 0, stream: 1, type: 'audio', codec: 'aac', sampling_hz: 44_100, channels: 2 }),
        bannerStream({
          index: 1,
          stream: 0,
          type: 'audio',
          codec: 'pcm_s16le',
          format: 'lavfi',
          sampling_hz: 48_000,
        }),
      ],
      [
        { address: 'rtmp://0.0.0.0/live/x', options: ['-listen', '1'] },
        { address: 'anullsrc', options: ['-f', 'lavfi'] },
      ],
    );
    expect(facts).toEqual([
      {
        source: 'banner',
        format: 'flv',
        listening: true,
        streams: [
          { index: 0, kind: 'video', codec: 'h264', width: 1280, height: 720, fps: 25, pix_fmt: 'yuv420p' },
          { index: 1, kind: 'audio', codec: 'aac', sample_rate: 44_100, channels: 2 },
        ],
      },
      {
        source: 'banner',
        format: 'lavfi',
        listening: false,
        streams: [{ index: 0, kind: 'audio', codec: 'pcm_s16le', sample_rate: 48_000 }],
      },
    ]);
    for (const input of facts) expect(inputFactsSchema.parse(input)).toEqual(input);
  });

  it('reads the profile from a profile field or from the codec text, not from the codec tag', () => {
    const [input] = factsFromBanner([
      bannerStream({ index: 0, stream: 0, type: 'video', codec: 'h264', profile: 'Main' }),
      bannerStream({ index: 0, stream: 1, type: 'video', codec: 'h264 (High) (avc1 / 0x31637661)' }),
      bannerStream({ index: 0, stream: 2, type: 'video', codec: 'h264 (avc1 / 0x31637661)' }),
      bannerStream({ index: 0, stream: 3, type: 'data', codec: 'timed_id3' }),
    ]);
    expect(input?.streams.map((s) => [s.codec, s.profile, s.kind])).toEqual([
      ['h264', 'Main', 'video'],
      ['h264', 'High', 'video'],
      ['h264', undefined, 'video'],
      ['timed_id3', undefined, 'other'],
    ]);
  });

  it('keeps cover art apart from video tracks', () => {
    const [input] = factsFromBanner([
      bannerStream({ index: 0, stream: 1, type: 'video', codec: 'png', attached_pic: true }),
    ]);
    expect(input?.streams[0]).toMatchObject({ kind: 'video', attached_pic: true });
  });

  it('leaves B-frames unknown: a banner does not print them', () => {
    const [input] = factsFromBanner([bannerStream({ index: 0, stream: 0, type: 'video', codec: 'h264' })]);
    expect(input?.streams[0]).not.toHaveProperty('reorders');
  });

  it('gives an input without streams in the banner empty facts', () => {
    const facts = factsFromBanner([bannerStream({ index: 1, stream: 0, type: 'audio', codec: 'aac' })]);
    expect(facts.map((input) => input.streams.length)).toEqual([0, 1]);
  });
});
