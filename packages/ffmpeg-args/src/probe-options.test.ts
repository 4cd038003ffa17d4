import { describe, expect, it } from 'vitest';
import { ffprobePathFor, probeInputOptions } from './probe-options.js';

describe('ffprobePathFor', () => {
  it.each([
    ['/usr/bin/ffmpeg', '/usr/bin/ffprobe'],
    ['ffmpeg', 'ffprobe'],
    ['/opt/ffmpeg-7/bin/ffmpeg', '/opt/ffmpeg-7/bin/ffprobe'],
    ['/opt/bin/ffmpeg-static', '/opt/bin/ffprobe-static'],
    ['/opt/bin/encoder', '/opt/bin/ffprobe'],
  ])('%s → %s', (ffmpeg, ffprobe) => {
    expect(ffprobePathFor(ffmpeg)).toBe(ffprobe);
  });
});

describe('probeInputOptions', () => {
  it('drops options only ffmpeg knows, with their values, and spells -s as -video_size', () => {
    expect(
      probeInputOptions([
        ...['-re', '-stream_loop', '-1', '-thread_queue_size', '512', '-c:v', 'h264_qsv', '-hwaccel', 'auto'],
        ...['-s', '640x480', '-f', 'v4l2', '-framerate', '30', '-timeout', '5000000', '-an'],
      ]),
    ).toEqual(['-video_size', '640x480', '-f', 'v4l2', '-framerate', '30', '-timeout', '5000000']);
  });
});
