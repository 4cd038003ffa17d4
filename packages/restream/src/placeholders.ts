import type { ProcessConfig } from './config-schema.js';

/** Where a placeholder stands: the process's global options, or one input's or output's fields. */
export interface PlaceholderContext {
  section: 'global' | 'input' | 'output';
  processId: string;
  reference: string;
  /** The input's (section `input`) or output's (section `output`) id; empty for `global`. */
  ioId: string;
}

/** Parameters of a placeholder (`{rtmp,name=cam}` → `{ name: 'cam' }`), URL-decoded, `$processid` etc. expanded. */
export type PlaceholderParams = Readonly<Record<string, string>>;

/**
 * The value of a placeholder the server provides (`{memfs}`, `{rtmp,name=…}`, …), or `undefined` to
 * leave the placeholder as written.
 */
export type PlaceholderResolver = (
  name: string,
  params: PlaceholderParams,
  context: PlaceholderContext,
) => string | undefined;

/** One placeholder's value from its parameters and where it stands. */
export type PlaceholderTemplate = (params: PlaceholderParams, context: PlaceholderContext) => string;

/**
 * What a server registers, by placeholder name (`diskfs`, `memfs`, `fs:<name>`, `rtmp`, `srt`): a
 * function, or a string template whose `{key}` slots the parameters fill (see {@link placeholderTemplate}).
 * @example { memfs: 'http://127.0.0.1:8080/memfs', rtmp: 'rtmp://127.0.0.1:1935/live/{name}' }
 */
export type PlaceholderTemplates = Readonly<Record<string, string | PlaceholderTemplate>>;

/**
 * datarhei's template: `{key}` slots filled from the placeholder's parameters, then from `defaults`;
 * a slot with neither stays as written.
 * @example placeholderTemplate((context) => `srt://127.0.0.1:6000?latency={latency}&streamid={name},mode:${context.section === 'output' ? 'publish' : 'request'}`, { latency: '20000' })
 */
export function placeholderTemplate(
  template: string | ((context: PlaceholderContext) => string),
  defaults: Readonly<Record<string, string>> = {},
): PlaceholderTemplate {
  return (params, context) => {
    const text = typeof template === 'string' ? template : template(context);
    return text.replace(/\{([a-z:]+)\}/g, (slot, key: string) =>
      Object.hasOwn(params, key) ? params[key]! : Object.hasOwn(defaults, key) ? defaults[key]! : slot,
    );
  };
}

/** A resolver over registered templates; names not registered resolve to `undefined`. */
export function createPlaceholderResolver(templates: PlaceholderTemplates): PlaceholderResolver {
  const byName = new Map<string, PlaceholderTemplate>();
  for (const [name, template] of Object.entries(templates)) {
    byName.set(name, typeof template === 'string' ? placeholderTemplate(template) : template);
  }
  return (name, params, context) => byName.get(name)?.(params, context);
}

type Field = 'globalOption' | 'address' | 'ioOption' | 'cleanup';

/**
 * Which placeholders datarhei Core replaces in which field (restream.go `resolvePlaceholders`): the
 * ingest servers only in addresses; the filesystems in addresses and options; the ids everywhere
 * but the global options.
 */
function allowed(name: string, field: Field, section: PlaceholderContext['section']): boolean {
  switch (name) {
    case 'processid':
    case 'reference':
      return field !== 'globalOption';
    case 'inputid':
      return section === 'input' && field !== 'globalOption';
    case 'outputid':
      return section === 'output' && field !== 'globalOption';
    case 'rtmp':
    case 'srt':
      return field === 'address';
    // A WHIP publication is read, never written: inputs only.
    case 'whip':
      return field === 'address' && section === 'input';
    case 'memfs':
      return field === 'address' || field === 'ioOption';
    default:
      return (name === 'diskfs' || name.startsWith('fs:')) && field !== 'cleanup';
  }
}

/**
 * datarhei's placeholders, replaced in addresses, options and cleanup patterns at each start:
 * `{processid}`, `{reference}`, `{inputid}` / `{outputid}` (in that input's or output's fields), and
 * what `resolve` provides (`{diskfs}`, `{memfs}`, `{fs:name}`, `{rtmp,name=…}`, `{srt,name=…}`,
 * `{whip,name=…}` in input addresses).
 *
 * Syntax as datarhei's: `{name}`, `{name^c}` to escape every `c` (and backslash) of the value with
 * backslashes for FFmpeg's filter and option parsers, `{name,key=value,…}` with URL-encoded keys
 * and values in which `$processid`, `$reference`, `$inputid`, `$outputid` expand. Values are
 * inserted as they are: no URL encoding. Unknown placeholders, and those a field does not take,
 * stay as written. One left-to-right pass: a value is never scanned again.
 */
export function replacePlaceholders(config: ProcessConfig, resolve: PlaceholderResolver): ProcessConfig {
  const global: PlaceholderContext = {
    section: 'global',
    processId: config.id,
    reference: config.reference,
    ioId: '',
  };
  const inputs = config.input.map((io) => ({ ...global, section: 'input' as const, ioId: io.id }));
  const outputs = config.output.map((io) => ({ ...global, section: 'output' as const, ioId: io.id }));
  const expand = (text: string, field: Field, context: PlaceholderContext) =>
    expandPlaceholders(text, field, context, resolve);
  return {
    ...config,
    options: config.options.map((option) => expand(option, 'globalOption', global)),
    input: config.input.map((io, index) => ({
      ...io,
      address: expand(io.address, 'address', inputs[index]!),
      options: io.options.map((option) => expand(option, 'ioOption', inputs[index]!)),
    })),
    output: config.output.map((io, index) => ({
      ...io,
      address: expand(io.address, 'address', outputs[index]!),
      options: io.options.map((option) => expand(option, 'ioOption', outputs[index]!)),
      cleanup: io.cleanup.map((rule) => ({
        ...rule,
        pattern: expand(rule.pattern, 'cleanup', outputs[index]!),
      })),
    })),
  };
}

