import { describe, expect, it } from 'vitest';
import type { InputFacts, MediaFacts, StreamFacts } from './input-facts.js';
import { type MediaPlan, mediaPlanSchema, planMedia } from './media-plan.js';
import { videoTranscodeCores } from './transcode-cost.js';
import { type WebRtcConfigInput, webRtcConfigSchema } from './webrtc-config.js';
import { buildWebRtcLegs, h264CopyBitstreamFilters, legToArgs } from './webrtc-legs.js';

const video = (facts: Partial<StreamFacts> = {}): StreamFacts => ({
  index: 0,
  kind: 'video',
  codec: 'h264',
  profile: 'High',
  width: 1280,
  height: 720,
  pix_fmt: 'yuv420p',
  field_order: 'progressive',
  has_b_frames: 0,
  reorders: false,
  ...facts,
});
const audio = (facts: Partial<StreamFacts> = {}): StreamFacts => ({
  index: 1,
  kind: 'audio',
  codec: 'aac',
  profile: 'LC',
  sample_rate: 44_100,
  channels: 2,
  ...facts,
});
const probed = (...streams: StreamFacts[]): InputFacts => ({
  source: 'probe',
  format: 'mpegts',
  listening: false,
  streams,
});
const fromBanner = (...streams: StreamFacts[]): InputFacts => ({ ...probed(...streams), source: 'banner' });

/** What the plan and the legs it makes look like, in one line per track. */
function summary(facts: InputFacts | MediaFacts | undefined, settings: WebRtcConfigInput = {}) {
  const webrtc = webRtcConfigSchema.parse({ enabled: true, ...settings });
  const plan = planMedia(facts, webrtc);
  const legs = buildWebRtcLegs({ webrtc, plan, videoPort: 5000 }).map(legToArgs);
  const leg = (kind: 'video' | 'audio') => legs.find((args) => args.includes(`-c:${kind[0]}`));
  return {
    plan,
    video: `${plan.video.action} ${plan.video.from}→${plan.video.to} ${plan.video.stream ?? '-'}`,
    audio: `${plan.audio.action} ${plan.audio.from}→${plan.audio.to} ${plan.audio.stream ?? '-'}`,
    videoArgs: leg('video') ?? [],
    audioArgs: leg('audio') ?? [],
  };
}

