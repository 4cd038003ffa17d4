import { dirname } from 'node:path';
import { type FileGroup, type ParsedOption, parseCommandLine } from './ffmpeg-argv.js';
import type { ConfigArgument } from './ffmpeg-command.js';
import {
  commandLineFileOptions,
  encoderFileParameters,
  encoderParameterStrings,
  type FilterFileOption,
  fileOptionNames,
  filterFileOptions,
  formatFileOptions,
  formatOptionDictionaries,
  mediaExtensions,
  presetOptions,
  refusedFilters,
} from './ffmpeg-file-options.js';
import { dictionaryEntries, getToken, keyValueAt } from './ffmpeg-token.js';
import { FilterGraphSyntaxError, parseFilterGraph } from './filter-graph.js';

/** The policy's judgements, which the audit applies to everything the command will open. */
export interface AccessChecks {
  /** Something FFmpeg reads: `input` as an input is opened (any protocol), `read` a local file. */
  read(target: string, where: string, role: 'input' | 'read'): void;
  /** Something FFmpeg writes. */
  write(target: string, where: string): void;
  /** datarhei's `ffmpeg.access.input` lists, for an address that is not a URL (a `lavfi` graph). */
  inputListed(address: string, where: string): void;
  /** No protected path in any reading of the text, whatever option carries it. */
  text(text: string, where: string): void;
  deny(where: string, reason: string): never;
}

const truthy = /^(1|true|y|yes|on|enable)$/i;
const falsy = /^(0+|false|n|no|off|disable)$/i;

/**
 * Judges a process config's command line by what FFmpeg will open: the inputs and outputs FFmpeg's
 * own parser finds, every filter graph and what its filters open, the options that name files, and
 * the formats and protocols that open further files.
 */
export function auditCommand(args: readonly ConfigArgument[], checks: AccessChecks): void {
  for (const argument of args) {
    if (argument.address && argument.text !== '-' && argument.text.startsWith('-')) {
      checks.deny(argument.where, `the address ${argument.text} would be read as an option`);
    }
  }
  const line = parseCommandLine(args);
  if (line.missingArgument) checks.deny('options', `${line.missingArgument} has no argument`);
  const trailing = line.trailing[0];
  if (trailing) {
    checks.deny(
      trailing.where,
      `${trailing.spelled} comes after the last output: FFmpeg would apply it to the server's own outputs`,
    );
  }
  const audit = new Audit(checks, line.options);
  for (const input of line.inputs) audit.input(input);
  for (const output of line.outputs) audit.output(output);
  for (const argument of args) checks.text(argument.text, argument.where);
}

class Audit {
  constructor(
    readonly checks: AccessChecks,
    readonly options: readonly ParsedOption[],
  ) {}

  input(group: FileGroup): void {
    for (const option of group.options) this.#option(option, undefined);
    const format = formatOf(group);
    if (format === 'lavfi') {
      this.checks.inputListed(group.url, group.where);
      this.graph(group.url, group.where);
    } else if (format === 'concat') {
      this.checks.deny(group.where, 'a concat list names files the policy cannot see: list them as inputs');
    } else {
      this.checks.read(group.url, group.where, 'input');
    }
  }

  output(group: FileGroup): void {
    for (const option of group.options) this.#option(option, group.url);
    const format = formatOf(group);
    const looksTee = group.url.startsWith('[') || group.url.includes('|');
    if (format === 'tee' || (format === undefined && looksTee)) {
      for (const slave of teeSlaves(group.url)) {
        for (const [key, value] of slave.options) this.#formatOption(key, value, group.where, slave.url);
        this.checks.write(slave.url, group.where);
      }
    }
    // Without `-f tee` FFmpeg may take the whole text for one file: both readings must pass. (One that
    // begins with `[` is relative to a directory `[…` FFmpeg would need to find: it cannot write there.)
    if (format !== 'tee' && !(looksTee && group.url.startsWith('[')))
      this.checks.write(group.url, group.where);
  }

