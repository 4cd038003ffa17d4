import { describe, expect, it } from 'vitest';
import {
  BannerParser,
  isStatsLine,
  LineSplitter,
  ProgressParser,
  stripLogPrefix,
} from './ffmpeg-output-parser.js';

describe('BannerParser', () => {
  it('reads per-stream facts of inputs and outputs', () => {
    const parser = new BannerParser();
    for (const line of [
      "Input #0, rtsp, from 'rtsp://cam/stream':",
      '  Stream #0:0: Video: h264 (High), yuv420p(progressive), 1920x1080, 25 fps, 25 tbr, 90k tbn',
      '  Stream #0:1: Audio: aac (LC), 48000 Hz, stereo, fltp',
      "Output #0, rtp, to 'udp://127.0.0.1:5000?pkt_size=1200':",
      '  Stream #0:0: Video: h264 (libx264), yuv420p(tv, progressive), 640x360 [SAR 1:1 DAR 16:9], q=2-31, 30 fps, 90k tbn',
      '  Stream #0:0(eng): Audio: opus, 48000 Hz, mono, s16, 64 kb/s',
      'garbage \u0000\u00ff line',
    ]) {
      parser.feed(line);
    }
    expect(parser.facts.inputs).toMatchObject([
      {
        type: 'video',
        codec: 'h264',
        width: 1920,
        height: 1080,
        fps: 25,
        pix_fmt: 'yuv420p',
        format: 'rtsp',
      },
      { type: 'audio', codec: 'aac', sampling_hz: 48000, layout: 'stereo', channels: 2 },
    ]);
    expect(parser.facts.outputs).toMatchObject([
      {
        type: 'video',
        codec: 'h264',
        width: 640,
        height: 360,
        fps: 30,
        address: 'udp://127.0.0.1:5000?pkt_size=1200',
      },
      { type: 'audio', codec: 'opus', channels: 1, bitrate_kbit: 64 },
    ]);
  });

  it('reads the profile and marks cover art, which is not a video track', () => {
    const parser = new BannerParser();
    for (const line of [
      "Input #0, mp3, from 'song.mp3':",
      '  Stream #0:0: Audio: mp3, 44100 Hz, stereo, fltp, 128 kb/s',
      '  Stream #0:1: Video: png, rgb24(pc), 64x64, 90k tbr, 90k tbn (attached pic)',
      "Input #1, mov,mp4,m4a,3gp,3g2,mj2, from 'clip.mp4':",
      '  Stream #1:0[0x1](und): Video: h264 (Constrained Baseline) (avc1 / 0x31637661), yuv420p(progressive), 320x240, 25 fps',
      '  Stream #1:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 69 kb/s (default)',
    ]) {
      parser.feed(line);
    }
    const [mp3, cover, video, audio] = parser.facts.inputs;
    expect(mp3?.profile).toBeUndefined();
    expect(mp3?.attached_pic).toBeUndefined();
    expect(cover).toMatchObject({ type: 'video', codec: 'png', attached_pic: true });
    expect(video).toMatchObject({ codec: 'h264', profile: 'Constrained Baseline' });
    expect(video?.attached_pic).toBeUndefined();
    expect(audio).toMatchObject({ codec: 'aac', profile: 'LC' });
  });

  it('reads lines with -loglevel level+info prefixes, formats with commas and output encoders', () => {
    const parser = new BannerParser();
    for (const line of [
      "[info] Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'in, from 'x'.mp4':",
      '[info]   Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 320x240, 25 fps',
      "[info] Output #0, mpegts, to 'udp://127.0.0.1:5000':",
      '[info]   Stream #0:0: Video: h264, yuv420p(progressive), 320x240 [SAR 1:1 DAR 4:3], q=2-31, 25 fps, 90k tbn',
      '[info]     Metadata:',
      '[info]       encoder         : Lavc59.37.100 libx264',
      '[info]   Stream #0:1: Audio: mp2, 48000 Hz, mono, s16, 384 kb/s',
    ]) {
      parser.feed(line);
    }
    expect(parser.facts.inputs).toMatchObject([
      { index: 0, stream: 0, format: 'mov,mp4,m4a,3gp,3g2,mj2', address: "in, from 'x'.mp4", codec: 'h264' },
    ]);
    expect(parser.facts.outputs).toMatchObject([
      { type: 'video', codec: 'h264', coder: 'libx264', width: 320 },
      { type: 'audio', codec: 'mp2', coder: 'mp2', channels: 1 },
    ]);
  });
});