describe('planMedia, auto', () => {
  const rows: {
    name: string;
    facts: InputFacts | MediaFacts | undefined;
    video: string;
    audio: string;
    videoWhy: RegExp;
    audioWhy: RegExp;
  }[] = [
    {
      name: 'an H.264 High camera without B-frames, with AAC',
      facts: probed(video(), audio()),
      video: 'copy h264→h264 0:0',
      audio: 'transcode aac→opus 0:1',
      videoWhy: /H\.264 High 1280x720 without B-frames.*copied/,
      audioWhy: /AAC 44100 Hz is not Opus: transcoded to Opus/,
    },
    {
      name: 'an MP4 with B-frames (has_b_frames 2)',
      facts: probed(video({ has_b_frames: 2, reorders: true }), audio()),
      video: 'transcode h264→h264 0:0',
      audio: 'transcode aac→opus 0:1',
      videoWhy: /B-frames/,
      audioWhy: /not Opus/,
    },
    {
      name: 'HEVC + AAC',
      facts: probed(video({ codec: 'hevc', profile: 'Main' }), audio()),
      video: 'transcode hevc→h264 0:0',
      audio: 'transcode aac→opus 0:1',
      videoWhy: /HEVC Main 1280x720 is not H\.264/,
      audioWhy: /not Opus/,
    },
    {
      name: 'H.264 High 10',
      facts: probed(video({ profile: 'High 10', pix_fmt: 'yuv420p10le' })),
      video: 'transcode h264→h264 0:0',
      audio: 'off none→none -',
      videoWhy: /High 10 is not decoded by browsers/,
      audioWhy: /no audio stream/,
    },
    {
      name: 'H.264 4:2:2 reported only by its pixel format',
      facts: probed(video({ profile: undefined, pix_fmt: 'yuv422p' })),
      video: 'transcode h264→h264 0:0',
      audio: 'off none→none -',
      videoWhy: /pixel format yuv422p/,
      audioWhy: /no audio stream/,
    },
    {
      name: 'interlaced H.264',
      facts: probed(video({ field_order: 'tt' })),
      video: 'transcode h264→h264 0:0',
      audio: 'off none→none -',
      videoWhy: /interlaced/,
      audioWhy: /no audio stream/,
    },
    {
      name: 'full-range H.264 (yuvj420p, many IP cameras) and Opus 48 kHz',
      facts: probed(
        video({ pix_fmt: 'yuvj420p', profile: 'Main' }),
        audio({ codec: 'opus', sample_rate: 48_000 }),
      ),
      video: 'copy h264→h264 0:0',
      audio: 'copy opus→opus 0:1',
      videoWhy: /copied/,
      audioWhy: /Opus 48000 Hz plays in browsers: copied/,
    },
    {
      name: 'Opus 5.1',
      facts: probed(video(), audio({ codec: 'opus', sample_rate: 48_000, channels: 6 })),
      video: 'copy h264→h264 0:0',
      audio: 'transcode opus→opus 0:1',
      videoWhy: /copied/,
      audioWhy: /6 channels/,
    },
    {
      name: 'MJPEG, MPEG-2 video with MP2 audio',
      facts: probed(video({ codec: 'mpeg2video', profile: 'Main' }), audio({ codec: 'mp2' })),
      video: 'transcode mpeg2video→h264 0:0',
      audio: 'transcode mp2→opus 0:1',
      videoWhy: /MPEG-2 Main 1280x720 is not H\.264/,
      audioWhy: /MP2 44100 Hz is not Opus/,
    },
    {
      name: 'an MP3 with cover art: the picture is not a video track',
      facts: probed(
        audio({ index: 0, codec: 'mp3' }),
        video({ index: 1, codec: 'png', attached_pic: true, reorders: undefined }),
      ),
      video: 'off none→none -',
      audio: 'transcode mp3→opus 0:0',
      videoWhy: /no video stream/,
      audioWhy: /MP3/,
    },
    {
      name: 'a banner of H.264 High (B-frames unknown)',
      facts: fromBanner(video({ reorders: undefined, has_b_frames: undefined }), audio()),
      video: 'transcode h264→h264 0:0',
      audio: 'transcode aac→opus 0:1',
      videoWhy: /may have B-frames \(not probed\)/,
      audioWhy: /not Opus/,
    },
    {
      name: 'a banner of H.264 Constrained Baseline (cannot have B-frames)',
      facts: fromBanner(video({ profile: 'Constrained Baseline', reorders: undefined }), audio()),
      video: 'copy h264→h264 0:0',
      audio: 'transcode aac→opus 0:1',
      videoWhy: /copied/,
      audioWhy: /not Opus/,
    },
    {
      name: 'nothing known (a listening input before its first run)',
      facts: undefined,
      video: 'transcode unknown→h264 0:v:0',
      audio: 'transcode unknown→opus 0:a:0',
      videoWhy: /not known yet/,
      audioWhy: /not known yet/,
    },
    {
      name: 'video in input 0, silence in input 1',
      facts: [probed(video()), probed(audio({ index: 0, codec: 'pcm_s16le' }))],
      video: 'copy h264→h264 0:0',
      audio: 'transcode pcm_s16le→opus 1:0',
      videoWhy: /copied/,
      audioWhy: /PCM/,
    },
    {
      name: 'a listening input 0 not known yet, silence in input 1',
      facts: [undefined, probed(audio({ index: 0 }))],
      video: 'transcode unknown→h264 0:v:0',
      audio: 'transcode unknown→opus 0:a:0',
      videoWhy: /not known yet/,
      audioWhy: /not known yet/,
    },
  ];
  it.each(rows)('$name', ({ facts, video, audio, videoWhy, audioWhy }) => {
    const result = summary(facts);
    expect({ video: result.video, audio: result.audio }).toEqual({ video, audio });
    expect(result.plan.video.reason).toMatch(videoWhy);
    expect(result.plan.audio.reason).toMatch(audioWhy);
    expect(result.plan.video.warning).toBeUndefined();
    expect(result.plan.audio.warning).toBeUndefined();
    expect(mediaPlanSchema.parse(result.plan)).toEqual(result.plan);
  });

  it('maps copy to the parameter-set filter and transcode to the encoders', () => {
    const result = summary(probed(video(), audio()));
    expect(result.videoArgs).toEqual(
      expect.arrayContaining(['-c:v', 'copy', '-bsf:v', h264CopyBitstreamFilters]),
    );
    expect(result.audioArgs).toEqual(expect.arrayContaining(['-map', '0:1', '-c:a', 'libopus']));
  });

  it('tells where its facts came from', () => {
    const basis = (facts: InputFacts | MediaFacts | undefined): MediaPlan['basis'] =>
      summary(facts).plan.basis;
    expect([
      basis(probed(video())),
      basis(fromBanner(video())),
      basis(undefined),
      basis([undefined]),
    ]).toEqual(['probe', 'banner', 'none', 'none']);
  });
});