  /** `output`: the url of the output the option belongs to, for names relative to it. */
  #option(option: ParsedOption, output: string | undefined): void {
    const { name, value, where } = option;
    const deny = (reason: string) => this.checks.deny(where, `${option.spelled}: ${reason}`);
    if (option.fromFile) deny('reads its value from a file: the policy cannot judge it');
    const known = commandLineFileOptions[name];
    if (known?.role === 'refused') deny(known.reason ?? 'refused');
    if (value === undefined) return;
    if (known?.role === 'graph') this.graph(value, where);
    else if (known?.role === 'input') this.checks.read(value, where, 'input');
    else if (known?.role === 'write') this.checks.write(value, where);
    else if (name === 'dump_attachment') {
      if (value === '') deny("without a file name it writes where the input's metadata says");
      this.checks.write(value, where);
    } else if (name === 'passlogfile') this.checks.write(`${value}-0.log`, where);
    else if (name === 'pass' && !this.options.some((other) => other.name === 'passlogfile')) {
      deny("without -passlogfile it writes ffmpeg2pass-0.log into FFmpeg's working directory");
    } else if (presetOptions.has(name) && (value.includes('/') || value.startsWith('.'))) {
      deny('names a preset, not a path');
    } else this.#formatOption(name, value, where, output);
  }

  /** A format, protocol or encoder option (`-safe 0`, `-hls_segment_filename x`, `-x264-params …`). */
  #formatOption(name: string, value: string, where: string, output: string | undefined): void {
    const deny = (reason: string) => this.checks.deny(where, `-${name} ${value}: ${reason}`);
    const known = formatFileOptions[name];
    switch (name) {
      case 'safe':
        if (!truthy.test(value)) deny('it lets a concat list name any file');
        return;
      case 'allowed_extensions':
      case 'allowed_segment_extensions':
        if (!value.split(',').every((extension) => mediaExtensions.has(extension.toLowerCase()))) {
          deny('an HLS playlist could then name files that are not media');
        }
        return;
      case 'extension_picky':
        if (!truthy.test(value)) deny('an HLS playlist could then name files that are not media');
        return;
      case 'enable_drefs':
      case 'use_absolute_path':
        if (!falsy.test(value)) deny('a MOV file could then open the files it names');
        return;
    }
    if (known?.role === 'refused') deny(known.reason ?? 'refused');
    if (known?.role === 'graph') {
      this.graph(value, where);
      return;
    }
    if (known?.role === 'read' || known?.role === 'input') {
      this.checks.read(value, where, known.role);
      return;
    }
    if (known?.role === 'write') {
      // FFmpeg appends the name to the output's directory, absolute or not (`dir//abs`).
      this.checks.write(known.beside && output ? `${dirname(output)}/${value}` : value, where);
      return;
    }
    if (formatOptionDictionaries.has(name)) {
      for (const [key, entry] of dictionaryEntries(value)) this.#formatOption(key, entry, where, output);
      return;
    }
    if (encoderParameterStrings.has(name)) {
      // x264opts is read with sscanf, not as tokens: both splittings are judged.
      const entries = [...dictionaryEntries(value), ...value.split(':').map((pair) => pair.split('=', 2))];
      for (const [key, entry] of entries) {
        const role = key ? encoderFileParameters[key] : undefined;
        if (role === 'read' && entry) this.checks.read(entry, where, 'read');
        if (role === 'write' && entry) this.checks.write(entry, where);
      }
    }
  }

  graph(graph: string, where: string): void {
    let filters: ReturnType<typeof parseFilterGraph>;
    try {
      filters = parseFilterGraph(graph);
    } catch (error) {
      if (error instanceof FilterGraphSyntaxError) this.checks.deny(where, error.message);
      throw error;
    }
    for (const filter of filters) {
      const refused = refusedFilters[filter.name];
      if (refused) this.checks.deny(where, `the ${filter.name} filter is not allowed: ${refused}`);
      const table = filterFileOptions[filter.name] ?? [];
      const given: Array<[FilterFileOption, string]> = [];
      let position = 0;
      let named = false;
      for (const { key, value } of filter.options) {
        if (key?.startsWith('/')) {
          this.checks.deny(
            where,
            `${filter.name}: ${key} reads the option's value from a file: the policy cannot judge it`,
          );
        }
        // After a named option, FFmpeg 5 goes on by position from that option, FFmpeg 7 refuses:
        // which option such a value sets depends on the version, so it is refused.
        if (key === undefined && named && table.length > 0) {
          this.checks.deny(
            where,
            `${filter.name}: name every option after a named one (${value} comes by position)`,
          );
        }
        const entry =
          key === undefined
            ? table.find((candidate) => candidate.position === position)
            : table.find((candidate) => candidate.names.includes(key));
        if (key === undefined) position++;
        else named = true;
        if (entry) given.push([entry, value]);
        this.checks.text(value, where);
      }
      for (const entry of table) {
        if (entry.fallback && !given.some(([seen]) => seen === entry)) given.push([entry, entry.fallback]);
      }
      this.#filterFiles(filter.name, given, where);
    }
  }

  #filterFiles(filter: string, given: Array<[FilterFileOption, string]>, where: string): void {
    const format = given.find(([entry]) => entry.role === 'format')?.[1];
    for (const [entry, value] of given) {
      const what = `the ${filter} filter's ${entry.names[0]}`;
      switch (entry.role) {
        case 'input':
          // `movie=f=lavfi:filename=<graph>` opens a graph, not a file.
          if (format === 'lavfi') this.graph(value, where);
          else this.checks.read(value, where, 'input');
          break;
        case 'read':
          this.checks.read(value, where, 'read');
          break;
        case 'write':
          if (value !== '-') this.checks.write(value, where);
          break;
        case 'library':
          if (value.includes('/') || value.startsWith('.')) {
            this.checks.deny(
              where,
              `${what} loads ${value} as code: name a plugin installed on the system, not a path`,
            );
          }
          break;
        case 'format':
          if (value === 'concat')
            this.checks.deny(where, `${what} concat reads a list of files the policy cannot see`);
          break;
        case 'input-options':
          for (const [key, option] of dictionaryEntries(value))
            this.#formatOption(key, option, where, undefined);
          break;
        case 'commands':
          this.#commands(filter, value, where);
          break;
        case 'refused':
          this.checks.deny(where, `${what}: ${entry.reason}`);
          break;
        case 'graph':
          this.graph(value, where);
          break;
      }
    }
  }

  /**
   * sendcmd's `INTERVAL [FLAGS] TARGET COMMAND ARG, …; …`: no command may re-initialise a filter or
   * set an option that opens something, since that happens after this check.
   */
  #commands(filter: string, commands: string, where: string): void {
    for (const interval of commands.split(';')) {
      const [, ...rest] = interval.trim().split(/\s+/);
      for (const command of rest.join(' ').split(',')) {
        const words = command
          .trim()
          .split(/\s+/)
          .filter((word) => !word.startsWith('['));
        const name = words[1];
        if (name && (name === 'reinit' || fileOptionNames.has(name))) {
          this.checks.deny(
            where,
            `the ${filter} filter may not send "${name}": it could open a file the policy has not judged`,
          );
        }
      }
    }
  }
}

