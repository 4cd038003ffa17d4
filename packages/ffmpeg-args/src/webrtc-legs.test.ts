import { describe, expect, it } from 'vitest';
import { InvalidLegOptionsError } from './errors.js';
import type { InputFacts } from './input-facts.js';
import { planMedia } from './media-plan.js';
import { webRtcConfigSchema } from './webrtc-config.js';
import {
  buildWebRtcLegs,
  h264CopyBitstreamFilters,
  legToArgs,
  type WebRtcLegOptions,
} from './webrtc-legs.js';

const seedConfig = webRtcConfigSchema.parse({ enabled: true, video_pt: 102, audio_pt: 111 });

const h264Opus: InputFacts = {
  source: 'probe',
  format: 'matroska,webm',
  listening: false,
  streams: [
    { index: 0, kind: 'video', codec: 'h264', profile: 'High', pix_fmt: 'yuv420p', reorders: false },
    { index: 1, kind: 'audio', codec: 'opus', sample_rate: 48_000, channels: 2 },
  ],
};

describe('buildWebRtcLegs', () => {
  it('copies browser-ready H.264 and Opus with parameter sets in-band and a WebRTC-safe packet size', () => {
    const legs = buildWebRtcLegs({
      webrtc: seedConfig,
      plan: planMedia(h264Opus, seedConfig),
      videoPort: 49200,
    });
    expect(legs.flatMap(legToArgs)).toEqual([
      ...[
        '-map',
        '0:0',
        '-c:v',
        'copy',
        '-bsf:v',
        h264CopyBitstreamFilters,
        '-payload_type',
        '102',
        '-f',
        'rtp',
      ],
      'udp://127.0.0.1:49200?pkt_size=1200',
      ...['-map', '0:1', '-c:a', 'copy', '-payload_type', '111', '-f', 'rtp'],
      'udp://127.0.0.1:49201?pkt_size=1200',
    ]);
    expect(legs.map((leg) => [leg.kind, leg.port, leg.payloadType])).toEqual([
      ['video', 49200, 102],
      ['audio', 49201, 111],
    ]);
  });

  it('puts SPS/PPS in-band, then drops SEI, AUD, end-of-sequence/stream and filler units', () => {
    expect(h264CopyBitstreamFilters).toBe(
      'h264_mp4toannexb,filter_units=remove_types=6|9|10|11|12,dump_extra=freq=keyframe',
    );
  });

  it('without a plan transcodes both tracks from the first streams, as for an input not known', () => {
    const [video, audio] = buildWebRtcLegs({ webrtc: seedConfig, videoPort: 5000 }).map(legToArgs);
    expect(video?.slice(0, 4)).toEqual(['-map', '0:v:0', '-c:v', 'libx264']);
    expect(audio?.slice(0, 4)).toEqual(['-map', '0:a:0', '-c:a', 'libopus']);
  });

  it('encodes constrained baseline H.264 within the caps, and Opus 48 kHz, when transcoding', () => {
    const webrtc = {
      ...seedConfig,
      force_transcode: true,
      max_height: 480,
      max_bitrate_kbit: 1500,
      gop_seconds: 2,
    };
    const [video, audio] = buildWebRtcLegs({
      webrtc,
      plan: planMedia(h264Opus, webrtc),
      videoPort: 5000,
    }).map(legToArgs);
    expect(video).toEqual(expect.arrayContaining(['libx264', 'baseline', 'zerolatency', 'yuv420p']));
    expect(video?.[video.indexOf('-bf') + 1]).toBe('0');
    expect(video?.[video.indexOf('-vf') + 1]).toBe(
      "scale=w='trunc(oh*dar/2)*2':h='trunc(min(ih,480)/2)*2',setsar=1",
    );
    expect(video?.[video.indexOf('-maxrate') + 1]).toBe('1500k');
    expect(video?.[video.indexOf('-bufsize') + 1]).toBe('1500k');
    expect(video).toContain('expr:gte(t,n_forced*2)');
    expect(video).not.toContain('-bsf:v');
    expect(audio).toEqual(expect.arrayContaining(['libopus', '48000']));
  });

  it('keeps the input height (made even) when the height cap is 0', () => {
    const webrtc = { ...seedConfig, video: 'transcode' as const, max_height: 0 as const };
    const [video] = buildWebRtcLegs({ webrtc, plan: planMedia(h264Opus, webrtc), videoPort: 5000 }).map(
      legToArgs,
    );
    expect(video?.[video.indexOf('-vf') + 1]).toBe("scale=w='trunc(oh*dar/2)*2':h='trunc(ih/2)*2',setsar=1");
  });

  it('builds no leg for a track that is off, so no -map can fail', () => {
    const audioOnly: InputFacts = { ...h264Opus, streams: [h264Opus.streams[1]!] };
    const legs = buildWebRtcLegs({
      webrtc: seedConfig,
      plan: planMedia(audioOnly, seedConfig),
      videoPort: 5000,
    });
    expect(legs.map((leg) => [leg.kind, leg.port])).toEqual([['audio', 5001]]);

    const noAudio = { ...seedConfig, audio: 'off' as const };
    expect(buildWebRtcLegs({ webrtc: noAudio, videoPort: 5000 }).map((leg) => leg.kind)).toEqual(['video']);
  });

  it('copies another codec untouched when copy is set explicitly (the H.264 filters would refuse it)', () => {
    const hevc: InputFacts = { ...h264Opus, streams: [{ index: 0, kind: 'video', codec: 'hevc' }] };
    const webrtc = { ...seedConfig, video: 'copy' as const };
    const [video] = buildWebRtcLegs({ webrtc, plan: planMedia(hevc, webrtc), videoPort: 5000 }).map(
      legToArgs,
    );
    expect(video?.slice(0, 4)).toEqual(['-map', '0:0', '-c:v', 'copy']);
    expect(video).not.toContain('-bsf:v');
  });

  it('uses the given audio port, host and packet size', () => {
    const [video, audio] = buildWebRtcLegs({
      webrtc: seedConfig,
      plan: planMedia(h264Opus, seedConfig),
      videoPort: 6000,
      audioPort: 6010,
      host: '::1',
      packetSize: 1000,
    }).map(legToArgs);
    expect(video?.at(-1)).toBe('udp://[::1]:6000?pkt_size=1000');
    expect(audio?.at(-1)).toBe('udp://[::1]:6010?pkt_size=1000');
  });

  const invalid: { name: string; options: WebRtcLegOptions; field: string }[] = [
    { name: 'a port of zero', options: { webrtc: seedConfig, videoPort: 0 }, field: 'videoPort' },
    {
      name: 'an audio port past 65535',
      options: { webrtc: seedConfig, videoPort: 65535 },
      field: 'audioPort',
    },
    {
      name: 'the same port for both tracks',
      options: { webrtc: seedConfig, videoPort: 5000, audioPort: 5000 },
      field: 'audioPort',
    },
    {
      name: 'a packet size over the WebRTC limit',
      options: { webrtc: seedConfig, videoPort: 5000, packetSize: 1316 },
      field: 'packetSize',
    },
    {
      name: 'a payload type over 127',
      options: { webrtc: { ...seedConfig, video_pt: 200 }, videoPort: 5000 },
      field: 'video payload type',
    },
    {
      name: 'a planned track without a stream to map',
      options: {
        webrtc: seedConfig,
        videoPort: 5000,
        plan: {
          basis: 'none',
          video: { action: 'transcode', from: 'unknown', to: 'h264', reason: 'hand-made', cpu_cores: 1 },
          audio: { action: 'off', from: 'none', to: 'none', reason: 'hand-made', cpu_cores: 0 },
          cpu_cores: 1,
          pacing: [],
        },
      },
      field: 'video stream',
    },
  ];
  it.each(invalid)('rejects $name with a typed error', ({ options, field }) => {
    const error = (() => {
      try {
        buildWebRtcLegs(options);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(InvalidLegOptionsError);
    expect(error).toMatchObject({ code: 'INVALID_LEG_OPTIONS', field });
  });
});