describe('planMedia, settings', () => {
  const camera = probed(video(), audio());
  const hevc = probed(video({ codec: 'hevc', profile: 'Main' }), audio());

  it('force_transcode transcodes both tracks, even browser-ready ones', () => {
    const result = summary(probed(video(), audio({ codec: 'opus', sample_rate: 48_000 })), {
      force_transcode: true,
    });
    expect([result.video, result.audio]).toEqual(['transcode h264→h264 0:0', 'transcode opus→opus 0:1']);
    expect(result.videoArgs).toContain('libx264');
    expect(result.videoArgs).not.toContain('-bsf:v');
  });

  it('force_transcode leaves audio off when audio is off', () => {
    const result = summary(camera, { force_transcode: true, audio: false });
    expect(result.audio).toBe('off aac→none -');
    expect(result.plan.audio.reason).toBe('audio is off in the settings');
    expect(result.audioArgs).toEqual([]);
  });

  it('video: transcode re-encodes browser-ready H.264', () => {
    const result = summary(camera, { video: 'transcode' });
    expect(result.video).toBe('transcode h264→h264 0:0');
    expect(result.plan.video.reason).toMatch(/transcode as set/);
  });

  it('video: copy of HEVC is done, with a warning that it will likely not play', () => {
    const result = summary(hevc, { video: 'copy' });
    expect(result.video).toBe('copy hevc→hevc 0:0');
    expect(result.plan.video.warning).toMatch(/HEVC.*is not H\.264: browsers will likely not play it/);
    expect(result.plan.video.reason).toContain(result.plan.video.warning);
  });

  it('auto transcodes browser-ready H.264 from a looped input, whose copy FFmpeg 5.1 stops after one pass', () => {
    const looped = { ...probed(video({ profile: 'Constrained Baseline' }), audio()), loops: true };
    const { plan } = summary(looped);
    expect(plan.video).toMatchObject({
      action: 'transcode',
      reason: expect.stringContaining('-stream_loop'),
    });
    expect(summary(looped, { video: 'copy' }).plan.video).toMatchObject({
      action: 'copy',
      warning: expect.stringContaining('looped input'),
    });
    // Audio has no bitstream filter: Opus from a looped input is still copied.
    const opus = { ...probed(audio({ codec: 'opus', sample_rate: 48_000 })), loops: true };
    expect(summary(opus).plan.audio.action).toBe('copy');
  });

  it('video: copy of H.264 with B-frames warns too', () => {
    const result = summary(probed(video({ reorders: true, has_b_frames: 2 })), { video: 'copy' });
    expect(result.video).toBe('copy h264→h264 0:0');
    expect(result.videoArgs).toContain(h264CopyBitstreamFilters);
    expect(result.plan.video.warning).toMatch(/B-frames/);
  });

  it('video: copy of H.264 whose B-frames are unknown says so, without a warning', () => {
    const result = summary(fromBanner(video({ reorders: undefined })), { video: 'copy' });
    expect(result.video).toBe('copy h264→h264 0:0');
    expect(result.plan.video.reason).toMatch(/may have B-frames/);
    expect(result.plan.video.warning).toBeUndefined();
  });

  it('audio: copy of AAC is done, with a warning', () => {
    const result = summary(camera, { audio: 'copy' });
    expect(result.audio).toBe('copy aac→aac 0:1');
    expect(result.audioArgs).toEqual(expect.arrayContaining(['-c:a', 'copy']));
    expect(result.plan.audio.warning).toMatch(/AAC 44100 Hz is not Opus/);
  });

  it('audio: off sends no audio from an input that has some', () => {
    expect(summary(camera, { audio: 'off' }).audioArgs).toEqual([]);
  });

  it('an explicit copy of a track the input lacks is off: there is nothing to map', () => {
    const result = summary(probed(video()), { audio: 'copy' });
    expect(result.audio).toBe('off none→none -');
    expect(result.audioArgs).toEqual([]);
  });

  it('an explicit copy of an input not known yet copies from the first stream, H.264 filters on', () => {
    const result = summary(undefined, { video: 'copy', audio: 'copy' });
    expect([result.video, result.audio]).toEqual([
      'copy unknown→unknown 0:v:0',
      'copy unknown→unknown 0:a:0',
    ]);
    expect(result.videoArgs).toContain(h264CopyBitstreamFilters);
    expect(result.plan.video.reason).toMatch(/not known yet/);
  });
});

