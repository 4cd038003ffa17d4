import type { ChildProcess } from 'node:child_process';
import type { ProcessConfig } from './config-schema.js';
import { BannerParser, LineSplitter } from './ffmpeg-output-parser.js';
import { spawnFFmpeg } from './ffmpeg-spawn.js';

/** One stream found by a probe, with datarhei's `ProbeIO` field names. */
export interface ProbeStream {
  url: string;
  format: string;
  index: number;
  stream: number;
  language: string;
  type: string;
  codec: string;
  coder: string;
  bitrate_kbps: number;
  duration_sec: number;
  fps: number;
  pix_fmt: string;
  width: number;
  height: number;
  sampling_hz: number;
  layout: string;
  channels: number;
}

export interface ProbeResult {
  streams: ProbeStream[];
  log: string[];
}

/**
 * Opens the process's inputs with no outputs: FFmpeg prints what it found and exits. Bounded by
 * `timeoutMs` for inputs that never answer. `env` and `cwd` are what a run of the process gets.
 */
export function probeInputs(
  binary: string,
  config: ProcessConfig,
  timeoutMs: number,
  spawnOptions: { env: Record<string, string>; cwd: string },
): Promise<ProbeResult> {
  const args = ['-hide_banner', ...config.options];
  for (const input of config.input) args.push(...input.options, '-i', input.address);
  const banner = new BannerParser();
  const log: string[] = [];
  const lines = new LineSplitter((line) => {
    banner.feed(line);
    if (log.length < 1000) log.push(line);
  });
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawnFFmpeg(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], ...spawnOptions });
    } catch (error) {
      resolve({ log: [`failed to run ${binary}: ${(error as Error).message}`], streams: [] });
      return;
    }
    const timer = setTimeout(() => {
      log.push(`probe timed out after ${timeoutMs} ms`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => lines.push(chunk));
    const finish = () => {
      clearTimeout(timer);
      lines.flush();
      resolve({
        log,
        streams: banner.facts.inputs.map((facts) => ({
          url: facts.address,
          format: facts.format,
          index: facts.index,
          stream: facts.stream,
          language: '',
          type: facts.type,
          codec: facts.codec,
          coder: facts.codec,
          bitrate_kbps: facts.bitrate_kbit,
          duration_sec: 0,
          fps: facts.fps,
          pix_fmt: facts.pix_fmt,
          width: facts.width,
          height: facts.height,
          sampling_hz: facts.sampling_hz,
          layout: facts.layout,
          channels: facts.channels,
        })),
      });
    };
    child.once('error', (error) => {
      log.push(`failed to run ${binary}: ${error.message}`);
      finish();
    });
    child.once('close', finish);
  });
}
