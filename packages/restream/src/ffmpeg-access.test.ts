import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processConfigSchema } from './config-schema.js';
import { FFmpegAccessDeniedError } from './errors.js';
import { FFmpegAccess, ffmpegAccessSchema } from './ffmpeg-access.js';

const dataDir = mkdtempSync(join(tmpdir(), 'dragon-access-'));
const configFile = join(dataDir, 'config.json');
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const access = (options: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) =>
  new FFmpegAccess(
    ffmpegAccessSchema.parse({ protectedPaths: [configFile], ...options }),
    { cwd: dataDir, storeFile: join(dataDir, 'db.json'), defaultOutputDirectory: dataDir },
    env,
  );

const process = (
  input: { address: string; options?: string[] },
  output = { address: '-', options: [] as string[] },
) =>
  processConfigSchema.parse({
    id: 'p',
    input: [{ id: 'in', ...input }],
    output: [{ id: 'out', ...output }],
  });

const denial = (check: () => void): FFmpegAccessDeniedError | undefined => {
  try {
    check();
  } catch (error) {
    if (error instanceof FFmpegAccessDeniedError) return error;
    throw error;
  }
  return undefined;
};

describe('FFmpegAccess', () => {
  const policy = access();

  it.each([
    ['/proc/self/environ'],
    ['file:/proc/self/environ'],
    ['/proc/1/environ'],
    ['/sys/class/net'],
    ['async:file:/proc/self/environ'],
    ['concat:/tmp/a.ts|/proc/self/environ'],
    ['subfile,,start,0,end,0,,:/proc/self/environ'],
    ['movie=/proc/self/environ[out0]'],
    ["movie=filename='/pro\\c/self/environ'"],
    ['/dev/fd/../environ'],
    ['/dev/stdin'],
    ['config.json'],
    ['db.json'],
  ])('refuses the input %s', (address) => {
    expect(denial(() => policy.check('p', process({ address })))).toBeInstanceOf(FFmpegAccessDeniedError);
  });

  it('refuses the config file, the store and their temp and backup copies by absolute path', () => {
    for (const address of [
      configFile,
      `${configFile}.4242.tmp`,
      `${configFile}.bak`,
      join(dataDir, 'db.json'),
      join(dataDir, 'db.json.123.tmp'),
      join(dataDir, 'db.json.corrupt-2026-01-01T00-00-00.000Z'),
    ]) {
      expect(
        denial(() => policy.check('p', process({ address }))),
        address,
      ).toBeDefined();
    }
  });

  it('refuses a protected path hidden in an option, e.g. a second -i or -attach', () => {
    const check = (options: string[]) =>
      denial(() => policy.check('p', process({ address: 'testsrc2', options })));
    expect(check(['-f', 'lavfi', '-i', '/proc/self/environ'])).toBeDefined();
    expect(check(['-attach', configFile])).toBeDefined();
    expect(check(['-f', 'lavfi'])).toBeUndefined();
  });

  it('refuses a symbolic link that points at a protected path', () => {
    const link = join(dataDir, 'innocent.txt');
    symlinkSync('/proc/self/environ', link);
    expect(denial(() => policy.check('p', process({ address: link })))).toBeDefined();
  });

  it.each([
    ['rtsp://user:pass@camera/proc/stream'],
    ['http://127.0.0.1:8080/memfs/live.m3u8'],
    ['srt://127.0.0.1:6000?mode=listener'],
    ['testsrc2=size=640x360:rate=25'],
    ['/media/videos/film.mp4'],
    ['-'],
  ])('allows the input %s', (address) => {
    expect(denial(() => policy.check('p', process({ address })))).toBeUndefined();
  });

  it.each([
    ['-'],
    ['pipe:1'],
    ['/dev/null'],
    ['rtmp://127.0.0.1/live/stream'],
    ['udp://127.0.0.1:5000?pkt_size=1316'],
    ['http://127.0.0.1:8080/memfs/live.m3u8'],
    ['hls+http://example.com/x'],
    [join(dataDir, 'hls', 'live.m3u8')],
    [`file:${join(dataDir, 'out.ts')}`],
    ['relative/out.ts'],
    [`[f=mpegts]${join(dataDir, 'a.ts')}|[f=flv]rtmp://127.0.0.1/live/b`],
  ])('allows the output %s', (address) => {
    expect(
      denial(() => policy.check('p', process({ address: 'x' }, { address, options: [] }))),
    ).toBeUndefined();
  });

  it.each([
    ['/etc/cron.d/evil'],
    ['file:/tmp/x.ts'],
    ['tee:/tmp/a.ts|/tmp/b.ts'],
    [`[f=mpegts]${join(dataDir, 'a.ts')}|[f=mpegts]/tmp/b.ts`],
    ['md5:/tmp/sum'],
    ['unix:/run/some.sock'],
    ['gopher2://x'],
    [join(dataDir, 'db.json')],
    [configFile],
    ['relative/../../etc/x'],
  ])('refuses the output %s', (address) => {
    expect(
      denial(() => policy.check('p', process({ address: 'x' }, { address, options: [] }))),
    ).toBeDefined();
  });

  it('applies datarhei allow and block lists: block first, then an allow match if any are given', () => {
    const lists = access({
      input: { allow: ['^rtsp://', '^srt://'], block: ['^rtsp://blocked'] },
      output: { block: ['^file:.*\\.mp4$'] },
    });
    const input = (address: string) => denial(() => lists.check('p', process({ address })));
    expect(input('rtsp://camera/stream')).toBeUndefined();
    expect(input('rtsp://blocked/stream')?.reason).toBe('the address is not allowed');
    expect(input('http://elsewhere/x')).toBeDefined();
    const output = (address: string) =>
      denial(() => lists.check('p', process({ address: 'srt://x' }, { address, options: [] })));
    expect(output(join(dataDir, 'a.ts'))).toBeUndefined();
    expect(output(join(dataDir, 'a.mp4'))).toBeDefined();
  });

  it('follows symbolic links of output directories and paths', () => {
    const linked = join(dataDir, 'linked-media');
    symlinkSync(dataDir, linked);
    const viaLink = access({ outputDirectories: [linked] });
    const output = (address: string) =>
      denial(() => viaLink.check('p', process({ address: 'x' }, { address, options: [] })));
    expect(output(join(linked, 'a.ts'))).toBeUndefined();
    expect(output(join(dataDir, 'a.ts'))).toBeUndefined();
    const outward = join(dataDir, 'outward');
    symlinkSync('/tmp', outward);
    expect(output(join(outward, 'a.ts'))).toBeDefined();
  });

  it('lets outputs write only into the configured directories', () => {
    const elsewhere = access({ outputDirectories: ['/srv/media'] });
    const output = (address: string) =>
      denial(() => elsewhere.check('p', process({ address: 'x' }, { address, options: [] })));
    expect(output('/srv/media/a.ts')).toBeUndefined();
    expect(output('/srv/media-evil/a.ts')).toBeDefined();
    expect(output(join(dataDir, 'a.ts'))).toBeDefined();
  });

  it('hands FFmpeg only the listed environment variables', () => {
    const env = { PATH: '/usr/bin', LANG: 'C.UTF-8', CORE_API_AUTH_PASSWORD: 'secret', HOME: '/root' };
    expect(access({}, env).environment).toEqual({ PATH: '/usr/bin', LANG: 'C.UTF-8' });
    expect(access({ environment: ['PATH', 'HOME'] }, env).environment).toEqual({
      PATH: '/usr/bin',
      HOME: '/root',
    });
  });

  it('refuses a regular expression that does not compile', () => {
    expect(ffmpegAccessSchema.safeParse({ input: { allow: ['('] } }).success).toBe(false);
  });
});
