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

/** One argument of a process config's part of the command line, and where in the config it came from. */
export interface ConfigArgument {
  text: string;
  /** `options`, `input <id>`, `output <id>`: for messages. */
  where: string;
  /** An input's or output's address (not one of its options). */
  address: boolean;
}

/** A config's arguments in datarhei's order: global options, each input's options then `-i address`, each output's options then its address. */
export function configArguments(config: ProcessConfig): ConfigArgument[] {
  const args: ConfigArgument[] = config.options.map((text) => ({ text, where: 'options', address: false }));
  const add = (where: string, options: readonly string[], ...address: string[]) => {
    for (const text of options) args.push({ text, where, address: false });
    address.forEach((text, index) => {
      args.push({ text, where, address: index === address.length - 1 });
    });
  };
  for (const input of config.input)
    add(`input ${input.id || '(unnamed)'}`, input.options, '-i', input.address);
  for (const output of config.output)
    add(`output ${output.id || '(unnamed)'}`, output.options, output.address);
  return args;
}

/** The FFmpeg argument list: the progress channel, the config's arguments, then the appended outputs. */
export function buildCommand(config: ProcessConfig, appended: readonly AppendedOutput[] = []): string[] {
  const args = ['-progress', `pipe:${progressFd}`, '-stats_period', '1'];
  for (const argument of configArguments(config)) args.push(argument.text);
  for (const output of appended) args.push(...output.options, output.address);
  return args;
}
