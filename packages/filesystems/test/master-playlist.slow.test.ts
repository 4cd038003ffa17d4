import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { MasterPlaylistIndex } from '../src/hls/hls-outputs.js';
import { attribute, parsePlaylistLines } from '../src/hls/m3u8.js';
import { MasterPlaylists } from '../src/hls/master-playlist.js';
import { MemFilesystem } from '../src/mem-filesystem.js';

// Real FFmpeg writes the HLS; the completion is checked against what FFmpeg itself writes when it
// knows the bit rates (encoded streams), and against the segments' own sizes.

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'dragon-hls-master-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const pattern = '-f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine=sample_rate=48000'.split(' ');

/** Runs FFmpeg writing HLS into a fresh directory as `v.m3u8` with master `m.m3u8`; returns the directory. */
async function writeHls(name: string, args: string[], segment = 'v_%04d.ts'): Promise<string> {
  const dir = join(work, name);
  await run('mkdir', ['-p', dir]);
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    ...args,
    '-f',
    'hls',
    '-hls_time',
    '1',
    '-hls_list_size',
    '0',
    '-master_pl_name',
    'm.m3u8',
    '-hls_segment_filename',
    join(dir, segment),
    join(dir, 'v.m3u8'),
  ]);
  return dir;
}

/** The directory's files in a memfs, and the master completed as Dragon serves it. */
async function served(dir: string, master = readFileSync(join(dir, 'm.m3u8'), 'utf8')) {
  const mem = new MemFilesystem();
  for (const file of readdirSync(dir)) await mem.write(`/${file}`, readFileSync(join(dir, file)));
  const index = new MasterPlaylistIndex();
  index.set(
    'cam',
    [{ address: `${dir}/v.m3u8`, options: ['-f', 'hls', '-master_pl_name', 'm.m3u8'] }],
    (address) =>
      address.startsWith(`${dir}/`) ? { filesystem: 'mem', path: address.slice(dir.length) } : undefined,
  );
  const playlists = new MasterPlaylists(mem, { variantsOf: (path) => index.variantsOf('mem', path) });
  const text = await playlists.complete('/m.m3u8', master);
  const facts = await playlists.facts('/v.m3u8');
  return { text, variants: parsePlaylistLines(text).variants, facts };
}

/** FFmpeg's master without its variants: what it writes when it cannot tell a bit rate. */
const withoutVariants = (master: string) =>
  master
    .split('\n')
    .filter((line) => line.startsWith('#EXTM3U') || line.startsWith('#EXT-X-VERSION'))
    .join('\n');

/** The peak segment bit rate computed here from the files, independently of the completion. */
function peakOf(dir: string): number {
  const lines = readFileSync(join(dir, 'v.m3u8'), 'utf8').split('\n');
  let peak = 0;
  for (let index = 0; index < lines.length; index++) {
    if (!lines[index]!.startsWith('#EXTINF:')) continue;
    const seconds = Number.parseFloat(lines[index]!.slice(8));
    const bytes = readFileSync(join(dir, lines[index + 1]!)).length;
    peak = Math.max(peak, (bytes * 8) / seconds);
  }
  return peak;
}

