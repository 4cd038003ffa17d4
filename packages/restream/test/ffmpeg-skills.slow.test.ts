import { expect, it } from 'vitest';
import { detectSkills } from '../src/ffmpeg-skills.js';

it("reads the installed FFmpeg's skills in datarhei's shape, without the legend's pseudo codecs", async () => {
  const skills = await detectSkills('ffmpeg');

  expect(Object.keys(skills)).toEqual([
    'ffmpeg',
    'filter',
    'hwaccels',
    'codecs',
    'devices',
    'formats',
    'protocols',
  ]);
  expect(skills.ffmpeg.version).toMatch(/^\d+\.\d+\.\d+$/);
  expect(skills.ffmpeg.libraries.map((library) => library.name)).toEqual(
    expect.arrayContaining(['libavutil', 'libavcodec', 'libavformat']),
  );
  const codecs = [...skills.codecs.video, ...skills.codecs.audio, ...skills.codecs.subtitle];
  expect(codecs.every((codec) => /^\w+$/.test(codec.id))).toBe(true);
  expect(skills.codecs.video.find((codec) => codec.id === 'h264')?.decoders).toContain('h264');
  expect(skills.filter.map((filter) => filter.id)).toEqual(expect.arrayContaining(['scale', 'testsrc2']));
  expect(skills.devices.demuxers.map((device) => device.id)).toContain('lavfi');
  expect(skills.devices.demuxers.every((device) => Array.isArray(device.devices))).toBe(true);
  expect(skills.formats.muxers.map((format) => format.id)).toContain('mpegts');
  expect(skills.protocols.input.map((protocol) => protocol.id)).toContain('file');
});
