/** Facts about one stream of an input or output, from FFmpeg's banner (`Stream #0:1: Audio: …`). */
export interface StreamFacts {
  index: number;
  stream: number;
  type: 'video' | 'audio' | 'data' | 'subtitle' | 'unknown';
  codec: string;
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
}

export interface BannerFacts {
  inputs: StreamFacts[];
  outputs: StreamFacts[];
}

/** One block of `-progress` output (`frame=…` … `progress=continue`). */
export interface ProgressBlock {
  frame: number;
  fps: number;
  q: number;
  size_kb: number;
  time: number;
  bitrate_kbit: number;
  speed: number;
  drop: number;
  dup: number;
  end: boolean;
}

const ioHeader = /^(Input|Output) #(\d+), ([^,]+), (?:from|to) '(.*)':$/;
const streamLine = /^\s*Stream #(\d+):(\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?: (Video|Audio|Data|Subtitle): (.*)$/;

/** Reads the banner lines into per-stream facts; unknown lines are ignored, nothing throws. */
export class BannerParser {
  readonly facts: BannerFacts = { inputs: [], outputs: [] };
  #current: { kind: 'inputs' | 'outputs'; format: string; address: string } | undefined;

  feed(line: string): void {
    const header = ioHeader.exec(line);
    if (header) {
      this.#current = {
        kind: header[1] === 'Input' ? 'inputs' : 'outputs',
        format: header[3]!,
        address: header[4]!,
      };
      return;
    }
    const stream = streamLine.exec(line);
    if (!stream || !this.#current) return;
    this.facts[this.#current.kind].push(
      parseStream(
        Number(stream[1]),
        Number(stream[2]),
        stream[3]!,
        stream[4]!,
        this.#current.format,
        this.#current.address,
      ),
    );
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

/** Accumulates `-progress` key=value lines and hands out a block at each `progress=` line. */
export class ProgressParser {
  #values = new Map<string, string>();

  /** Returns a block when `line` ends one. Malformed lines are ignored. */
  feed(line: string): ProgressBlock | undefined {
    const separator = line.indexOf('=');
    if (separator <= 0) return undefined;
    const key = line.slice(0, separator).trim();
    const value = line.slice(separator + 1).trim();
    if (key !== 'progress') {
      this.#values.set(key, value);
      return undefined;
    }
    const number = (name: string) => {
      const parsed = Number.parseFloat(this.#values.get(name) ?? '');
      return Number.isFinite(parsed) ? parsed : 0;
    };
    const block: ProgressBlock = {
      frame: number('frame'),
      fps: number('fps'),
      q: number('stream_0_0_q'),
      size_kb: Math.round(number('total_size') / 1024),
      time: number('out_time_us') / 1e6,
      bitrate_kbit: number('bitrate'),
      speed: number('speed'),
      drop: number('drop_frames'),
      dup: number('dup_frames'),
      end: value === 'end',
    };
    this.#values = new Map();
    return block;
  }
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
