import { spawn } from 'node:child_process';
import { z } from 'zod';
import { ProbeFailedError } from './errors.js';
import type { InputFacts, StreamFacts } from './input-facts.js';
import { isListeningInput, isLoopingInput, type ProcessInput } from './listening-input.js';
import { ffprobePathFor, probeInputOptions } from './probe-options.js';
import { redactCredentials } from './redact.js';

export interface ProbeOptions {
  /**
   * The FFmpeg binary the process runs; ffprobe is looked up beside it (Debian's `ffmpeg` package
   * ships both in `/usr/bin`). @default 'ffmpeg'
   */
  ffmpegBinary?: string;
  /** The ffprobe binary, when it is not beside FFmpeg. @default ffprobePathFor(ffmpegBinary) */
  ffprobeBinary?: string;
  /**
   * How long the probe may take before it is killed, in milliseconds. A live input needs FFmpeg's
   * analysis time (`-analyzeduration`, 5 s by default) plus connecting. @default 10000
   */
  timeoutMs?: number;
  /**
   * Packets read after the stream analysis to see whether timestamps go back (B-frames), for
   * streams whose parameter sets do not declare it. @default 60
   */
  packets?: number;
  /** Aborts the probe (kills ffprobe), e.g. when the process is stopped meanwhile. */
  signal?: AbortSignal;
  /**
   * ffprobe's environment, e.g. the scrubbed one FFmpeg itself runs with (a server's secrets stay
   * out of reach of an input address). @default process.env
   */
  env?: Record<string, string>;
  /** ffprobe's working directory, which relative input paths are read from. @default process.cwd() */
  cwd?: string;
}

/**
 * Probes one input with ffprobe (`-show_streams -show_format` and the first packets' timestamps)
 * and returns its facts. The input's own options are applied, except those only FFmpeg knows
 * (`-re`, `-stream_loop`, decoder choices…), which ffprobe would reject.
 *
 * Rejects with `ProbeFailedError` (`failure: 'listening'`) for an input FFmpeg serves itself: see
 * `isListeningInput`.
 */
export async function probeInput(input: ProcessInput, options: ProbeOptions = {}): Promise<InputFacts> {
  if (isListeningInput(input)) {
    throw new ProbeFailedError(
      'listening',
      'the input waits for a publisher; probing it would take its connection',
    );
  }
  const binary = options.ffprobeBinary ?? ffprobePathFor(options.ffmpegBinary ?? 'ffmpeg');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const packets = options.packets ?? 60;
  const args = [
    '-hide_banner',
    '-v',
    'error',
    '-of',
    'json',
    '-show_format',
    '-show_streams',
    '-show_entries',
    'packet=stream_index,pts,dts',
    '-read_intervals',
    `%+#${packets}`,
    ...probeInputOptions(input.options ?? []),
    '-i',
    input.address,
  ];
  const output = await runProbe(binary, args, timeoutMs, options);
  let json: unknown;
  try {
    json = JSON.parse(output);
  } catch {
    // No `cause`: the parser's message quotes the output, and ffprobe's `format.filename` is the
    // address, credentials and all.
    throw new ProbeFailedError('output', 'ffprobe did not answer JSON');
  }
  const parsed = ffprobeOutputSchema.safeParse(json);
  if (!parsed.success) {
    throw new ProbeFailedError(
      'output',
      `unexpected ffprobe output: ${parsed.error.issues[0]?.message ?? ''}`,
    );
  }
  const facts = factsFromProbe(parsed.data);
  return isLoopingInput(input) ? { ...facts, loops: true } : facts;
}

/** Runs ffprobe; resolves with its stdout when it exits 0. */
function runProbe(
  binary: string,
  args: string[],
  timeoutMs: number,
  { signal, env, cwd }: Pick<ProbeOptions, 'signal' | 'env' | 'cwd'>,
): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ProbeFailedError('aborted', 'aborted before start'));
      return;
    }
    const child = spawn(binary, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(env ? { env } : {}),
      ...(cwd ? { cwd } : {}),
    });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let ended: ProbeFailedError | undefined;
    const stop = (error: ProbeFailedError) => {
      ended ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => stop(new ProbeFailedError('timeout', `no answer within ${timeoutMs} ms`, { timeoutMs })),
      timeoutMs,
    );
    const onAbort = () => stop(new ProbeFailedError('aborted', 'aborted by the caller'));
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxOutputBytes) stop(new ProbeFailedError('output', 'ffprobe answered too much'));
      else stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4096);
    });
    // The spawn error is not passed on as `cause`: its `spawnargs` hold the address, credentials and all.
    child.once('error', (error: NodeJS.ErrnoException) => {
      ended ??= new ProbeFailedError('spawn', `cannot run ${binary}: ${error.code ?? 'error'}`);
    });
    child.once('close', (exitCode, exitSignal) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (ended) reject(ended);
      else if (exitCode !== 0) {
        reject(
          new ProbeFailedError(
            'exit',
            lastMessage(stderr) || `ffprobe exited with ${exitCode ?? exitSignal}`,
            {
              exitCode,
              signal: exitSignal,
            },
          ),
        );
      } else resolve(Buffer.concat(stdout).toString('utf8'));
    });
  });
}

