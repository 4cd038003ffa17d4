import { describe, expect, it } from 'vitest';
import type { InputFacts } from './input-facts.js';
import { planPacing } from './input-pacing.js';
import type { ProcessInput } from './listening-input.js';
import { planMedia } from './media-plan.js';
import { webRtcConfigSchema } from './webrtc-config.js';

const probed = (format: string, extra: Partial<InputFacts> = {}): InputFacts => ({
  source: 'probe',
  format,
  listening: false,
  streams: [],
  ...extra,
});

describe('planPacing', () => {
  const rows: { name: string; input: ProcessInput; facts?: InputFacts; paced: boolean; why: RegExp }[] = [
    {
      name: 'a live HLS playlist over HTTP',
      input: { address: 'https://cdn.example/live/index.m3u8?token=x' },
      facts: probed('hls'),
      paced: true,
      why: /^HLS\/DASH: FFmpeg fetches whole segments/,
    },
    {
      name: 'an HLS playlist not probed (the address says it)',
      input: { address: 'http://10.0.0.5/cam/stream.m3u8' },
      paced: true,
      why: /^HLS\/DASH/,
    },
    {
      name: 'DASH',
      input: { address: 'https://cdn.example/live.mpd' },
      facts: probed('dash'),
      paced: true,
      why: /^HLS\/DASH/,
    },
    {
      name: 'an hls+http address',
      input: { address: 'hls+http://cdn.example/live' },
      paced: true,
      why: /^HLS\/DASH/,
    },
    {
      name: 'a local file',
      input: { address: '/media/clip.mp4' },
      paced: true,
      why: /^a file is read as fast as the disk allows/,
    },
    {
      name: 'a looped file',
      input: { address: '/media/loop.mkv', options: ['-stream_loop', '-1'] },
      paced: true,
      why: /^a file/,
    },
    { name: 'a file: URL', input: { address: 'file:/media/clip.ts' }, paced: true, why: /^a file/ },
    {
      name: 'a lavfi generator',
      input: { address: 'testsrc2=size=640x360:rate=25', options: ['-f', 'lavfi'] },
      paced: true,
      why: /^a generator \(lavfi\)/,
    },
    {
      name: 'a file over HTTP (it has a duration)',
      input: { address: 'https://cdn.example/clip.mp4' },
      facts: probed('mov,mp4,m4a,3gp,3g2,mj2', { duration: 80 }),
      paced: true,
      why: /^a file over HTTP/,
    },
    {
      name: 'a live stream over HTTP (no duration)',
      input: { address: 'http://10.0.0.5/live.flv' },
      facts: probed('flv'),
      paced: false,
      why: /^a stream over HTTP without a duration/,
    },
    {
      name: 'an RTSP camera',
      input: { address: 'rtsp://10.0.0.2/main' },
      facts: probed('rtsp'),
      paced: false,
      why: /^rtsp arrives in real time/,
    },
    {
      name: 'RTMP pulled',
      input: { address: 'rtmp://relay/live/cam' },
      paced: false,
      why: /^rtmp arrives in real time/,
    },
    {
      name: 'SRT',
      input: { address: 'srt://10.0.0.9:9000?streamid=cam' },
      paced: false,
      why: /^srt arrives/,
    },
    {
      name: 'UDP MPEG-TS',
      input: { address: 'udp://0.0.0.0:5000', options: ['-f', 'mpegts'] },
      paced: false,
      why: /^udp arrives/,
    },
    {
      name: 'a listening RTMP input',
      input: { address: 'rtmp://0.0.0.0:1935/live/cam', options: ['-listen', '1'] },
      paced: false,
      why: /^a listening input/,
    },
    {
      name: 'a capture device',
      input: { address: '/dev/video0', options: ['-f', 'v4l2'] },
      paced: false,
      why: /^a capture device/,
    },
    {
      name: 'a device the probe recognised',
      input: { address: '/dev/video0' },
      facts: probed('video4linux2,v4l2'),
      paced: false,
      why: /^a capture device/,
    },
    {
      name: 'a file whose options set the rate already',
      input: { address: '/media/clip.mp4', options: ['-re'] },
      paced: false,
      why: /options set its rate \(-re\)/,
    },
    {
      name: 'HLS read at a rate of the user’s',
      input: { address: 'https://cdn.example/live.m3u8', options: ['-readrate', '1.5'] },
      paced: false,
      why: /options set its rate \(-readrate\)/,
    },
    {
      name: 'standard input',
      input: { address: 'pipe:0' },
      paced: false,
      why: /^pipe: not known to come faster than real time/,
    },
  ];

  it.each(rows)('$name: paced $paced', ({ input, facts, paced, why }) => {
    const [pacing] = planPacing([input], [facts]);
    expect(pacing).toMatchObject({ input: 0, paced });
    expect(pacing?.reason).toMatch(why);
  });

  it('decides every input on its own, by index', () => {
    const pacing = planPacing(
      [{ address: 'rtsp://10.0.0.2/main' }, { address: '/media/overlay.png', options: ['-loop', '1'] }],
      [probed('rtsp'), undefined],
    );
    expect(pacing.map(({ input, paced }) => [input, paced])).toEqual([
      [0, false],
      [1, true],
    ]);
  });

  it('is part of the media plan when the plan is given the inputs', () => {
    const settings = webRtcConfigSchema.parse({ enabled: true });
    const input = { address: 'https://cdn.example/live/index.m3u8' };

    expect(planMedia([probed('hls')], settings, [input]).pacing).toEqual([
      { input: 0, paced: true, reason: expect.stringMatching(/^HLS\/DASH/) },
    ]);
    expect(planMedia([probed('hls')], settings).pacing).toEqual([]);
  });
});