describe('stripLogPrefix and isStatsLine', () => {
  it.each([
    ['[info] Input #0, lavfi', 'Input #0, lavfi'],
    ['[libx264 @ 0x5627] [info] using SAR=1/1', 'using SAR=1/1'],
    ['[info]   Stream #0:0[0x100]: Video', '  Stream #0:0[0x100]: Video'],
    ['  Stream #0:0[0x100]: Video', '  Stream #0:0[0x100]: Video'],
    ['[unclosed', '[unclosed'],
    ['[tight]text', '[tight]text'],
  ])('strips %j to %j', (line, expected) => {
    expect(stripLogPrefix(line)).toBe(expected);
  });

  it('recognises the stats line with and without a level prefix', () => {
    expect(isStatsLine('frame=   50 fps=0.0 q=-1.0 size=104kB')).toBe(true);
    expect(isStatsLine('[info] frame=   50 fps=0.0 q=-1.0 size=104kB')).toBe(true);
    expect(isStatsLine('[info] size=     104kB time=00:00:02.00')).toBe(true);
    expect(isStatsLine('[info] Input #0, lavfi')).toBe(false);
  });
});

describe('ProgressParser', () => {
  it('hands out one block per progress line with numbers parsed', () => {
    const parser = new ProgressParser();
    const lines = [
      'frame=250',
      'fps=25.00',
      'stream_0_0_q=28.0',
      'bitrate= 512.3kbits/s',
      'total_size=1048576',
      'out_time_us=10000000',
      'dup_frames=1',
      'drop_frames=2',
      'speed=1.01x',
    ];
    for (const line of lines) expect(parser.feed(line)).toBeUndefined();
    expect(parser.feed('progress=continue')).toEqual({
      frame: 250,
      frameStream: { file: 0, stream: 0 },
      quantizers: [{ file: 0, stream: 0, q: 28 }],
      fps: 25,
      q: 28,
      size_kb: 1024,
      time: 10,
      bitrate_kbit: 512.3,
      speed: 1.01,
      drop: 2,
      dup: 1,
      end: false,
    });
    expect(parser.feed('bitrate=N/A')).toBeUndefined();
    expect(parser.feed('progress=end')).toMatchObject({ frame: 0, bitrate_kbit: 0, end: true });
  });

  it('names the stream FFmpeg counts frames of: the first quantizer line after frame=', () => {
    const parser = new ProgressParser();
    for (const line of ['frame=50', 'fps=25.0', 'stream_1_0_q=14.3', 'stream_0_0_q=-1.0', 'total_size=10']) {
      parser.feed(line);
    }
    expect(parser.feed('progress=continue')).toMatchObject({
      frame: 50,
      frameStream: { file: 1, stream: 0 },
      q: 14.3,
      quantizers: [
        { file: 1, stream: 0, q: 14.3 },
        { file: 0, stream: 0, q: -1 },
      ],
    });
    // Audio only: no frame=, so no stream is counted.
    parser.feed('total_size=100');
    expect(parser.feed('progress=continue')).toMatchObject({
      frame: 0,
      frameStream: undefined,
      quantizers: [],
    });
  });

  it('keeps a bounded number of keys per block', () => {
    const parser = new ProgressParser();
    for (let index = 0; index < 10_000; index++) parser.feed(`key${index}=1`);
    for (let index = 0; index < 10_000; index++) parser.feed(`stream_${index % 100}_0_q=1`);
    const block = parser.feed('progress=continue');
    expect(block?.quantizers.length).toBeLessThanOrEqual(256);
  });
});

describe('LineSplitter', () => {
  it('splits on \\n, \\r\\n and \\r across chunk boundaries and bounds line length', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line), 10);
    splitter.push('one\r\ntw');
    splitter.push('o\rthree\n');
    splitter.push('x'.repeat(50));
    splitter.flush();
    expect(lines).toEqual(['one', 'two', 'three', 'xxxxxxxxxx']);
  });
});