describe('master playlists completed from what FFmpeg wrote', () => {
  it('lists the variant FFmpeg left out of a copied stream without bit rate (MPEG-TS)', async () => {
    const source = join(work, 'source.ts');
    await run('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', ...pattern, '-t', '4', '-c:v', 'libx264', '-bf', '0'],
      ...['-g', '25', '-c:a', 'libopus', '-f', 'mpegts', source],
    ]);
    const dir = await writeHls('copy', ['-i', source, '-c', 'copy']);
    const written = readFileSync(join(dir, 'm.m3u8'), 'utf8');

    const { variants } = await served(dir);

    expect(written).not.toContain('#EXT-X-STREAM-INF');
    expect(variants).toHaveLength(1);
    expect(variants[0]!.uri).toBe('v.m3u8');
    expect(Number(attribute(variants[0]!.attributes, 'BANDWIDTH'))).toBe(Math.round(peakOf(dir)));
    expect(attribute(variants[0]!.attributes, 'RESOLUTION')).toBe('320x240');
    expect(attribute(variants[0]!.attributes, 'CODECS')).toMatch(/^"avc1\.64[0-9a-f]{4},opus"$/);
  });

  it('writes the CODECS and RESOLUTION FFmpeg writes when it knows them (MPEG-TS, H.264 Main + AAC)', async () => {
    const dir = await writeHls('encoded-ts', [
      ...pattern,
      ...['-t', '4', '-c:v', 'libx264', '-profile:v', 'main', '-b:v', '300k', '-g', '25'],
      ...['-c:a', 'aac', '-b:a', '64k'],
    ]);
    const truth = parsePlaylistLines(readFileSync(join(dir, 'm.m3u8'), 'utf8')).variants[0]!;

    const { variants } = await served(dir, withoutVariants(readFileSync(join(dir, 'm.m3u8'), 'utf8')));

    expect(attribute(variants[0]!.attributes, 'CODECS')).toBe(attribute(truth.attributes, 'CODECS'));
    expect(attribute(variants[0]!.attributes, 'RESOLUTION')).toBe(attribute(truth.attributes, 'RESOLUTION'));
  });

  it('writes the CODECS FFmpeg writes for fMP4 (H.264 High + AAC, from the init section)', async () => {
    const dir = await writeHls(
      'encoded-fmp4',
      [
        ...pattern,
        ...['-t', '4', '-c:v', 'libx264', '-b:v', '300k', '-g', '25', '-c:a', 'aac', '-b:a', '64k'],
        ...['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4'],
      ],
      'v_%04d.m4s',
    );
    const truth = parsePlaylistLines(readFileSync(join(dir, 'm.m3u8'), 'utf8')).variants[0]!;

    const { variants } = await served(dir, withoutVariants(readFileSync(join(dir, 'm.m3u8'), 'utf8')));

    expect(attribute(truth.attributes, 'CODECS')).toMatch(/avc1/);
    expect(attribute(variants[0]!.attributes, 'CODECS')).toBe(attribute(truth.attributes, 'CODECS'));
    expect(attribute(variants[0]!.attributes, 'RESOLUTION')).toBe('320x240');
  });

  it('reads H.265 profile, tier and level from the SPS and the hvcC alike', async () => {
    const h265 = ['-t', '3', '-c:v', 'libx265', '-x265-params', 'log-level=error', '-g', '25', '-an'];
    const ts = await writeHls('hevc-ts', [...pattern, ...h265]);
    const fmp4 = await writeHls(
      'hevc-fmp4',
      [...pattern, ...h265, '-tag:v', 'hvc1', '-hls_segment_type', 'fmp4'],
      'v_%04d.m4s',
    );

    const fromTs = (await served(ts)).facts.tracks;
    const fromMp4 = (await served(fmp4)).facts.tracks;

    // Main profile (1), compatible with Main and Main 10 (flags 1 and 2 → reversed 6), level 2 (60).
    expect(fromTs).toEqual([{ kind: 'video', codec: 'hvc1.1.6.L60.90', width: 320, height: 240 }]);
    expect(fromMp4).toEqual(fromTs);
  });

  it('raises a BANDWIDTH that counts only the encoded audio to the measured peak', async () => {
    const source = join(work, 'source-aac.ts');
    await run('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', ...pattern, '-t', '4', '-c:v', 'libx264', '-bf', '0'],
      ...['-g', '25', '-b:v', '600k', '-c:a', 'aac', '-f', 'mpegts', source],
    ]);
    const dir = await writeHls('audio-only-rate', ['-i', source, '-c', 'copy']);
    const declared = Number(
      attribute(
        parsePlaylistLines(readFileSync(join(dir, 'm.m3u8'), 'utf8')).variants[0]!.attributes,
        'BANDWIDTH',
      ),
    );

    const { variants } = await served(dir);

    expect(declared).toBeLessThan(peakOf(dir) / 2);
    expect(Number(attribute(variants[0]!.attributes, 'BANDWIDTH'))).toBe(Math.round(peakOf(dir)));
    expect(attribute(variants[0]!.attributes, 'CODECS')).toMatch(/^"avc1\.[0-9a-f]{6},mp4a\.40\.2"$/);
  });
});
