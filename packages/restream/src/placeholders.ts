import type { ProcessConfig } from './config-schema.js';

/**
 * datarhei's placeholders, replaced in addresses and options at each start:
 * `{processid}`, `{reference}`, `{inputid}` / `{outputid}` (in that input's or output's fields),
 * and whatever the manager was given (`{diskfs}`, …). Unknown placeholders stay as written.
 */
export function replacePlaceholders(config: ProcessConfig, globals: Record<string, string>): ProcessConfig {
  const base: Record<string, string> = { ...globals, processid: config.id, reference: config.reference };
  const replace = (text: string, extra: Record<string, string>) =>
    text.replace(/\{([a-z_]+)\}/g, (whole, name: string) => extra[name] ?? base[name] ?? whole);
  return {
    ...config,
    options: config.options.map((option) => replace(option, {})),
    input: config.input.map((io) => ({
      ...io,
      address: replace(io.address, { inputid: io.id }),
      options: io.options.map((option) => replace(option, { inputid: io.id })),
    })),
    output: config.output.map((io) => ({
      ...io,
      address: replace(io.address, { outputid: io.id }),
      options: io.options.map((option) => replace(option, { outputid: io.id })),
    })),
  };
}
