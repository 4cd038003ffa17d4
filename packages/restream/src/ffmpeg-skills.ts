import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';
import { FFmpegUnavailableError } from './errors.js';
import { hardwareDeviceSchema, listDevices } from './ffmpeg-devices.js';

const run = promisify(execFile);

const namedSchema = z.object({ id: z.string(), name: z.string() });
type Named = z.infer<typeof namedSchema>;

/**
 * A codec and its encoders and decoders; an empty list where FFmpeg has none. datarhei's description
 * says array (its Go code sends a nil slice as `null`, which clients iterating the list trip over).
 */
const codecSchema = namedSchema.extend({
  encoders: z.array(z.string()),
  decoders: z.array(z.string()),
});

/** A device format (`alsa`, `video4linux2`, …) and the devices found for it. */
const deviceSchema = namedSchema.extend({ devices: z.array(hardwareDeviceSchema) });

/** What the installed FFmpeg can do, field for field datarhei's `api.Skills`. */
export const skillsSchema = z.object({
  ffmpeg: z.object({
    version: z.string(),
    compiler: z.string(),
    configuration: z.string(),
    libraries: z.array(z.object({ name: z.string(), compiled: z.string(), linked: z.string() })),
  }),
  filter: z.array(namedSchema),
  hwaccels: z.array(namedSchema),
  codecs: z.object({
    audio: z.array(codecSchema),
    video: z.array(codecSchema),
    subtitle: z.array(codecSchema),
  }),
  devices: z.object({ demuxers: z.array(deviceSchema), muxers: z.array(deviceSchema) }),
  formats: z.object({ demuxers: z.array(namedSchema), muxers: z.array(namedSchema) }),
  protocols: z.object({ input: z.array(namedSchema), output: z.array(namedSchema) }),
});
export type Skills = z.infer<typeof skillsSchema>;

/** `-progress` with `-stats_period` needs FFmpeg 4.4. */
export const minimumFFmpegVersion = [4, 4] as const;

/**
 * How long one `ffmpeg -version`/`-encoders`/… may take. It usually takes 20–50 ms, but on a
 * machine whose cores are busy (a NAS recording, a build) loading FFmpeg's libraries took over 10 s,
 * and a server that refuses to start for that has the wrong reason: FFmpeg runs, only slowly.
 */
const askTimeoutMs = 60_000;

