import type { ChildProcess } from 'node:child_process';
import { z } from 'zod';
import type { ProcessConfig } from './config-schema.js';
import { BannerParser, LineSplitter } from './ffmpeg-output-parser.js';
import { spawnFFmpeg } from './ffmpeg-spawn.js';

/** One stream found by a probe, with datarhei's `ProbeIO` field names. */
const probeStreamSchema = z.object({
  url: z.string(),
  format: z.string(),
  index: z.number(),
  stream: z.number(),
  language: z.string(),
  type: z.string(),
  codec: z.string(),
  coder: z.string(),
  bitrate_kbps: z.number(),
  duration_sec: z.number(),
  fps: z.number(),
  pix_fmt: z.string(),
  width: z.number(),
  height: z.number(),
  sampling_hz: z.number(),
  layout: z.string(),
  channels: z.number(),
});
export type ProbeStream = z.infer<typeof probeStreamSchema>;

/** datarhei's `Probe`, as `GET /api/v3/process/{id}/probe` answers it. */
export const probeResultSchema = z.object({ streams: z.array(probeStreamSchema), log: z.array(z.string()) });
export type ProbeResult = z.infer<typeof probeResultSchema>;

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