/** A probe of 60 packets answers a few KiB; anything near this is not ffprobe's JSON. */
const maxOutputBytes = 4 * 1024 * 1024;

function lastMessage(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
  return redactCredentials(lines.at(-1) ?? '').slice(0, 300);
}

const optionalNumber = z.union([z.number(), z.string()]).optional();

/** The parts of `ffprobe -of json -show_format -show_streams -show_entries packet=…` the plan reads. */
const ffprobeOutputSchema = z.object({
  format: z.object({ format_name: z.string().default(''), duration: optionalNumber }).prefault({}),
  streams: z
    .array(
      z.object({
        index: z.number().int().min(0),
        codec_type: z.string().default(''),
        codec_name: z.string().default(''),
        profile: z.string().optional(),
        width: z.number().optional(),
        height: z.number().optional(),
        pix_fmt: z.string().optional(),
        field_order: z.string().optional(),
        has_b_frames: z.number().optional(),
        avg_frame_rate: z.string().optional(),
        r_frame_rate: z.string().optional(),
        sample_rate: optionalNumber,
        channels: z.number().optional(),
        disposition: z.object({ attached_pic: z.number().optional() }).optional(),
      }),
    )
    .default([]),
  packets: z
    .array(
      z.object({ stream_index: z.number().int(), pts: z.number().optional(), dts: z.number().optional() }),
    )
    .default([]),
});

type FfprobeOutput = z.infer<typeof ffprobeOutputSchema>;

function factsFromProbe(output: FfprobeOutput): InputFacts {
  const reordered = reorderedStreams(output.packets);
  const seen = new Set(output.packets.map((packet) => packet.stream_index));
  // ffprobe prints the duration as a string ("80.000000"), and none for a live input.
  const duration = Number(output.format.duration);
  return {
    source: 'probe',
    format: output.format.format_name,
    listening: false,
    ...(output.format.duration !== undefined && Number.isFinite(duration) && duration >= 0
      ? { duration }
      : {}),
    streams: output.streams.map((stream): StreamFacts => {
      const kind =
        stream.codec_type === 'video' || stream.codec_type === 'audio' ? stream.codec_type : 'other';
      const facts: StreamFacts = { index: stream.index, kind, codec: stream.codec_name };
      if (stream.profile && stream.profile !== 'unknown') facts.profile = stream.profile;
      if (kind === 'video') {
        if (stream.width) facts.width = stream.width;
        if (stream.height) facts.height = stream.height;
        const fps = rate(stream.avg_frame_rate) || rate(stream.r_frame_rate);
        if (fps) facts.fps = fps;
        if (stream.pix_fmt) facts.pix_fmt = stream.pix_fmt;
        if (stream.field_order && stream.field_order !== 'unknown') facts.field_order = stream.field_order;
        if (stream.has_b_frames !== undefined) facts.has_b_frames = stream.has_b_frames;
        // The decoder's reorder depth comes from the SPS (x264 writes it) or from reordering it saw;
        // packets whose timestamps go back prove it where neither did.
        if ((stream.has_b_frames ?? 0) > 0 || reordered.has(stream.index)) facts.reorders = true;
        else if (stream.has_b_frames !== undefined || seen.has(stream.index)) facts.reorders = false;
        if (stream.disposition?.attached_pic) facts.attached_pic = true;
      }
      if (kind === 'audio') {
        const sampleRate = Number(stream.sample_rate);
        if (sampleRate > 0) facts.sample_rate = sampleRate;
        if (stream.channels) facts.channels = stream.channels;
      }
      return facts;
    }),
  };
}

/** Streams whose packets, in decode order, carry a presentation time earlier than one before them. */
function reorderedStreams(packets: FfprobeOutput['packets']): Set<number> {
  const latest = new Map<number, number>();
  const reordered = new Set<number>();
  for (const packet of packets) {
    if (packet.pts === undefined) continue;
    const before = latest.get(packet.stream_index);
    if (before !== undefined && packet.pts < before) reordered.add(packet.stream_index);
    else latest.set(packet.stream_index, packet.pts);
  }
  return reordered;
}

function rate(fraction: string | undefined): number {
  const [num, den] = (fraction ?? '').split('/').map(Number);
  return num && den ? Math.round((num / den) * 1000) / 1000 : 0;
}
