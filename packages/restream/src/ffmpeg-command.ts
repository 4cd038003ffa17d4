import type { ProcessConfig } from './config-schema.js';

/** An output added for one FFmpeg start by an `onStart` hook; it never enters the stored config. */
export interface AppendedOutput {
  id?: string;
  address: string;
  options: string[];
}

/**
 * File descriptor FFmpeg writes `-progress` key=value blocks to. Not stdout: an output may be `-`.
 */
export const progressFd = 3;

/**
 * The FFmpeg argument list: global options, each input's options then `-i address`, each output's
 * options then its address — datarhei's order — plus the progress channel.
 */
export function buildCommand(config: ProcessConfig, appended: readonly AppendedOutput[] = []): string[] {
  const args = ['-progress', `pipe:${progressFd}`, '-stats_period', '1', ...config.options];
  for (const input of config.input) args.push(...input.options, '-i', input.address);
  for (const output of config.output) args.push(...output.options, output.address);
  for (const output of appended) args.push(...output.options, output.address);
  return args;
}
