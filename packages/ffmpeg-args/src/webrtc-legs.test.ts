import { describe, expect, it } from 'vitest';
import { InvalidLegOptionsError } from './errors.js';
import { webRtcConfigSchema } from './webrtc-config.js';
import { buildWebRtcLegs, legToArgs, type WebRtcLegOptions } from './webrtc-legs.js';

const seedConfig = webRtcConfigSchema.parse({ enabled: true, video_pt: 102, audio_pt: 111 });

describe('buildWebRtcLegs', () => {
  it('builds the seed copy-mode vectors, with a WebRTC-safe packet size', () => {
    const legs = buildWebRtcLegs({ webrtc: seedConfig, videoPort: 49200 });
    expect(legs.flatMap(legToArgs)).toEqual([
      ...['-map', '0:v:0', '-c:v', 'copy', '-payload_type', '102', '-f', 'rtp'],
      'udp://127.0.0.1:49200?pkt_size=1200',
      ...['-map', '0:a:0', '-c:a', 'copy', '-payload_type', '111', '-f', 'rtp'],
      'udp://127.0.0.1:49201?pkt_size=1200',
    ]);
    expect(legs.map((leg) => [leg.kind, leg.port, leg.payloadType])).toEqual([
      ['video', 49200, 102],
      ['audio', 49201, 111],
    ]);
  });

  const cases: { name: string; options: WebRtcLegOptions; expectArgs: (args: string[][]) => void }[] = [
    {
      name: 'omits the audio leg when audio is off',
      options: { webrtc: { ...seedConfig, audio: false }, videoPort: 5000 },
      expectArgs: (args) => expect(args).toHaveLength(1),
    },
    {
      name: 'encodes constrained baseline H.264 and Opus when transcoding',
      options: { webrtc: { ...seedConfig, force_transcode: true }, videoPort: 5000 },
      expectArgs: ([video, audio]) => {
        expect(video).toEqual(expect.arrayContaining(['libx264', 'baseline', 'zerolatency', 'yuv420p']));
        expect(video).toContain('expr:gte(t,n_forced*1)');
        expect(video?.[video.indexOf('-bf') + 1]).toBe('0');
        expect(audio).toEqual(expect.arrayContaining(['libopus', '48000']));
      },
    },
    {
      name: 'transcodes audio alone when asked',
      options: { webrtc: seedConfig, videoPort: 5000, transcode: { audio: true } },
      expectArgs: ([video, audio]) => {
        expect(video).toContain('copy');
        expect(audio).toContain('libopus');
      },
    },
    {
      name: 'uses the given stream specifiers, audio port, host and packet size',
      options: {
        webrtc: seedConfig,
        videoPort: 6000,
        audioPort: 6010,
        host: '::1',
        packetSize: 1000,
        videoStream: '0:v:1',
        audioStream: '1:a:0',
      },
      expectArgs: ([video, audio]) => {
        expect(video?.slice(0, 2)).toEqual(['-map', '0:v:1']);
        expect(video?.at(-1)).toBe('udp://[::1]:6000?pkt_size=1000');
        expect(audio?.slice(0, 2)).toEqual(['-map', '1:a:0']);
        expect(audio?.at(-1)).toBe('udp://[::1]:6010?pkt_size=1000');
      },
    },
    {
      name: 'honours a longer keyframe interval',
      options: { webrtc: { ...seedConfig, force_transcode: true }, videoPort: 5000, gopSeconds: 2 },
      expectArgs: ([video]) => expect(video).toContain('expr:gte(t,n_forced*2)'),
    },
  ];
  it.each(cases)('$name', ({ options, expectArgs }) => {
    expectArgs(buildWebRtcLegs(options).map(legToArgs));
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

describe('webRtcConfigSchema', () => {
  it('defaults to disabled with payload types 96 and 111 and audio on', () => {
    expect(webRtcConfigSchema.parse({})).toEqual({
      enabled: false,
      video_pt: 96,
      audio_pt: 111,
      force_transcode: false,
      audio: true,
      token: '',
    });
  });

  it('rejects payload types outside the dynamic range', () => {
    expect(webRtcConfigSchema.safeParse({ video_pt: 34 }).success).toBe(false);
    expect(webRtcConfigSchema.safeParse({ audio_pt: 128 }).success).toBe(false);
  });
});