function builtIn(name: string, context: PlaceholderContext): string | undefined {
  switch (name) {
    case 'processid':
      return context.processId;
    case 'reference':
      return context.reference;
    case 'inputid':
    case 'outputid':
      return context.ioId;
    default:
      return undefined;
  }
}

/**
 * One linear pass over `text` (datarhei's `{([a-z]+(?::[0-9A-Za-z]+)?)(?:\^(.))?(?:,(.*?))?}`, hand
 * written so that a hostile option of many `{` costs no more than its length).
 */
function expandPlaceholders(
  text: string,
  field: Field,
  context: PlaceholderContext,
  resolve: PlaceholderResolver,
): string {
  let open = text.indexOf('{');
  if (open === -1) return text;
  let result = '';
  let copiedUpTo = 0;
  // The next `}` and newline at or after a position; both only move forward.
  let nextClose = -2;
  let nextNewline = -2;
  while (open !== -1) {
    const match = matchAt(text, open);
    if (!match) {
      open = text.indexOf('{', open + 1);
      continue;
    }
    let end = match.end;
    let paramsText = '';
    if (text[end] === ',') {
      if (nextClose !== -1 && nextClose < end) nextClose = text.indexOf('}', end);
      if (nextClose === -1) break;
      if (nextNewline !== -1 && nextNewline < end) nextNewline = text.indexOf('\n', end);
      if (nextNewline !== -1 && nextNewline < nextClose) {
        open = text.indexOf('{', open + 1);
        continue;
      }
      paramsText = text.slice(end + 1, nextClose);
      end = nextClose;
    }
    // `end` is at the closing brace.
    const value = allowed(match.name, field, context.section)
      ? (builtIn(match.name, context) ?? resolve(match.name, parseParams(paramsText, context), context))
      : undefined;
    if (value !== undefined) {
      result += text.slice(copiedUpTo, open) + escapeValue(value, match.escaped);
      copiedUpTo = end + 1;
    }
    open = text.indexOf('{', end + 1);
  }
  return copiedUpTo === 0 ? text : result + text.slice(copiedUpTo);
}

/**
 * The name and escaped character of a placeholder starting at `open`; `end` is the index of the `}`
 * or `,` after them. `undefined` when no placeholder starts there.
 */
function matchAt(text: string, open: number): { name: string; escaped: string; end: number } | undefined {
  let index = open + 1;
  while (isLower(text.charCodeAt(index))) index++;
  if (index === open + 1) return undefined;
  if (text[index] === ':') {
    const suffixStart = index + 1;
    let suffixEnd = suffixStart;
    while (isAlphanumeric(text.charCodeAt(suffixEnd))) suffixEnd++;
    if (suffixEnd > suffixStart) index = suffixEnd;
  }
  const name = text.slice(open + 1, index);
  let escaped = '';
  if (text[index] === '^' && index + 1 < text.length && text[index + 1] !== '\n') {
    escaped = text[index + 1]!;
    index += 2;
  }
  const next = text[index];
  if (next !== '}' && next !== ',') return undefined;
  return { name, escaped, end: index };
}

function isLower(code: number): boolean {
  return code >= 97 && code <= 122;
}

function isAlphanumeric(code: number): boolean {
  return isLower(code) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57);
}

/** `key=value,…`, each URL-decoded as a query string is; a pair that does not decode is dropped. */
function parseParams(text: string, context: PlaceholderContext): PlaceholderParams {
  const params: Record<string, string> = Object.create(null);
  if (text === '') return params;
  for (const pair of text.split(',')) {
    if (pair === '') continue;
    const separator = pair.indexOf('=');
    const key = decodeQueryComponent(separator === -1 ? pair : pair.slice(0, separator));
    const value = decodeQueryComponent(separator === -1 ? '' : pair.slice(separator + 1));
    if (key === undefined || value === undefined) continue;
    params[key] = expandVariables(value, context);
  }
  return params;
}

function decodeQueryComponent(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

function expandVariables(value: string, context: PlaceholderContext): string {
  if (!value.includes('$')) return value;
  return value.replace(/\$(processid|reference|inputid|outputid)/g, (whole, name: string) => {
    if (name === 'processid') return context.processId;
    if (name === 'reference') return context.reference;
    return name === `${context.section}id` ? context.ioId : whole;
  });
}

/**
 * `{name^c}`: every `c` becomes `\\c`, and (unless `c` is the backslash) every backslash `\\\`,
 * so the value survives FFmpeg's two levels of unescaping in a filtergraph.
 */
function escapeValue(value: string, escaped: string): string {
  if (escaped === '') return value;
  const backslashed = escaped === '\\' ? value : value.replaceAll('\\', '\\\\\\');
  return backslashed.replaceAll(escaped, `\\\\${escaped}`);
}
