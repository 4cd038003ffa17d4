import {
  type BannerStream,
  type InputFacts,
  ProbeFailedError,
  type ProcessInput,
  webRtcConfigSchema,
} from '@dragon/ffmpeg-args';
import { describe, expect, it } from 'vitest';
import { MediaPlanner, maxReplansInARow } from './media-planner.js';

const settings = webRtcConfigSchema.parse({ enabled: true });
const camera: ProcessInput = {
  address: 'rtsp://user:secret@10.0.0.2/stream1',
  options: ['-rtsp_transport', 'tcp'],
};
const listening: ProcessInput = { address: 'rtmp://0.0.0.0:1935/live/cam', options: ['-listen', '1'] };
const signal = new AbortController().signal;

const h264Camera: InputFacts = {
  source: 'probe',
  format: 'rtsp',
  listening: false,
  streams: [
    { index: 0, kind: 'video', codec: 'h264', profile: 'Main', pix_fmt: 'yuv420p', reorders: false },
    { index: 1, kind: 'audio', codec: 'aac', sample_rate: 48_000, channels: 2 },
  ],
};

const bannerVideo = (codec = 'h264'): BannerStream => ({ index: 0, stream: 0, type: 'video', codec });
const bannerAudio: BannerStream = { index: 0, stream: 1, type: 'audio', codec: 'aac' };

/** A planner over a probe that answers `facts` (or fails) and counts its calls. */
function planner(answer: InputFacts | ProbeFailedError = h264Camera) {
  const probed: ProcessInput[] = [];
  const media = new MediaPlanner(async (input) => {
    probed.push(input);
    if (answer instanceof ProbeFailedError) throw answer;
    return answer;
  });
  return { media, probed };
}

