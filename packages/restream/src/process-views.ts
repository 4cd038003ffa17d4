import { z } from 'zod';
import type { ProcessConfig } from './config-schema.js';
import type { StreamFacts } from './ffmpeg-output-parser.js';
import type { FFmpegRun, LogEntry, RunExit } from './ffmpeg-run.js';
import { execStateSchema } from './ffmpeg-run.js';
import type { ResourceSample } from './resource-sampler.js';

/** A finished (or aborted) run, for the report's history. */
export interface RunRecord {
  createdAt: number;
  prelude: string[];
  log: LogEntry[];
  exit: RunExit | undefined;
  run?: FFmpegRun;
}

const progressIoJsonSchema = z.object({
  id: z.string(),
  address: z.string(),
  index: z.number(),
  stream: z.number(),
  format: z.string(),
  type: z.string(),
  codec: z.string(),
  coder: z.string(),
  frame: z.number(),
  keyframe: z.number(),
  framerate: z.object({ min: z.number(), max: z.number(), avg: z.number() }),
  fps: z.number(),
  packet: z.number(),
  pps: z.number(),
  size_kb: z.number(),
  bitrate_kbit: z.number(),
  extradata_size_bytes: z.number(),
  pix_fmt: z.string().optional(),
  q: z.number(),
  width: z.number().optional(),
  height: z.number().optional(),
  sampling_hz: z.number().optional(),
  layout: z.string().optional(),
  channels: z.number().optional(),
  /** datarhei's playout (`avstream:`) inputs only, which Dragon does not have: always null. */
  avstream: z.null(),
});
/**
 * datarhei's `ProgressIO`: one stream of an input or output. As in datarhei, `pix_fmt`, `width`,
 * `height`, `sampling_hz`, `layout` and `channels` are left out when FFmpeg did not name them.
 */
export type ProgressIoJson = z.infer<typeof progressIoJsonSchema>;

const progressJsonSchema = z.object({
  inputs: z.array(progressIoJsonSchema),
  outputs: z.array(progressIoJsonSchema),
  frame: z.number(),
  packet: z.number(),
  fps: z.number(),
  q: z.number(),
  size_kb: z.number(),
  time: z.number(),
  bitrate_kbit: z.number(),
  speed: z.number(),
  drop: z.number(),
  dup: z.number(),
});
/** datarhei's `Progress`. */
export type ProgressJson = z.infer<typeof progressJsonSchema>;

/** datarhei's `ProcessState`, as `GET /api/v3/process/{id}/state` answers it. */
export const processStateJsonSchema = z.object({
  order: z.enum(['start', 'stop']),
  exec: execStateSchema,
  runtime_seconds: z.number(),
  reconnect_seconds: z.number(),
  last_logline: z.string(),
  progress: progressJsonSchema,
  memory_bytes: z.number(),
  cpu_usage: z.number(),
  command: z.array(z.string()),
});
export type ProcessStateJson = z.infer<typeof processStateJsonSchema>;

const reportRunJsonSchema = z.object({
  created_at: z.number(),
  prelude: z.array(z.string()),
  /** `[unix seconds as a string, line]`, as datarhei sends log lines. */
  log: z.array(z.tuple([z.string(), z.string()])),
  exited_at: z.number().optional(),
  exit_state: z.string().optional(),
});
export type ReportRunJson = z.infer<typeof reportRunJsonSchema>;

/** datarhei's `ProcessReport`: the current (or last) run, and the runs before it. */
export const processReportJsonSchema = reportRunJsonSchema.extend({ history: z.array(reportRunJsonSchema) });
export type ProcessReportJson = z.infer<typeof processReportJsonSchema>;

interface StateSource {
  config: ProcessConfig;
  order: 'start' | 'stop';
  exec: ProcessStateJson['exec'];
  run: FFmpegRun | undefined;
  /** The latest start's last line (a failed start has no run to ask). */
  lastLogline: string;
  command: string[];
  reconnectAt: number | undefined;
}

export function describeState(entry: StateSource, sample: ResourceSample | undefined): ProcessStateJson {
  const run = entry.run;
  const running = entry.exec === 'running' && run?.running === true;
  return {
    order: entry.order,
    exec: entry.exec,
    runtime_seconds: running ? Math.floor((Date.now() - run.startedAt) / 1000) : 0,
    reconnect_seconds: entry.reconnectAt
      ? Math.max(0, Math.ceil((entry.reconnectAt - Date.now()) / 1000))
      : -1,
    last_logline: entry.lastLogline,
    progress: describeProgress(entry.config, running ? run : undefined),
    memory_bytes: running ? (sample?.memoryBytes ?? 0) : 0,
    cpu_usage: running ? Number((sample?.cpuPercent ?? 0).toFixed(2)) : 0,
    command: [...entry.command],
  };
}

