/** Facts about one stream of an input or output, from FFmpeg's banner (`Stream #0:1: Audio: …`). */
export interface StreamFacts {
  index: number;
  stream: number;
  type: 'video' | 'audio' | 'data' | 'subtitle' | 'unknown';
  codec: string;
  /** The encoder for an output stream (`encoder : Lavc… libx264`), else the codec. */
  coder: string;
  format: string;
  address: string;
  pix_fmt: string;
  width: number;
  height: number;
  fps: number;
  sampling_hz: number;
  layout: string;
  channels: number;
  bitrate_kbit: number;
  /** The codec's profile as FFmpeg prints it (`h264 (High)` → `High`); absent when not printed. */
  profile?: string;
  /** The line ends in `(attached pic)`: cover art (MP3/M4A artwork), not a video track. */
  attached_pic?: boolean;
}

export interface BannerFacts {
  inputs: StreamFacts[];
  outputs: StreamFacts[];
}

/** An output stream by FFmpeg's numbering: output file, stream within it. */
export interface OutputStreamRef {
  file: number;
  stream: number;
}

/**
 * One block of `-progress` output (`frame=…` … `progress=continue`), as stock FFmpeg (4.4–7) writes
 * it: totals, plus a quantizer per video output stream. `frame` counts the first video output
 * stream only, and the block names it: its `stream_F_S_q` line is the first one.
 */
export interface ProgressBlock {
  frame: number;
  /** The output stream `frame` counts; undefined when there is no video output. */
  frameStream: OutputStreamRef | undefined;
  /** `stream_<file>_<stream>_q` of each video output stream, in FFmpeg's order. */
  quantizers: (OutputStreamRef & { q: number })[];
  fps: number;
  /** The quantizer of the stream `frame` counts, as in FFmpeg's stats line. */
  q: number;
  size_kb: number;
  time: number;
  bitrate_kbit: number;
  speed: number;
  drop: number;
  dup: number;
  end: boolean;
}

const streamLine = /^\s*Stream #(\d+):(\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?: (Video|Audio|Data|Subtitle): (.*)$/;
const encoderLine = /^\s+encoder\s+: Lavc\S* (\S+)$/;

/**
 * A line without FFmpeg's `[component @ 0x…] ` and `[level] ` prefixes (`-loglevel level+info`).
 * Linear: each bracket group is passed once.
 */
export function stripLogPrefix(line: string): string {
  let start = 0;
  while (line.charCodeAt(start) === 91 /* [ */) {
    const close = line.indexOf(']', start + 1);
    if (close === -1 || line.charCodeAt(close + 1) !== 32 /* space */) break;
    start = close + 2;
  }
  return start === 0 ? line : line.slice(start);
}

/** FFmpeg's stats line (`frame=… fps=… q=…`, or `size=…` without video), with or without a level prefix. */
export function isStatsLine(line: string): boolean {
  const text = stripLogPrefix(line);
  return text.startsWith('frame=') || text.startsWith('size=');
}

/**
 * `Input #0, mov,mp4,m4a, from 'file.mp4':` → kind, index, format, address. The format may hold
 * commas and the address anything, so the first `, from '` / `, to '` splits them (as datarhei does).
 */
function parseIoHeader(
  line: string,
): { kind: 'inputs' | 'outputs'; index: number; format: string; address: string } | undefined {
  const kind = line.startsWith('Input #') ? 'inputs' : line.startsWith('Output #') ? 'outputs' : undefined;
  if (!kind || !line.endsWith("':")) return undefined;
  const numberStart = kind === 'inputs' ? 7 : 8;
  const comma = line.indexOf(', ', numberStart);
  const index = line.slice(numberStart, comma);
  if (comma === -1 || !/^\d{1,6}$/.test(index)) return undefined;
  const separator = kind === 'inputs' ? ", from '" : ", to '";
  const split = line.indexOf(separator, comma + 2);
  if (split === -1 || split + separator.length > line.length - 2) return undefined;
  return {
    kind,
    index: Number(index),
    format: line.slice(comma + 2, split),
    address: line.slice(split + separator.length, -2),
  };
}

/**
 * Reads the banner lines into per-stream facts; unknown lines are ignored, nothing throws. Lines may
 * carry `-loglevel level+info` prefixes.
 */
export class BannerParser {
  readonly facts: BannerFacts = { inputs: [], outputs: [] };
  #current: { kind: 'inputs' | 'outputs'; format: string; address: string } | undefined;
  #lastStream: StreamFacts | undefined;