function formatOf(group: FileGroup): string | undefined {
  return group.options.findLast((option) => option.name === 'f')?.value;
}

/**
 * The tee muxer's slaves: split as `av_get_token(…, "|")`, each `[key=value:…]url`, the options read
 * with `av_opt_get_key_value(…, "=", ":]")` (libavformat/tee.c).
 */
export function teeSlaves(url: string): Array<{ options: Array<[string, string]>; url: string }> {
  const slaves: Array<{ options: Array<[string, string]>; url: string }> = [];
  let position = 0;
  while (position < url.length) {
    const slave = getToken(url, position, '|');
    position = slave.end + 1;
    const text = slave.token;
    if (!text.startsWith('[')) {
      slaves.push({ options: [], url: text });
      continue;
    }
    const options: Array<[string, string]> = [];
    let at = 1;
    let rest = text;
    for (;;) {
      const item = keyValueAt(text, at, ':]');
      // FFmpeg refuses a slave whose options do not parse; judged as written, to be safe.
      if (item.key === undefined || item.end >= text.length) break;
      options.push([item.key, item.value]);
      if (text[item.end] === ']') {
        rest = text.slice(item.end + 1);
        break;
      }
      at = item.end + 1;
    }
    slaves.push({ options, url: rest });
  }
  return slaves;
}
