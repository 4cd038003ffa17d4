import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { processConfigSchema } from '../src/config-schema.js';
import { FFmpegAccessDeniedError } from '../src/errors.js';
import { FFmpegAccess, ffmpegAccessSchema } from '../src/ffmpeg-access.js';
import { flagOptions, parseCommandLine } from '../src/ffmpeg-argv.js';
import { filterFileOptions } from '../src/ffmpeg-file-options.js';
import { parseFilterGraph } from '../src/filter-graph.js';

// The policy's model of FFmpeg checked against the installed FFmpeg: the spellings it refuses are ones
// FFmpeg really opens (it copies a harmless secret file out), and what FFmpeg's debug log says it set
// for each filter option, and how it split the command line, is what the policy's parsers say.

const dir = mkdtempSync(join(tmpdir(), 'dragon-ffmpeg-access-'));
const secretText = `SECRET-${process.pid}-7f3a`;
const secret = join(dir, 'secret.txt');
writeFileSync(secret, secretText);
symlinkSync(secret, join(dir, 'innocent.txt'));
mkdirSync(join(dir, 'out'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const policy = new FFmpegAccess(ffmpegAccessSchema.parse({ protectedPaths: [secret] }), {
  cwd: dir,
  storeFile: join(dir, 'db.json'),
  defaultOutputDirectory: join(dir, 'out'),
});

function refusal(input: { address: string; options: string[] }, options: string[] = []) {
  const config = processConfigSchema.parse({
    id: 'p',
    options,
    input: [{ id: 'in', ...input }],
    output: [{ id: 'out', address: '-', options: ['-f', 'u8'] }],
  });
  try {
    policy.check('p', config);
    return undefined;
  } catch (error) {
    if (error instanceof FFmpegAccessDeniedError) return error;
    throw error;
  }
}

/** Runs the installed FFmpeg in `dir`; resolves with its output whatever its exit status. */
function ffmpeg(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'ffmpeg',
      ['-hide_banner', '-nostdin', ...args],
      { cwd: dir, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
      (_error, stdout, stderr) => resolve({ stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

describe('the spellings the policy refuses are ones FFmpeg opens', () => {
  const spellings = [
    `amovie='${secret}':f=u8`,
    `amovie='${dir}/se''cret.txt':f=u8`,
    `amovie=${dir}/se\\\\cret.txt:f=u8`,
    `'amo''vie'@x=filename='${dir}/sec''ret.txt':f=u8`,
    "amovie=se''cret.txt:f=u8",
    'amovie=innocent.txt:f=u8',
    `amovie='file\\:${secret}':f=u8`,
    `amovie='subfile,,start,0,end,0,,\\:${secret}':f=u8`,
    `amovie='concat\\:/dev/null|${secret}':f=u8`,
    `amovie='async\\:file\\:${secret}':f=u8`,
    `amovie='cache\\:${secret}':f=u8`,
    `amovie=f=lavfi:filename='amovie=${secret}\\:f=u8'`,
  ];

  it.each(spellings)('%s', async (graph) => {
    expect(refusal({ address: graph, options: ['-f', 'lavfi'] })?.reason).toMatch(/may not touch/);
    const { stdout } = await ffmpeg(['-loglevel', 'error', '-f', 'lavfi', '-i', graph, '-f', 'u8', 'pipe:1']);
    expect(stdout).toContain(secretText);
  });

  it('as -filter_complex too', async () => {
    const graph = `amovie='${dir}/se''cret.txt':f=u8`;
    expect(
      refusal({ address: 'anullsrc', options: ['-f', 'lavfi'] }, ['-filter_complex', graph]),
    ).toBeDefined();
    const { stdout } = await ffmpeg(['-loglevel', 'error', '-filter_complex', graph, '-f', 'u8', 'pipe:1']);
    expect(stdout).toContain(secretText);
  });
});

/** What FFmpeg's debug log says it set, per filter instance (`Parsed_drawtext_0`). */
async function ffmpegSettings(graph: string): Promise<Map<string, Array<[string, string]>>> {
  const { stderr } = await ffmpeg(['-loglevel', 'debug', '-filter_complex', graph, '-f', 'null', '-']);
  const settings = new Map<string, Array<[string, string]>>();
  // FFmpeg builds a complex graph twice (once to learn its outputs): the first instance counts.
  const instances = new Map<string, string>();
  for (const line of stderr.split('\n')) {
    const match = /^\[(\S+) @ (0x[0-9a-f]+)\] Setting '([^']*)' to value '(.*)'$/.exec(line);
    if (!match) continue;
    const [, label, address, key, value] = match as unknown as [string, string, string, string, string];
    if ((instances.get(label) ?? address) !== address) continue;
    instances.set(label, address);
    settings.set(label, [...(settings.get(label) ?? []), [key, value]]);
  }
  return settings;
}

/** The options of FFmpeg 5.1's filters by position, as far as these tests use them. */
const positional: Record<string, string[]> = {
  drawtext: ['fontfile', 'text', 'textfile', 'fontcolor', 'fontcolor_expr', 'boxcolor', 'bordercolor'],
  amovie: ['filename', 'format_name', 'stream_index'],
  movie: ['filename', 'format_name', 'stream_index'],
  lut3d: ['file', 'clut', 'interp'],
  metadata: ['mode', 'key', 'value', 'function', 'expr', 'file'],
  deshake: ['x', 'y', 'w', 'h', 'rx', 'ry', 'edge', 'blocksize', 'contrast', 'search', 'filename'],
  sendcmd: ['commands', 'filename'],
  frei0r: ['filter_name', 'filter_params'],
  curves: ['preset', 'master', 'red', 'green', 'blue', 'all', 'psfile'],
};

/** Our parse of the first filter, keys resolved by position, as FFmpeg would log it. */
function ourSettings(graph: string): Array<[string, string]> | undefined {
  let first: ReturnType<typeof parseFilterGraph>[number] | undefined;
  try {
    first = parseFilterGraph(graph)[0];
  } catch {
    return undefined;
  }
  if (!first) return undefined;
  const names = positional[first.name] ?? [];
  const settings: Array<[string, string]> = [];
  // FFmpeg 5.1 goes on by position from the last named option.
  let position = 0;
  for (const { key, value } of first.options) {
    if (key !== undefined) position = names.includes(key) ? names.indexOf(key) + 1 : names.length;
    const name = key ?? names[position++];
    if (name === undefined) break;
    settings.push([name, value]);
  }
  return settings;
}

describe('what FFmpeg sets for a filter is what the policy reads', () => {
  const graphs = [
    "drawtext='/pr''oc/self/environ':text=x",
    "drawtext=text='it'\\''s':fontsize=2",
    "drawtext=text=it\\\\\\'s",
    'drawtext= text = hello world :fontsize=3',
    'drawtext=text=a\\\\\\:b\\\\\\,c',
    "drawtext=fontfile='/usr/share/a b.ttf':textfile=/tmp/x\\ ",
    "amovie='/pr''oc/self/environ':f=u8",
    "amovie=filename='subfile,,start,0,end,0,,\\:/x':si=0",
    `lut3d='${dir}/a\\'b.cube':interp=nearest`,
    'metadata=print:k:v:same_str:e:/tmp/metadata-file',
    'deshake=-1:-1:-1:-1:16:16:mirror:8:125:0:/tmp/deshake-file',
    'curves=none:0/0:0/0:0/0:0/0:0/0:/tmp/curves-file',
    "sendcmd='0 drawtext reinit text=a':/tmp/cmds",
    "'dra''wtext'=text='a,b;c[d]'",
  ];

  it.each(graphs)('%s', async (graph) => {
    const [first] = parseFilterGraph(graph);
    const theirs = (await ffmpegSettings(graph)).get(`Parsed_${first?.name}_0`) ?? [];
    expect(theirs.length).toBeGreaterThan(0);
    // FFmpeg stops at the first option it cannot set: what it logged is where ours begins.
    expect(ourSettings(graph)?.slice(0, theirs.length)).toEqual(theirs);
  });

  it('agrees on random drawtext arguments made of quotes, escapes and separators', async () => {
    const piece = fc.constantFrom('a', 'b', "'", '\\', ':', '=', ' ', '/', ',', ';', '[', ']', 'text=', 'x');
    const argument = fc.array(piece, { minLength: 1, maxLength: 14 }).map((pieces) => pieces.join(''));
    const samples = fc.sample(argument, { numRuns: 40, seed: 20261207 });
    for (const sample of samples) {
      const graph = `drawtext=text=${sample}`;
      const theirs = (await ffmpegSettings(graph)).get('Parsed_drawtext_0') ?? [];
      const ours = ourSettings(graph);
      // Nothing set by FFmpeg, or a graph the policy refuses outright: nothing to compare.
      if (theirs.length === 0 || ours === undefined) continue;
      expect(ours.slice(0, theirs.length), graph).toEqual(theirs);
    }
    // Forty FFmpeg runs in a row: on a machine short of CPU each start takes seconds.
  }, 300_000);

  it('knows the position of every positional file option it relies on (FFmpeg 5.1)', async () => {
    const probes: Array<[string, string]> = [
      ['movie=P0', 'filename'],
      ['subtitles=P0', 'filename'],
      ['drawtext=P0', 'fontfile'],
      ['lut3d=P0', 'file'],
      ['lut1d=P0', 'file'],
      ['sendcmd=P0', 'commands'],
      ['sendcmd=x:P1', 'filename'],
      ['frei0r=P0', 'filter_name'],
      ['ladspa=P0', 'file'],
      ['psnr=P0', 'stats_file'],
      ['vidstabdetect=P0', 'result'],
      ['metadata=print:k:v:same_str:e:P5', 'file'],
      ['deshake=-1:-1:-1:-1:16:16:mirror:8:125:0:P10', 'filename'],
      ['curves=none:0/0:0/0:0/0:0/0:0/0:P6', 'psfile'],
    ];
    for (const [graph, option] of probes) {
      const [filter] = parseFilterGraph(graph);
      const set = (await ffmpegSettings(graph)).get(`Parsed_${filter?.name}_0`) ?? [];
      const marker = set.find(([, value]) => /^P\d+$/.test(value));
      expect(marker?.[0], graph).toBe(option);
      const position = Number(marker?.[1].slice(1));
      const entry = filterFileOptions[filter?.name ?? '']?.find((candidate) =>
        candidate.names.includes(option),
      );
      expect(entry?.position, graph).toBe(position);
    }
  });
});

describe('how FFmpeg splits the command line is how the policy splits it', () => {
  /** FFmpeg's own reading: which arguments it took for input urls and output urls. */
  async function ffmpegSplit(args: string[]) {
    const { stderr } = await ffmpeg(['-loglevel', 'debug', ...args]);
    const inputs = [...stderr.matchAll(/matched as input url with argument '(.*)'\.$/gm)].map(
      (match) => match[1],
    );
    const outputs = [...stderr.matchAll(/Reading option '([^']*)' \.\.\. matched as output url\./g)].map(
      (match) => match[1],
    );
    return { inputs, outputs };
  }

  it.each([
    [['-re', '-f', 'lavfi', '-t', '0.1', '-i', 'nullsrc', '-y', '-noautorotate', '-f', 'null', 'out-a.null']],
    [['-f', 'lavfi', '-i', 'nullsrc', '-t', '0.1', '-autorotate', '0', '-f', 'null', 'out-b.null']],
    [['-f', 'lavfi', '-i', 'nullsrc', '-t', '0.1', '-shortest', '-f', 'null', '--', '-odd.null']],
    [['-f', 'lavfi', '-i', 'nullsrc', '-t', '0.1', '-preset', 'fast', '-copyts', '-f', 'null', 'out-c.null']],
  ])('%j', async (args) => {
    const ours = parseCommandLine(args.map((text) => ({ text, where: 'w' })));
    const theirs = await ffmpegSplit(args);
    expect(ours.inputs.map((input) => input.url)).toEqual(theirs.inputs);
    expect(ours.outputs.map((output) => output.url)).toEqual(theirs.outputs);
  });

  it('treats as flags exactly the flags of the installed FFmpeg', async () => {
    for (const flag of flagOptions) {
      if (flag === 'report') continue; // it would write a report file
      const { stderr } = await ffmpeg(['-loglevel', 'debug', `-${flag}`, 'next.null']);
      if (/Unrecognized option/.test(stderr)) continue; // not in this FFmpeg version
      expect(stderr, flag).toMatch(/Reading option 'next\.null' \.\.\. matched as output url\./);
    }
    // One FFmpeg run per flag, in a row: on a machine short of CPU each start takes seconds.
  }, 300_000);
});