/**
 * Progress from what stock FFmpeg reports (see the README's "Progress"): totals from `-progress`,
 * stream facts from the banner. Per stream, only the output stream FFmpeg counts frames of gets a
 * frame count and rate, and each video output its quantizer; counters stock FFmpeg does not report
 * (packets, keyframes, per-stream bytes, input counters, framerate statistics) are 0, never guessed.
 */
function describeProgress(config: ProcessConfig, run: FFmpegRun | undefined): ProgressJson {
  const block = run?.progress;
  const window = run?.window ?? [];
  const first = window[0];
  const last = window.at(-1);
  const seconds = first && last ? (last.at - first.at) / 1000 : 0;
  // Moving averages over the last ten seconds; FFmpeg's own figures are averages since the start.
  const fps = seconds > 0 ? (last!.frame - first!.frame) / seconds : (block?.fps ?? 0);
  const bitrate =
    seconds > 0 ? ((last!.sizeKb - first!.sizeKb) * 8 * 1.024) / seconds : (block?.bitrate_kbit ?? 0);
  const inputs = run
    ? run.banner.facts.inputs.map((stream) => describeIo(config.input[stream.index]?.id ?? '', stream))
    : [];
  // FFmpeg prints an output's banner when its muxer starts, not in output order.
  const outputs = run
    ? [...run.banner.facts.outputs].sort(byPosition).map((stream) => {
        const io = describeIo(config.output[stream.index]?.id ?? '', stream);
        const isStream = (ref: { file: number; stream: number }) =>
          ref.file === stream.index && ref.stream === stream.stream;
        const quantizer = block?.quantizers.find(isStream);
        if (quantizer) io.q = quantizer.q;
        if (block?.frameStream && isStream(block.frameStream)) {
          io.frame = block.frame;
          io.fps = round(fps);
        }
        return io;
      })
    : [];
  return {
    inputs,
    outputs,
    frame: block?.frame ?? 0,
    packet: 0,
    fps: round(fps),
    q: block?.q ?? 0,
    size_kb: block?.size_kb ?? 0,
    time: round(block?.time ?? 0),
    bitrate_kbit: round(bitrate),
    speed: block?.speed ?? 0,
    drop: block?.drop ?? 0,
    dup: block?.dup ?? 0,
  };
}

function byPosition(a: StreamFacts, b: StreamFacts): number {
  return a.index - b.index || a.stream - b.stream;
}

function describeIo(id: string, stream: StreamFacts): ProgressIoJson {
  return {
    id,
    address: stream.address,
    index: stream.index,
    stream: stream.stream,
    format: stream.format,
    type: stream.type,
    codec: stream.codec,
    coder: stream.coder,
    frame: 0,
    keyframe: 0,
    framerate: { min: 0, max: 0, avg: 0 },
    // The rate the banner announces; the measured one replaces it where FFmpeg counts frames.
    fps: stream.fps,
    packet: 0,
    pps: 0,
    size_kb: 0,
    bitrate_kbit: stream.bitrate_kbit,
    extradata_size_bytes: 0,
    ...(stream.pix_fmt ? { pix_fmt: stream.pix_fmt } : {}),
    q: 0,
    ...(stream.width ? { width: stream.width, height: stream.height } : {}),
    ...(stream.sampling_hz ? { sampling_hz: stream.sampling_hz } : {}),
    ...(stream.layout ? { layout: stream.layout } : {}),
    ...(stream.channels ? { channels: stream.channels } : {}),
    avstream: null,
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function describeRun(record: {
  createdAt: number;
  prelude: string[];
  log: LogEntry[];
  exit?: RunExit | undefined;
}): ReportRunJson {
  return {
    created_at: Math.floor(record.createdAt / 1000),
    prelude: [...record.prelude],
    log: record.log.map((entry) => [String(Math.floor(entry.at / 1000)), entry.line]),
    ...(record.exit ? { exit_state: record.exit.state } : {}),
  };
}

export function describeReport(run: FFmpegRun | undefined, history: RunRecord[]): ProcessReportJson {
  const past = history.filter((record) => record.run === undefined || record.run !== run);
  const current = run
    ? describeRun({ createdAt: run.startedAt, prelude: run.prelude, log: run.log })
    : { created_at: 0, prelude: [], log: [] };
  return { ...current, history: past.map(describeRun) };
}