  feed(rawLine: string): void {
    const line = stripLogPrefix(rawLine);
    const header = parseIoHeader(line);
    if (header) {
      this.#current = { kind: header.kind, format: header.format, address: header.address };
      this.#lastStream = undefined;
      return;
    }
    if (!this.#current) return;
    const stream = streamLine.exec(line);
    if (stream) {
      this.#lastStream = parseStream(
        Number(stream[1]),
        Number(stream[2]),
        stream[3]!,
        stream[4]!,
        this.#current.format,
        this.#current.address,
      );
      this.facts[this.#current.kind].push(this.#lastStream);
      return;
    }
    const encoder = this.#current.kind === 'outputs' && this.#lastStream ? encoderLine.exec(line) : null;
    if (encoder) this.#lastStream!.coder = encoder[1]!;
  }
}

function parseStream(
  index: number,
  stream: number,
  kind: string,
  rest: string,
  format: string,
  address: string,
): StreamFacts {
  const type = kind.toLowerCase() as StreamFacts['type'];
  const parts = splitTopLevel(rest);
  const facts: StreamFacts = {
    index,
    stream,
    type,
    codec: (parts[0] ?? '').split(' ')[0] ?? '',
    coder: '',
    format,
    address,
    pix_fmt: '',
    width: 0,
    height: 0,
    fps: 0,
    sampling_hz: 0,
    layout: '',
    channels: 0,
    bitrate_kbit: 0,
  };
  for (const part of parts.slice(1)) {
    const size = /^(\d+)x(\d+)/.exec(part);
    const fps = /^([\d.]+) fps$/.exec(part);
    const hz = /^(\d+) Hz$/.exec(part);
    const kbit = /^(\d+) kb\/s/.exec(part);
    if (size) {
      facts.width = Number(size[1]);
      facts.height = Number(size[2]);
    } else if (fps) facts.fps = Number(fps[1]);
    else if (hz) facts.sampling_hz = Number(hz[1]);
    else if (kbit) facts.bitrate_kbit = Number(kbit[1]);
    else if (type === 'video' && !facts.pix_fmt && /^[a-z0-9_]+(\(.*\))?$/.test(part))
      facts.pix_fmt = part.split('(')[0]!;
    else if (
      type === 'audio' &&
      !facts.layout &&
      /^(mono|stereo|[\d.]+(\(.*\))?|quad.*|5\.1.*|7\.1.*|\d+ channels)$/.test(part)
    ) {
      facts.layout = part;
      facts.channels = channelsOf(part);
    }
  }
  facts.coder = facts.codec;
  // `h264 (High) (avc1 / 0x31637661)`: the first parenthesis that is not a codec tag is the profile.
  const profile = [...(parts[0] ?? '').matchAll(/\(([^()]+)\)/g)]
    .map((match) => match[1]!.trim())
    .find((inner) => !/ \/ 0x[0-9a-f]+$/i.test(inner));
  if (profile) facts.profile = profile;
  if (/\(attached pic\)\s*$/.test(rest)) facts.attached_pic = true;
  return facts;
}

/** Splits on commas that are not inside parentheses: `h264 (High), yuv420p(tv, bt709), 1280x720`. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth++;
    if (char === ')') depth = Math.max(0, depth - 1);
    if (char === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += char;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

function channelsOf(layout: string): number {
  if (layout === 'mono') return 1;
  if (layout === 'stereo') return 2;
  const explicit = /^(\d+) channels/.exec(layout);
  if (explicit) return Number(explicit[1]);
  const surround = /^(\d+)\.(\d+)/.exec(layout);
  return surround ? Number(surround[1]) + Number(surround[2]) : 0;
}

const quantizerKey = /^stream_(\d{1,4})_(\d{1,4})_q$/;
/** FFmpeg writes about a dozen keys per block; more is not FFmpeg talking. */
const maxKeysPerBlock = 256;

/** Accumulates `-progress` key=value lines and hands out a block at each `progress=` line. */
export class ProgressParser {
  #values = new Map<string, string>();
  #quantizers: ProgressBlock['quantizers'] = [];

  /** Returns a block when `line` ends one. Malformed lines are ignored. */
  feed(line: string): ProgressBlock | undefined {
    const separator = line.indexOf('=');
    if (separator <= 0) return undefined;
    const key = line.slice(0, separator).trim();
    const value = line.slice(separator + 1).trim();
    if (key !== 'progress') {
      const quantizer = quantizerKey.exec(key);
      if (quantizer) {
        if (this.#quantizers.length < maxKeysPerBlock) {
          this.#quantizers.push({
            file: Number(quantizer[1]),
            stream: Number(quantizer[2]),
            q: toNumber(value),
          });
        }
      } else if (this.#values.size < maxKeysPerBlock || this.#values.has(key)) {
        this.#values.set(key, value);
      }
      return undefined;
    }
    const number = (name: string) => toNumber(this.#values.get(name));
    const hasFrame = this.#values.has('frame');
    const first = this.#quantizers[0];
    const block: ProgressBlock = {
      frame: number('frame'),
      frameStream: hasFrame && first ? { file: first.file, stream: first.stream } : undefined,
      quantizers: this.#quantizers,
      fps: number('fps'),
      q: hasFrame ? (first?.q ?? 0) : 0,
      size_kb: Math.round(number('total_size') / 1024),
      time: number('out_time_us') / 1e6,
      bitrate_kbit: number('bitrate'),
      speed: number('speed'),
      drop: number('drop_frames'),
      dup: number('dup_frames'),
      end: value === 'end',
    };
    this.#values = new Map();
    this.#quantizers = [];
    return block;
  }
}

function toNumber(text: string | undefined): number {
  const parsed = Number.parseFloat(text ?? '');
  return Number.isFinite(parsed) ? parsed : 0;
}

/** Lines from a byte stream, tolerant of `\r` (FFmpeg's stats line) and of partial chunks. */
export class LineSplitter {
  #rest = '';
  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineLength = 8192,
  ) {}

  push(chunk: Buffer | string): void {
    const text = this.#rest + chunk.toString();
    const lines = text.split(/\r\n|\r|\n/);
    this.#rest = (lines.pop() ?? '').slice(-this.maxLineLength);
    for (const line of lines) if (line.length > 0) this.onLine(line.slice(0, this.maxLineLength));
  }

  flush(): void {
    if (this.#rest) this.onLine(this.#rest);
    this.#rest = '';
  }
}