describe('MediaPlanner', () => {
  it('probes a pulled input and copies H.264 without B-frames, AAC to Opus', async () => {
    const { media, probed } = planner();
    const { plan, notes } = await media.plan('cam', [camera], settings, signal);
    expect(probed).toEqual([camera]);
    expect(notes).toEqual([]);
    expect(plan).toMatchObject({
      basis: 'probe',
      video: { action: 'copy', from: 'h264', stream: '0:0' },
      audio: { action: 'transcode', from: 'aac', to: 'opus', stream: '0:1' },
    });
  });

  it('never probes a listening input: conservative the first time, then the previous banner', async () => {
    const { media, probed } = planner();
    const first = await media.plan('live', [listening], settings, signal);
    expect(first.plan.basis).toBe('none');
    expect(first.plan.video).toMatchObject({ action: 'transcode', stream: '0:v:0' });
    expect(first.plan.audio).toMatchObject({ action: 'transcode', stream: '0:a:0' });

    // The publisher sends video only: the map of 0:a:0 fails right after the banner.
    const verdict = media.check('live', first.plan, [bannerVideo()], [listening], settings);
    expect(verdict).toMatchObject({ fits: false, restart: true });
    expect(verdict.reasons.join()).toContain('no audio');

    const second = await media.plan('live', [listening], settings, signal);
    expect(probed).toEqual([]);
    expect(second.plan.basis).toBe('banner');
    expect(second.plan.audio).toMatchObject({ action: 'off', reason: 'the input has no audio stream' });
    expect(media.check('live', second.plan, [bannerVideo()], [listening], settings)).toMatchObject({
      fits: true,
      restart: false,
    });
  });

  it('plans from the banner after a misfit, and probes again on the start after that', async () => {
    const { media, probed } = planner();
    const { plan } = await media.plan('cam', [camera], settings, signal);
    // The camera now sends HEVC: the copy of h264 does not fit.
    expect(media.check('cam', plan, [bannerVideo('hevc'), bannerAudio], [camera], settings).restart).toBe(
      true,
    );
    const replanned = await media.plan('cam', [camera], settings, signal);
    expect(probed).toHaveLength(1);
    expect(replanned.plan).toMatchObject({ basis: 'banner', video: { action: 'transcode', from: 'hevc' } });
    await media.plan('cam', [camera], settings, signal);
    expect(probed).toHaveLength(2);
  });

  it('asks for a bounded number of restarts in a row when every run finds another input', async () => {
    const { media } = planner();
    let restarts = 0;
    let ranOn = false;
    // A publisher that sends audio only, then video only, then audio only…: no plan fits twice.
    for (let run = 0; run < 20 && !ranOn; run++) {
      const { plan } = await media.plan('cam', [camera], settings, signal);
      const banner = run % 2 === 0 ? [bannerAudio] : [bannerVideo()];
      const verdict = media.check('cam', plan, banner, [camera], settings);
      expect(verdict.fits).toBe(false);
      if (verdict.restart) restarts++;
      else ranOn = true;
    }
    expect(restarts).toBe(maxReplansInARow);
    expect(ranOn).toBe(true);
  });

  it('asks again after a run whose plan fitted: a restart follows each real change of the input', async () => {
    const { media } = planner();
    const { plan } = await media.plan('cam', [camera], settings, signal);
    expect(media.check('cam', plan, [bannerVideo('hevc'), bannerAudio], [camera], settings).restart).toBe(
      true,
    );
    const replanned = await media.plan('cam', [camera], settings, signal);
    expect(
      media.check('cam', replanned.plan, [bannerVideo('hevc'), bannerAudio], [camera], settings).fits,
    ).toBe(true);
    const next = await media.plan('cam', [camera], settings, signal);
    expect(media.check('cam', next.plan, [bannerVideo('vp9'), bannerAudio], [camera], settings).restart).toBe(
      true,
    );
  });

  it('never asks for a restart when the banner says what the plan was made from', async () => {
    const banners: BannerStream[][] = [
      [bannerVideo()],
      [bannerAudio],
      [bannerVideo(), bannerAudio],
      [bannerVideo('hevc'), bannerAudio],
      [bannerVideo('mjpeg')],
      [{ index: 0, stream: 0, type: 'audio', codec: 'opus', sampling_hz: 48_000, channels: 2 }],
    ];
    for (const banner of banners) {
      const media = new MediaPlanner(async () => {
        throw new ProbeFailedError('listening', 'not probed');
      });
      const first = await media.plan('live', [listening], settings, signal);
      const firstVerdict = media.check('live', first.plan, banner, [listening], settings);
      const second = await media.plan('live', [listening], settings, signal);
      // Same banner again: the plan made from it fits it.
      expect(media.check('live', second.plan, banner, [listening], settings)).toMatchObject({
        fits: true,
        restart: false,
      });
      expect(firstVerdict.restart).toBe(!firstVerdict.fits);
    }
  });

  it('takes an empty banner (stream lines hidden by the log level) as proving nothing', async () => {
    const { media } = planner();
    const { plan } = await media.plan('cam', [camera], settings, signal);
    expect(media.check('cam', plan, [], [camera], settings)).toEqual({
      fits: true,
      reasons: [],
      restart: false,
    });
  });

  it('notes a failed probe with the credentials redacted and plans without facts', async () => {
    const { media } = planner(
      new ProbeFailedError('exit', 'rtsp://***@10.0.0.2/stream1: Connection refused'),
    );
    const { plan, notes } = await media.plan('cam', [camera], settings, signal);
    expect(plan.basis).toBe('none');
    expect(notes).toEqual(['input 0: probe failed (exit): rtsp://***@10.0.0.2/stream1: Connection refused']);
    expect(notes.join()).not.toContain('secret');
  });

  it('probes nothing once the start is called off', async () => {
    const { media, probed } = planner();
    const aborted = new AbortController();
    aborted.abort();
    const { plan } = await media.plan('cam', [camera], settings, aborted.signal);
    expect(probed).toEqual([]);
    expect(plan.basis).toBe('none');
  });

  it('transcodes H.264 from every later start once B-frames were seen on the copy, and says so once', async () => {
    const { media } = planner();
    await media.plan('cam', [camera], settings, signal);
    expect(media.sawReorders('cam')).toBe(true);
    expect(media.sawReorders('cam')).toBe(false);
    const { plan } = await media.plan('cam', [camera], settings, signal);
    expect(plan.video).toMatchObject({ action: 'transcode', reason: expect.stringContaining('B-frames') });
    // A plan made with that knowledge fits the banner too.
    expect(media.check('cam', plan, [bannerVideo(), bannerAudio], [camera], settings).fits).toBe(true);
  });

  it('forgets what it learnt when the inputs or the track settings change', async () => {
    const { media } = planner();
    await media.plan('cam', [camera], settings, signal);
    media.sawReorders('cam');
    const other = { ...camera, address: 'rtsp://10.0.0.3/stream1' };
    const { plan } = await media.plan('cam', [other], settings, signal);
    expect(plan.video.action).toBe('copy');
  });
});