describe('planMedia, CPU cost and budget', () => {
  const hevcCamera = probed(
    video({ codec: 'hevc', profile: 'Main', width: 1920, height: 1080, fps: 25 }),
    audio(),
  );
  const settings = webRtcConfigSchema.parse({ enabled: true });

  it('puts an estimate on each transcode and none on a copy', () => {
    const copied = planMedia(probed(video({ profile: 'Constrained Baseline' })), settings);
    const transcoded = planMedia(hevcCamera, settings);

    expect(copied.cpu_cores).toBe(0);
    // Decoding 1080p25 H.265 and encoding 720p25, with the margin: videoTranscodeCores's example.
    expect(transcoded.video.cpu_cores).toBe(videoTranscodeCores(hevcCamera.streams[0], 720));
    expect(transcoded.video.cpu_cores).toBeCloseTo(0.6, 1);
    expect(transcoded.audio.cpu_cores).toBeGreaterThan(0);
    expect(transcoded.cpu_cores).toBeCloseTo(transcoded.video.cpu_cores + transcoded.audio.cpu_cores, 5);
  });

  it('costs more for a larger output and less with a lower height cap', () => {
    const full = videoTranscodeCores(hevcCamera.streams[0], 0);
    const capped = videoTranscodeCores(hevcCamera.streams[0], 360);

    expect(full).toBeGreaterThan(capped);
  });

  it('turns a transcode off that the budget cannot take, and says what it would have cost', () => {
    const plan = planMedia(hevcCamera, { ...settings, cpu_budget: { cores: 0.3, why: 'the test budget' } });

    expect(plan.video).toMatchObject({ action: 'off', to: 'none', cpu_cores: 0 });
    expect(plan.video.stream).toBeUndefined();
    expect(plan.video.reason).toMatch(
      /^transcoding hevc to h264 \(.*\) would take about 0\.6 cores; 0\.3 are left \(the test budget\): off$/,
    );
    // The audio transcode is cheap and still fits what is left.
    expect(plan.audio.action).toBe('transcode');
    expect(plan.cpu_cores).toBe(plan.audio.cpu_cores);
  });

  it('leaves copies alone whatever the budget', () => {
    const plan = planMedia(probed(video({ profile: 'Constrained Baseline' })), {
      ...settings,
      cpu_budget: { cores: 0, why: 'none left' },
    });

    expect(plan.video.action).toBe('copy');
  });
});

describe('the decoder of a transcode', () => {
  const settings = (extra: WebRtcConfigInput = {}) =>
    webRtcConfigSchema.parse({ enabled: true, renditions: 'off', ...extra });
  const rtsp = [{ address: 'rtsp://camera/stream' }];
  const forced = settings({ force_transcode: true });

  it('decodes a transcoded picture up to 1080p with slice threads, on the input it comes from', () => {
    const microphone = probed(audio({ index: 0, codec: 'pcm_s16le' }));
    const camera = probed(video({ height: 1080 }));
    const plan = planMedia([microphone, camera], forced, [
      { address: 'hw:0', options: ['-f', 'alsa'] },
      ...rtsp,
    ]);
    expect(plan.video.action).toBe('transcode');
    expect(plan.decoder).toMatchObject({ input: 1, options: ['-thread_type', 'slice'] });
    expect(plan.decoder?.reason).toMatch(/1080p decoded with slice threads/);
  });

  it('leaves a copied picture, a 4K one, one of unknown height and one whose input sets threads as they are', () => {
    expect(planMedia(probed(video()), settings(), rtsp).video.action).toBe('copy');
    expect(planMedia(probed(video()), settings(), rtsp).decoder).toBeUndefined();
    expect(planMedia(probed(video({ height: 2160 })), forced, rtsp).decoder).toBeUndefined();
    expect(planMedia(probed(video({ height: undefined })), forced, rtsp).decoder).toBeUndefined();
    expect(planMedia(undefined, forced, rtsp).decoder).toBeUndefined();
    const threaded = [{ address: 'rtsp://camera/stream', options: ['-threads', '4'] }];
    expect(planMedia(probed(video()), forced, threaded).decoder).toBeUndefined();
  });
});
