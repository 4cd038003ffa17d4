import { describe, expect, it } from 'vitest';
import type { InputFacts, StreamFacts } from './input-facts.js';
import { type PlanSettings, planMedia } from './media-plan.js';
import { renditionCores, videoDecodeCores } from './transcode-cost.js';

const camera = (video: Partial<StreamFacts>): InputFacts => ({
  source: 'probe',
  format: 'rtsp',
  listening: false,
  streams: [
    {
      index: 0,
      kind: 'video',
      codec: 'h264',
      profile: 'High',
      pix_fmt: 'yuv420p',
      width: 1280,
      height: 720,
      fps: 25,
      reorders: false,
      ...video,
    },
    { index: 1, kind: 'audio', codec: 'aac', sample_rate: 44_100, channels: 2 },
  ],
});
const hd = camera({});
const settings = (more: Partial<PlanSettings>): PlanSettings => ({
  video: 'auto',
  audio: 'auto',
  force_transcode: false,
  ...more,
});
const summary = (plan: ReturnType<typeof planMedia>) =>
  plan.renditions.map(({ id, kind, action, bitrate_kbit }) => [id, kind, action, bitrate_kbit]);

describe('the ladder of a start', () => {
  it('is empty when renditions and VP8 are off, as before renditions existed', () => {
    const plan = planMedia(hd, settings({ renditions: 'off', vp8: 'off' }));
    expect([plan.renditions, plan.ladder_notes, plan.ladder_cpu_cores]).toEqual([[], [], 0]);
    expect(planMedia(hd, settings({})).renditions).toEqual([]);
  });

  it('picks 480p, 360p and 240p below a copied 720p25 top, with the audio-only fallback', () => {
    const plan = planMedia(hd, settings({ renditions: 'auto' }));
    expect(summary(plan)).toEqual([
      ['720p', 'top', 'copy', 0],
      ['480p', 'rung', 'transcode', 800],
      ['360p', 'rung', 'transcode', 350],
      ['240p', 'rung', 'transcode', 130],
      ['audio', 'audio-only', 'transcode', 64],
    ]);
    expect(plan.ladder_notes).toEqual([]);
    const rungs = [480, 360, 240].map((height) => renditionCores(hd.streams[0], height, 'h264'));
    const total = rungs.reduce((sum, cores) => sum + cores, videoDecodeCores(hd.streams[0]));
    expect(plan.ladder_cpu_cores).toBeCloseTo(total, 2);
    // The copy top and its audio cost what they cost without a ladder.
    expect(plan.cpu_cores).toBe(planMedia(hd, settings({})).cpu_cores);
  });

  it('sizes rungs for 30 fps and caps the rate at 30 for a faster input', () => {
    const plan = planMedia(camera({ fps: 60 }), settings({ renditions: 'auto' }));
    const rung = plan.renditions.find((rendition) => rendition.id === '360p');
    expect(rung).toMatchObject({ bitrate_kbit: 420, fps: 30 });
  });

  it.each([
    [1080, ['1080p', '720p', '480p', '360p', '240p']],
    [480, ['480p', '360p', '240p']],
    [360, ['360p', '240p']],
    [240, ['240p']],
  ])('gives a %ip input the rungs below it only', (height, ids) => {
    const plan = planMedia(
      camera({ height, width: Math.round((height * 16) / 9) }),
      settings({ renditions: 'auto' }),
    );
    expect(plan.renditions.filter((r) => r.kind !== 'audio-only').map((r) => r.id)).toEqual(ids);
  });

  it('plans rungs below a transcoded top from its capped height', () => {
    const plan = planMedia(
      camera({ height: 1080, width: 1920 }),
      settings({ renditions: 'auto', force_transcode: true, max_height: 480 }),
    );
    expect(summary(plan).slice(0, 3)).toEqual([
      ['480p', 'top', 'transcode', 2500],
      ['360p', 'rung', 'transcode', 350],
      ['240p', 'rung', 'transcode', 130],
    ]);
  });

  it('drops rungs of an explicit ladder that would scale up, and says so', () => {
    const plan = planMedia(
      hd,
      settings({
        renditions: [
          { height: 1080, bitrate_kbit: 4000 },
          { height: 360, bitrate_kbit: 500 },
        ],
      }),
    );
    expect(summary(plan)).toEqual([
      ['720p', 'top', 'copy', 0],
      ['360p', 'rung', 'transcode', 500],
      ['audio', 'audio-only', 'transcode', 64],
    ]);
    expect(plan.ladder_notes).toEqual([
      "1080p not added: not below the top's 720p (renditions are never scaled up)",
    ]);
  });

  it('adds rungs in order of use while the budget lasts and notes each refused one', () => {
    const decode = videoDecodeCores(hd.streams[0]);
    const p360 = renditionCores(hd.streams[0], 360, 'h264');
    const p240 = renditionCores(hd.streams[0], 240, 'h264');
    // Room for the decode, 360p and 240p, not for 480p.
    const budget = { cores: decode + p360 + p240 + 0.01, why: 'test budget' };
    const plan = planMedia(hd, settings({ renditions: 'auto', rendition_budget: budget }));
    expect(summary(plan)).toEqual([
      ['720p', 'top', 'copy', 0],
      ['480p', 'rung', 'off', 800],
      ['360p', 'rung', 'transcode', 350],
      ['240p', 'rung', 'transcode', 130],
      ['audio', 'audio-only', 'transcode', 64],
    ]);
    expect(plan.ladder_notes).toHaveLength(1);
    expect(plan.ladder_notes[0]).toMatch(
      /^480p not added: it would take about 0\.\d+ cores; 0\.\d+ are left \(test budget\)$/,
    );
    expect(plan.renditions[1]?.reason).toBe(plan.ladder_notes[0]);
  });

  it('adds nothing when the budget cannot pay for the decode and one rung', () => {
    const plan = planMedia(
      hd,
      settings({ renditions: 'auto', rendition_budget: { cores: 0.05, why: 'tight' } }),
    );
    expect(plan.renditions.filter((r) => r.action === 'transcode')).toEqual([
      expect.objectContaining({ kind: 'audio-only' }),
    ]);
    expect(plan.ladder_notes[0]).toMatch(
      /^360p not added: .*\(decoding the copied top included\); 0\.05 are left \(tight\)$/,
    );
    expect(plan.ladder_cpu_cores).toBe(0);
  });

  it('encodes VP8 at 360p with the ladder when always, right after the 360p rung', () => {
    const decode = videoDecodeCores(hd.streams[0]);
    const p360 = renditionCores(hd.streams[0], 360, 'h264');
    const vp8 = renditionCores(hd.streams[0], 360, 'vp8');
    const budget = { cores: decode + p360 + vp8 + 0.01, why: 'test budget' };
    const plan = planMedia(hd, settings({ renditions: 'auto', vp8: 'always', rendition_budget: budget }));
    expect(summary(plan)).toEqual([
      ['720p', 'top', 'copy', 0],
      ['480p', 'rung', 'off', 800],
      ['360p', 'rung', 'transcode', 350],
      ['240p', 'rung', 'off', 130],
      ['vp8-360p', 'vp8', 'transcode', 450],
      ['audio', 'audio-only', 'transcode', 64],
    ]);
    expect(vp8).toBeGreaterThan(p360);
  });

  it('plans VP8 on demand with its cost, decode included, outside what the start spends', () => {
    const plan = planMedia(hd, settings({ vp8: 'on-demand' }));
    expect(summary(plan)).toEqual([
      ['720p', 'top', 'copy', 0],
      ['vp8-360p', 'vp8', 'on-demand', 450],
    ]);
    const vp8 = plan.renditions[1]!;
    expect(vp8.estimated_cpu).toBeGreaterThan(renditionCores(hd.streams[0], 360, 'vp8'));
    expect(vp8.reason).toMatch(/only while such a viewer watches \(about [\d.]+ cores then\)/);
    expect(plan.ladder_cpu_cores).toBe(0);
  });

  it('charges VP8 on demand to the budget: refused with a note when it does not fit, so a viewer without H.264 gets audio', () => {
    const budget = { cores: 0.01, why: 'tight' };
    const plan = planMedia(hd, settings({ vp8: 'on-demand', rendition_budget: budget }));

    expect(summary(plan)).toEqual([
      ['720p', 'top', 'copy', 0],
      ['vp8-360p', 'vp8', 'off', 450],
    ]);
    expect(plan.ladder_notes).toEqual([
      expect.stringMatching(
        /^vp8-360p not made on demand: it would take about [\d.]+ cores while a viewer without H\.264 watches; 0\.01 are left \(tight\); such a viewer gets audio only$/,
      ),
    ]);
    expect(plan.renditions[1]?.reason).toBe(plan.ladder_notes[0]);
    expect(plan.ladder_cpu_cores).toBe(0);
  });

  it('keeps the room of VP8 on demand in the budget, so the ladder and VP8 fit together, outside what the start spends', () => {
    const decode = videoDecodeCores(hd.streams[0]);
    const p360 = renditionCores(hd.streams[0], 360, 'h264');
    const vp8 = planMedia(hd, settings({ vp8: 'on-demand' })).renditions[1]!.estimated_cpu;
    // Room for the 360p rung (with the decode of the copied top) and VP8, not for 240p as well.
    const budget = { cores: decode + p360 + vp8 + 0.01, why: 'test budget' };
    const plan = planMedia(hd, settings({ renditions: 'auto', vp8: 'on-demand', rendition_budget: budget }));

    expect(summary(plan)).toEqual([
      ['720p', 'top', 'copy', 0],
      ['480p', 'rung', 'off', 800],
      ['360p', 'rung', 'transcode', 350],
      ['240p', 'rung', 'off', 130],
      ['vp8-360p', 'vp8', 'on-demand', 450],
      ['audio', 'audio-only', 'transcode', 64],
    ]);
    expect(plan.ladder_cpu_cores).toBe(Math.round((decode + p360) * 100) / 100);
  });

  it('plans but does not make renditions the data plane cannot take, and says why', () => {
    const plan = planMedia(
      hd,
      settings({ renditions: 'auto', vp8: 'always', renditions_blocked: 'no rendition tracks yet' }),
    );
    expect(plan.renditions.filter((r) => r.kind === 'rung' || r.kind === 'vp8').map((r) => r.action)).toEqual(
      ['off', 'off', 'off', 'off'],
    );
    expect(plan.renditions[1]?.reason).toBe(
      'ladder auto: H.264 at 800 kbit/s; not made: no rendition tracks yet',
    );
    expect(plan.ladder_notes).toEqual(['renditions planned, not made: no rendition tracks yet']);
    expect(plan.ladder_cpu_cores).toBe(0);
  });

  it("scales every estimate by the machine's measured factor instead of the margin", () => {
    const slow = planMedia(hd, settings({ renditions: 'auto', rendition_cost_factor: 4 }));
    const rung = slow.renditions.find((rendition) => rendition.id === '360p');
    expect(rung?.estimated_cpu).toBe(renditionCores(hd.streams[0], 360, 'h264', 4));
    expect(rung?.estimated_cpu).toBeGreaterThan(renditionCores(hd.streams[0], 360, 'h264'));
    expect(slow.ladder_cpu_cores).toBeGreaterThan(
      planMedia(hd, settings({ renditions: 'auto' })).ladder_cpu_cores,
    );
  });

  it('has no ladder for an input without video', () => {
    const audioOnly: InputFacts = { ...hd, streams: [hd.streams[1]!] };
    const plan = planMedia(audioOnly, settings({ renditions: 'auto' }));
    expect([plan.renditions, plan.ladder_notes]).toEqual([[], ['no renditions: the plan sends no video']]);
  });

  it('plans an input not known yet from max_height, the legs never scaling up', () => {
    const plan = planMedia(undefined, settings({ renditions: 'auto', max_height: 720 }));
    expect(plan.renditions.map((r) => r.id)).toEqual(['720p', '480p', '360p', '240p', 'audio']);
    expect(plan.renditions[0]?.height).toBeUndefined();
  });
});