async function ask(binary: string, flag: string): Promise<string> {
  const { stdout } = await run(binary, ['-hide_banner', flag], {
    timeout: askTimeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/**
 * Runs `binary -version` and checks it is an FFmpeg the manager can drive: what `ProcessManager.create`
 * checks first, for a caller that wants to know before it saves a binary to use (a config update).
 * Resolves its version (`7.1.0`) and what `-version` printed.
 * @throws FFmpegUnavailableError when it does not run, prints no FFmpeg version, or is too old.
 */
export async function verifyFFmpeg(binary: string): Promise<{ version: string; text: string }> {
  let versionText: string;
  try {
    versionText = (await run(binary, ['-version'], { timeout: askTimeoutMs })).stdout;
  } catch (error) {
    throw new FFmpegUnavailableError(binary, `it does not run (${(error as Error).message.split('\n')[0]})`, {
      cause: error,
    });
  }
  const version = /version n?(\d+)\.(\d+)(?:\.(\d+))?/.exec(versionText);
  if (!version) throw new FFmpegUnavailableError(binary, 'its version could not be read');
  const [major, minor] = [Number(version[1]), Number(version[2])];
  if (
    major < minimumFFmpegVersion[0] ||
    (major === minimumFFmpegVersion[0] && minor < minimumFFmpegVersion[1])
  ) {
    throw new FFmpegUnavailableError(
      binary,
      `version ${major}.${minor} is older than ${minimumFFmpegVersion.join('.')}`,
    );
  }
  return { version: `${version[1]}.${version[2]}.${version[3] ?? '0'}`, text: versionText };
}

/** Detects version and capabilities; a missing or too old FFmpeg is a typed error. */
export async function detectSkills(binary: string): Promise<Skills> {
  const { version, text } = await verifyFFmpeg(binary);
  const [codecs, formats, devices, protocols, filters, hwaccels] = await Promise.all(
    ['-codecs', '-formats', '-devices', '-protocols', '-filters', '-hwaccels'].map((flag) =>
      ask(binary, flag).catch(() => ''),
    ),
  );
  return {
    ffmpeg: parseVersion(text, version),
    filter: parseFilters(filters ?? ''),
    hwaccels: parseHwaccels(hwaccels ?? ''),
    codecs: parseCodecs(codecs ?? ''),
    devices: await withDevices(parseFormats(devices ?? '')),
    formats: parseFormats(formats ?? ''),
    protocols: parseProtocols(protocols ?? ''),
  };
}

/** `-version`: compiler, configuration and each library's compiled / linked version, as printed. */
export function parseVersion(text: string, version: string): Skills['ffmpeg'] {
  const libraries: Skills['ffmpeg']['libraries'] = [];
  for (const line of text.split('\n')) {
    const library = /^\s*(lib[a-z]+)\s+(\d+\.\s*\d+\.\s*\d+) \/\s+(\d+\.\s*\d+\.\s*\d+)/.exec(line);
    if (library) libraries.push({ name: library[1]!, compiled: library[2]!, linked: library[3]! });
  }
  return {
    version,
    compiler: /^\s*built with (.*)$/m.exec(text)?.[1]?.trim() ?? '',
    configuration: /^\s*configuration: (.*)$/m.exec(text)?.[1]?.trim() ?? '',
    libraries,
  };
}

/**
 * `-codecs`: ` DEV.LS h264  H.264 / AVC (decoders: h264 h264_qsv ) (encoders: libx264 )`. The flag
 * columns must be flags and the kind V, A or S, which skips the legend (` D..... = Decoding
 * supported`) and data and attachment codecs.
 */
export function parseCodecs(text: string): Skills['codecs'] {
  const codecs: Skills['codecs'] = { audio: [], video: [], subtitle: [] };
  for (const line of text.split('\n')) {
    const match = /^ ([D.])([E.])([VAS])[.A-Z]{3} (\w+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const kind = ({ V: 'video', A: 'audio', S: 'subtitle' } as const)[match[3] as 'V' | 'A' | 'S'];
    const id = match[4]!;
    const description = match[5]!;
    const named = (label: string) => {
      const listed = new RegExp(`\\(${label}: ([^)]*)\\)`).exec(description)?.[1]?.trim();
      return listed ? listed.split(' ').filter(Boolean) : [id];
    };
    codecs[kind].push({
      id,
      name: description.replace(/\s*\((de|en)coders: [^)]*\)/g, '').trim(),
      encoders: match[2] === 'E' ? named('encoders') : [],
      decoders: match[1] === 'D' ? named('decoders') : [],
    });
  }
  return codecs;
}

/** `-formats` and `-devices`: ` DE mov,mp4,m4a  QuickTime / MOV`; the first name is the id, as in datarhei. */
export function parseFormats(text: string): Skills['formats'] {
  const formats: Skills['formats'] = { demuxers: [], muxers: [] };
  for (const line of text.split('\n')) {
    const match = /^ ([D ])([E ]) ([\w,]+)\s*(.*)$/.exec(line);
    if (!match) continue;
    const format = { id: match[3]!.split(',')[0]!, name: match[4]!.trim() };
    if (match[1] === 'D') formats.demuxers.push(format);
    if (match[2] === 'E') formats.muxers.push({ ...format });
  }
  return formats;
}

async function withDevices(formats: Skills['formats']): Promise<Skills['devices']> {
  const list = (entries: Named[]) =>
    Promise.all(entries.map(async (entry) => ({ ...entry, devices: await listDevices(entry.id) })));
  const [demuxers, muxers] = await Promise.all([list(formats.demuxers), list(formats.muxers)]);
  return { demuxers, muxers };
}

/** `-protocols`: the names under `Input:` and under `Output:`. */
export function parseProtocols(text: string): Skills['protocols'] {
  const protocols: Skills['protocols'] = { input: [], output: [] };
  let section: 'input' | 'output' | undefined;
  for (const line of text.split('\n')) {
    if (line === 'Input:') section = 'input';
    else if (line === 'Output:') section = 'output';
    else if (section && line.trim()) protocols[section].push({ id: line.trim(), name: line.trim() });
  }
  return protocols;
}

/** `-filters`: ` ..C acompressor  A->A  Audio compressor.`; the legend has no flag column. */
export function parseFilters(text: string): Named[] {
  const filters: Named[] = [];
  for (const line of text.split('\n')) {
    const match = /^ [T.][S.][C.] (\w+)\s+\S+->\S+\s+(.*)$/.exec(line);
    if (match) filters.push({ id: match[1]!, name: match[2]!.trim() });
  }
  return filters;
}

/** `-hwaccels`: one method per line after the heading. */
export function parseHwaccels(text: string): Named[] {
  const lines = text.split('\n');
  const start = lines.indexOf('Hardware acceleration methods:');
  if (start === -1) return [];
  return lines
    .slice(start + 1)
    .filter((line) => /^[A-Za-z0-9]+$/.test(line))
    .map((id) => ({ id, name: id }));
}
