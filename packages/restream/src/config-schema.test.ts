import { describe, expect, it } from 'vitest';
import { processConfigSchema, withGeneratedIds } from './config-schema.js';

const minimal = {
  input: [{ address: 'testsrc2', options: ['-f', 'lavfi'] }],
  output: [{ address: '-', options: ['-f', 'null'] }],
};

describe('processConfigSchema', () => {
  // datarhei Core v16: http/handler/api/process.go `Add` presets `Autostart: true`; every other field
  // of `api.ProcessConfig` is Go's zero value when the body omits it.
  it.each([
    ['type', 'ffmpeg'],
    ['reference', ''],
    ['options', []],
    ['autostart', true],
    ['reconnect', false],
    ['reconnect_delay_seconds', 0],
    ['stale_timeout_seconds', 0],
    ['limits', { cpu_usage: 0, memory_mbytes: 0, waitfor_seconds: 0 }],
  ])('defaults an omitted %s as datarhei does', (field, expected) => {
    expect(processConfigSchema.parse(minimal)).toHaveProperty([field], expected);
  });

  it('defaults outputs without cleanup rules, and leaves an omitted webrtc block absent', () => {
    const config = processConfigSchema.parse(minimal);
    expect(config).not.toHaveProperty('webrtc');
    expect(config.output[0]).toEqual({ id: '', address: '-', options: ['-f', 'null'], cleanup: [] });
  });

  it('fills a given webrtc block with its defaults', () => {
    expect(processConfigSchema.parse({ ...minimal, webrtc: { enabled: false } }).webrtc).toMatchObject({
      enabled: false,
      video_pt: 96,
      audio_pt: 111,
      force_transcode: false,
    });
  });

  it('accepts a process whose only output is WebRTC', () => {
    expect(processConfigSchema.safeParse({ ...minimal, output: [], webrtc: { enabled: true } }).success).toBe(
      true,
    );
  });

  it.each([
    ['no output and no WebRTC', { ...minimal, output: [] }, 'output'],
    ['no input', { ...minimal, input: [] }, 'input'],
    ['an id with a slash', { ...minimal, id: '../etc' }, 'id'],
    [
      'duplicate output ids',
      {
        ...minimal,
        output: [
          { id: 'a', address: 'x' },
          { id: 'a', address: 'y' },
        ],
      },
      'output.1.id',
    ],
    ['another process type', { ...minimal, type: 'gstreamer' }, 'type'],
    ['a negative reconnect delay', { ...minimal, reconnect_delay_seconds: -1 }, 'reconnect_delay_seconds'],
  ])('rejects %s', (_name, candidate, path) => {
    const result = processConfigSchema.safeParse(candidate);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
  });

  it('generates missing ids without clashing with given ones', () => {
    const config = processConfigSchema.parse({
      ...minimal,
      input: [{ address: 'a' }, { id: 'in_0', address: 'b' }],
      output: [{ address: 'x' }, { address: 'y' }],
    });
    const filled = withGeneratedIds(config, () => 'generated');
    expect(filled.id).toBe('generated');
    expect(filled.input.map((io) => io.id)).toEqual(['in_1', 'in_0']);
    expect(filled.output.map((io) => io.id)).toEqual(['out_0', 'out_1']);
  });
});
