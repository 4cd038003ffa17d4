/**
 * The FFmpeg command line as FFmpeg splits it (`split_commandline` in fftools/cmdutils.c): `-i url`
 * ends an input's group of options, an argument that is not an option ends an output's, and an option
 * takes the next argument unless it is one of FFmpeg's own flags. What takes an argument differs
 * between FFmpeg versions; where it does, both readings are judged.
 */

/** Where an argument came from, for messages: `input in`, `output hls`, `options`. */
export interface Argument {
  text: string;
  where: string;
}

export interface ParsedOption {
  /** Without the dash, the stream specifier or a `/` prefix: `c` for `-c:v`, `filter` for `-/filter:v`. */
  name: string;
  /** As written: `-c:v`. */
  spelled: string;
  /** FFmpeg ≥ 7 reads the value of `-/name` from the file the argument names. */
  fromFile: boolean;
  value: string | undefined;
  where: string;
}

export interface FileGroup {
  url: string;
  options: ParsedOption[];
  where: string;
}

export interface ParsedCommandLine {
  /** Every option in order, whatever group it belongs to. */
  options: ParsedOption[];
  inputs: FileGroup[];
  outputs: FileGroup[];
  /** Options after the last output: FFmpeg would apply them to whatever comes next. */
  trailing: ParsedOption[];
  /** An option whose argument is missing: FFmpeg refuses the command. */
  missingArgument: string | undefined;
}

/**
 * FFmpeg's options that take no argument, FFmpeg 4.4 to 7.1 (bool and function options without
 * `HAS_ARG`/`OPT_FUNC_ARG`); AVOptions always take one. 5.1's list is checked against the installed
 * FFmpeg in `ffmpeg-access.slow.test.ts`.
 */
export const flagOptions = new Set([
  'accurate_seek',
  'an',
  'auto_conversion_filters',
  'benchmark',
  'benchmark_all',
  'bitexact',
  'copy_unknown',
  'copyinkf',
  'copyts',
  'debug_ts',
  'display_hflip',
  'display_vflip',
  'dn',
  'dump',
  'find_stream_info',
  'fix_sub_duration',
  'fix_sub_duration_heartbeat',
  'force_fps',
  'hex',
  'hide_banner',
  'ignore_unknown',
  'n',
  'print_graphs',
  'psnr',
  'qphist',
  're',
  'recast_media',
  'report',
  'shortest',
  'sn',
  'start_at_zero',
  'stats',
  'stdin',
  'vn',
  'vstats',
  'xerror',
  'y',
]);

/** Options that print something and end FFmpeg (`-h`, `-formats`…); they take an optional argument. */
export const exitOptions = new Set(
  'L h ? help -help version buildconf formats muxers demuxers devices codecs decoders encoders bsfs protocols filters pix_fmts layouts sample_fmts dispositions colors sources sinks hwaccels'.split(
    ' ',
  ),
);

/**
 * Booleans that take an argument in some FFmpeg versions and none in others (`-autorotate 0` in 5.1,
 * `-autorotate` alone in 7): the next argument is their value only when it reads as a number or a
 * boolean, which no FFmpeg would take for an output.
 */
const versionDependentFlags = new Set(['autorotate', 'autoscale', 'isync']);
const booleanOrNumber = /^(-?\d+|true|false|yes|no|on|off)$/i;

/** Boolean options FFmpeg also accepts as `-noname`. */
const negatable = new Set([...flagOptions, ...versionDependentFlags, 'stdin', 'stats']);

function optionName(spelled: string): { name: string; fromFile: boolean } {
  let name = spelled.slice(1);
  const fromFile = name.startsWith('/');
  if (fromFile) name = name.slice(1);
  const colon = name.indexOf(':');
  return { name: colon >= 0 ? name.slice(0, colon) : name, fromFile };
}

export function parseCommandLine(args: readonly Argument[]): ParsedCommandLine {
  const parsed: ParsedCommandLine = {
    options: [],
    inputs: [],
    outputs: [],
    trailing: [],
    missingArgument: undefined,
  };
  let group: ParsedOption[] = [];
  let afterDashDash = false;
  for (let index = 0; index < args.length; index++) {
    const { text, where } = args[index] as Argument;
    if (text === '--' && !afterDashDash) {
      afterDashDash = true;
      continue;
    }
    // Not an option (or just after `--`): an output's url, which ends its group.
    if (!text.startsWith('-') || text.length === 1 || afterDashDash) {
      afterDashDash = false;
      parsed.outputs.push({ url: text, options: group, where });
      group = [];
      continue;
    }
    const { name, fromFile } = optionName(text);
    const next = args[index + 1];
    if (text === '-i') {
      if (!next) {
        parsed.missingArgument = text;
        break;
      }
      index++;
      parsed.inputs.push({ url: next.text, options: group, where: next.where });
      group = [];
      continue;
    }
    let value: string | undefined;
    const takesNothing =
      flagOptions.has(name) ||
      (versionDependentFlags.has(name) && !(next && booleanOrNumber.test(next.text))) ||
      (name.startsWith('no') && negatable.has(name.slice(2)));
    if (exitOptions.has(name)) {
      // FFmpeg takes the next argument, if any, as the help topic.
      value = next?.text;
      if (next) index++;
    } else if (!takesNothing) {
      if (!next) {
        parsed.missingArgument = text;
        break;
      }
      value = next.text;
      index++;
    }
    const option = { name, spelled: text, fromFile, value, where };
    parsed.options.push(option);
    group.push(option);
  }
  parsed.trailing = group;
  return parsed;
}
