import { describe, expect, it } from 'vitest';
import { BannerParser, LineSplitter, ProgressParser } from './ffmpeg-output-parser.js';

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
