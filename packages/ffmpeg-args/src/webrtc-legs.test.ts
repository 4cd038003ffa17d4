import { describe, expect, it } from 'vitest';
import { InvalidLegOptionsError } from './errors.js';
import type { InputFacts } from './input-facts.js';
import { planMedia } from './media-plan.js';
import { webRtcConfigSchema } from './webrtc-config.js';
import {
  buildWebRtcLegs,
  h264CopyBitstreamFilters,
  legToArgs,
  producedRenditions,
  vp8OnDemandLeg,
  vp8PayloadType,
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

  const hd: InputFacts = {
    ...h264Opus,
    streams: [{ ...h264Opus.streams[0]!, width: 1280, height: 720, fps: 25 }, h264Opus.streams[1]!],
  };
  const ladderConfig = { ...seedConfig, renditions: 'auto' as const, vp8: 'always' as const };

  it('adds one leg per rendition made, each to its own port, after the top and the audio', () => {
    const plan = planMedia(hd, ladderConfig);
    expect(producedRenditions(plan).map((r) => r.id)).toEqual(['480p', '360p', '240p', 'vp8-360p']);
    const legs = buildWebRtcLegs({
      webrtc: ladderConfig,
      plan,
      videoPort: 5000,
      renditionPorts: [5002, 5003, 5004, 5005],
    });
    expect(legs.map((leg) => [leg.kind, leg.rendition, leg.port, leg.payloadType])).toEqual([
      ['video', undefined, 5000, 102],
      ['audio', undefined, 5001, 111],
      ['video', '480p', 5002, 102],
      ['video', '360p', 5003, 102],
      ['video', '240p', 5004, 102],
      ['video', 'vp8-360p', 5005, 97],
    ]);
    const rung = legToArgs(legs[3]!);
    expect(rung).toEqual([
      ...['-map', '0:0', '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency'],
      ...['-profile:v', 'baseline', '-vf', "scale=w='trunc(oh*dar/2)*2':h='trunc(min(ih,360)/2)*2',setsar=1"],
      ...['-pix_fmt', 'yuv420p', '-bf', '0', '-b:v', '350k', '-maxrate', '350k', '-bufsize', '350k'],
      ...['-sc_threshold', '0', '-force_key_frames', 'expr:gte(t,n_forced*0.5)'],
      ...['-payload_type', '102', '-f', 'rtp', 'udp://127.0.0.1:5003?pkt_size=1200'],
    ]);
    const vp8 = legToArgs(legs[5]!);
    expect(vp8).toEqual(expect.arrayContaining(['libvpx', 'realtime', '-threads', '1', '-lag-in-frames']));
    expect(vp8[vp8.indexOf('-threads') + 1]).toBe('1');
    expect(vp8[vp8.indexOf('-cpu-used') + 1]).toBe('8');
    // The copied top is sent exactly as without a ladder.
    const plain = buildWebRtcLegs({ webrtc: seedConfig, plan: planMedia(hd, seedConfig), videoPort: 5000 });
    expect(legs.slice(0, 2)).toEqual(plain);
  });

  it('caps a rendition at 30 fps for a faster input', () => {
    const fast: InputFacts = { ...hd, streams: [{ ...hd.streams[0]!, fps: 50 }, hd.streams[1]!] };
    const webrtc = { ...seedConfig, renditions: [{ height: 360, bitrate_kbit: 400 }] };
    const [, , rung] = buildWebRtcLegs({
      webrtc,
      plan: planMedia(fast, webrtc),
      videoPort: 5000,
      renditionPorts: [5002],
    }).map(legToArgs);
    expect(rung?.slice(2, 4)).toEqual(['-r', '30']);
  });

  it('picks a VP8 payload type neither track uses', () => {
    expect(vp8PayloadType({ video_pt: 96, audio_pt: 111 })).toBe(97);
    expect(vp8PayloadType({ video_pt: 97, audio_pt: 98 })).toBe(99);
  });

  it('makes VP8 on demand with no leg in the process and one leg of its own from the picture', () => {
    const webrtc = { ...seedConfig, vp8: 'on-demand' as const };
    const plan = planMedia(hd, webrtc);
    expect(buildWebRtcLegs({ webrtc, plan, videoPort: 5000 }).map((leg) => leg.kind)).toEqual([
      'video',
      'audio',
    ]);
    const rendition = plan.renditions.find((r) => r.kind === 'vp8')!;
    expect(rendition.action).toBe('on-demand');
    const leg = vp8OnDemandLeg({ rendition, webrtc, port: 5010 });
    const args = legToArgs(leg);
    expect(args.slice(0, 2)).toEqual(['-map', '0:v:0']);
    expect(args).toEqual(expect.arrayContaining(['libvpx', '-threads', '1', '-payload_type', '97']));
    expect(args.at(-1)).toBe('udp://127.0.0.1:5010?pkt_size=1200');
    expect(() => vp8OnDemandLeg({ rendition, webrtc, port: 0 })).toThrow(InvalidLegOptionsError);
  });

  it('builds no rendition leg for renditions planned but not made', () => {
    const webrtc = { ...ladderConfig };
    const plan = planMedia(hd, { ...webrtc, renditions_blocked: 'not yet' });
    expect(buildWebRtcLegs({ webrtc, plan, videoPort: 5000 }).map((leg) => leg.kind)).toEqual([
      'video',
      'audio',
    ]);
  });

  const invalid: { name: string; options: WebRtcLegOptions; field: string }[] = [
    {
      name: 'a ladder without a port for each rendition',
      options: {
        webrtc: ladderConfig,
        plan: planMedia(hd, ladderConfig),
        videoPort: 5000,
        renditionPorts: [5002],
      },
      field: 'renditionPorts',
    },
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
          renditions: [],
          ladder_notes: [],
          ladder_cpu_cores: 0,
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
