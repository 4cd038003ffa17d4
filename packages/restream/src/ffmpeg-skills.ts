import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FFmpegUnavailableError } from './errors.js';

const run = promisify(execFile);

interface Named {
  id: string;
  name: string;
}

/** What the installed FFmpeg can do, in datarhei's `skills` shape. */
export interface Skills {
  ffmpeg: { version: string; compiler: string; configuration: string };
  filters: Named[];
  hwaccels: Named[];
  codecs: { audio: Codec[]; video: Codec[]; subtitle: Codec[] };
  formats: { demuxers: Named[]; muxers: Named[] };
  protocols: { input: Named[]; output: Named[] };
}

interface Codec extends Named {
  encoders: string[];
  decoders: string[];
}

/** `-progress` with `-stats_period` needs FFmpeg 4.4. */
export const minimumFFmpegVersion = [4, 4] as const;

async function ask(binary: string, flag: string): Promise<string> {
  const { stdout } = await run(binary, ['-hide_banner', flag], {
    timeout: 10_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** Detects version and capabilities; a missing or too old FFmpeg is a typed error. */
export async function detectSkills(binary: string): Promise<Skills> {
  let versionText: string;
  try {
    versionText = (await run(binary, ['-version'], { timeout: 10_000 })).stdout;
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
  const [codecs, formats, protocols, filters, hwaccels] = await Promise.all(
    ['-codecs', '-formats', '-protocols', '-filters', '-hwaccels'].map((flag) =>
      ask(binary, flag).catch(() => ''),
    ),
  );
  return {
    ffmpeg: {
      version: `${version[1]}.${version[2]}.${version[3] ?? '0'}`,
      compiler: /built with (.*)/.exec(versionText)?.[1]?.trim() ?? '',
      configuration: /configuration: (.*)/.exec(versionText)?.[1]?.trim() ?? '',
    },
    codecs: parseCodecs(codecs ?? ''),
    formats: parseFormats(formats ?? ''),
    protocols: parseProtocols(protocols ?? ''),
    filters: parseFilters(filters ?? ''),
    hwaccels: (hwaccels ?? '')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('Hardware acceleration'))
      .map((id) => ({ id, name: id })),
  };
}

function parseCodecs(text: string): Skills['codecs'] {
  const codecs: Skills['codecs'] = { audio: [], video: [], subtitle: [] };
  for (const line of text.split('\n')) {
    const match = /^ ([D.])([E.])([VAST.])[I.][L.][S.] (\S+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const kind = ({ V: 'video', A: 'audio', S: 'subtitle' } as const)[match[3] as 'V' | 'A' | 'S'];
    if (!kind) continue;
    const description = match[5]!;
    const list = (label: string) =>
      (new RegExp(`\\(${label}: ([^)]*)\\)`).exec(description)?.[1] ?? '').split(' ').filter(Boolean);
    const id = match[4]!;
    codecs[kind].push({
      id,
      name: description.replace(/\s*\((de|en)coders: [^)]*\)/g, '').trim(),
      decoders: match[1] === 'D' ? (list('decoders').length ? list('decoders') : [id]) : [],
      encoders: match[2] === 'E' ? (list('encoders').length ? list('encoders') : [id]) : [],
    });
  }
  return codecs;
}

function parseFormats(text: string): Skills['formats'] {
  const formats: Skills['formats'] = { demuxers: [], muxers: [] };
  for (const line of text.split('\n')) {
    const match = /^ ([D ])([E ])\S* (\S+)\s+(.*)$/.exec(line);
    if (!match || match[3] === '=') continue;
    for (const id of match[3]!.split(',')) {
      if (match[1] === 'D') formats.demuxers.push({ id, name: match[4]!.trim() });
      if (match[2] === 'E') formats.muxers.push({ id, name: match[4]!.trim() });
    }
  }
  return formats;
}

function parseProtocols(text: string): Skills['protocols'] {
  const protocols: Skills['protocols'] = { input: [], output: [] };
  let section: 'input' | 'output' | undefined;
  for (const line of text.split('\n')) {
    if (/^Input:/.test(line)) section = 'input';
    else if (/^Output:/.test(line)) section = 'output';
    else if (section && line.trim()) protocols[section].push({ id: line.trim(), name: line.trim() });
  }
  return protocols;
}

function parseFilters(text: string): Named[] {
  const filters: Named[] = [];
  for (const line of text.split('\n')) {
    const match = /^ [T.][S.][C.]? (\S+)\s+\S+->\S+\s+(.*)$/.exec(line);
    if (match) filters.push({ id: match[1]!, name: match[2]!.trim() });
  }
  return filters;
}
