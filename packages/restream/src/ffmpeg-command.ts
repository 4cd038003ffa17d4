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
  /** The index of the input it belongs to; absent for global options and outputs. */
  input?: number;
}

/** A config's arguments in datarhei's order: global options, each input's options then `-i address`, each output's options then its address. */
export function configArguments(config: ProcessConfig): ConfigArgument[] {
  const args: ConfigArgument[] = config.options.map((text) => ({ text, where: 'options', address: false }));
  const add = (
    where: string,
    input: number | undefined,
    options: readonly string[],
    ...address: string[]
  ) => {
    const of = input === undefined ? {} : { input };
    for (const text of options) args.push({ text, where, address: false, ...of });
    address.forEach((text, index) => {
      args.push({ text, where, address: index === address.length - 1, ...of });
    });
  };
  for (const [index, input] of config.input.entries())
    add(`input ${input.id || '(unnamed)'}`, index, input.options, '-i', input.address);
  for (const output of config.output)
    add(`output ${output.id || '(unnamed)'}`, undefined, output.options, output.address);
  return args;
}

/**
 * The FFmpeg argument list: the progress channel, the config's arguments, then the appended outputs.
 * `inputOptions` (by input index) go before an input's own options, which therefore win where both
 * set one.
 */
export function buildCommand(
  config: ProcessConfig,
  appended: readonly AppendedOutput[] = [],
  inputOptions: ReadonlyMap<number, readonly string[]> = new Map(),
): string[] {
  const args = ['-progress', `pipe:${progressFd}`, '-stats_period', '1'];
  let input: number | undefined;
  for (const argument of configArguments(config)) {
    if (argument.input !== undefined && argument.input !== input) {
      input = argument.input;
      args.push(...(inputOptions.get(input) ?? []));
    }
    args.push(argument.text);
  }
  for (const output of appended) args.push(...output.options, output.address);
  return args;
}
