/**
 * FFmpeg's own string syntax, as libavutil reads it, so that the access policy sees the strings FFmpeg
 * will use and not the ones written: `'/pr''oc'` is `/proc` to FFmpeg.
 *
 * - `av_get_token`: leading whitespace skipped; `\x` is `x`; `'…'` is taken literally (quotes removed,
 *   no escapes inside); the token ends at the first unquoted, unescaped terminator; trailing whitespace
 *   is dropped unless quoted or escaped.
 * - `av_opt_get_key_value`: a key of `[A-Za-z0-9/._-]` then `=`, else no key (a positional value).
 * - `av_dict_parse_string`: `key=value` pairs, both tokens.
 *
 * Checked against FFmpeg itself in `ffmpeg-access.slow.test.ts` (its debug log prints what it set).
 */

const whitespace = ' \n\t\r';

/** One token from `start`; `end` is where FFmpeg's pointer stops (on the terminator, not past it). */
export function getToken(text: string, start: number, terminators: string): { token: string; end: number } {
  let position = start;
  while (position < text.length && whitespace.includes(text[position] as string)) position++;
  let token = '';
  // Characters before this length came quoted or escaped: trailing whitespace there is kept.
  let kept = 0;
  while (position < text.length && !terminators.includes(text[position] as string)) {
    const char = text[position++] as string;
    if (char === '\\' && position < text.length) {
      token += text[position++];
      kept = token.length;
    } else if (char === "'") {
      while (position < text.length && text[position] !== "'") token += text[position++];
      if (position < text.length) {
        position++;
        kept = token.length;
      }
    } else {
      token += char;
    }
  }
  let length = token.length;
  while (length > kept && whitespace.includes(token[length - 1] as string)) length--;
  return { token: token.slice(0, length), end: position };
}

/** The whole text as one token (no terminators): what one level of FFmpeg unquoting makes of it. */
export function unquote(text: string): string {
  return getToken(text, 0, '').token;
}

const isKeyChar = (char: string | undefined) => char !== undefined && /[A-Za-z0-9/._-]/.test(char);

/** A filter option as FFmpeg's filter initialisation reads it: `key=value`, or a value by position. */
export interface KeyValue {
  key: string | undefined;
  value: string;
}

/**
 * One `av_opt_get_key_value(…, "=", separators, implicit key)` item from `start`: a key of
 * `[A-Za-z0-9/._-]` followed by `=`, else none (the item is a value, read from where the key began);
 * `end` is on the separator that ended the value.
 */
export function keyValueAt(text: string, start: number, pairSeparators: string): KeyValue & { end: number } {
  let at = start;
  while (at < text.length && whitespace.includes(text[at] as string)) at++;
  const keyStart = at;
  while (isKeyChar(text[at])) at++;
  const keyEnd = at;
  while (at < text.length && whitespace.includes(text[at] as string)) at++;
  const keyed = text[at] === '=';
  const { token, end } = getToken(text, keyed ? at + 1 : start, pairSeparators);
  return { key: keyed ? text.slice(keyStart, keyEnd) : undefined, value: token, end };
}

/**
 * `key=value:value:key=value` as `process_options` (FFmpeg ≤ 6) and `ff_filter_opt_parse` (≥ 7) read
 * a filter's arguments.
 */
export function keyValues(text: string, pairSeparators = ':'): KeyValue[] {
  const items: KeyValue[] = [];
  let position = 0;
  while (position < text.length) {
    const { key, value, end } = keyValueAt(text, position, pairSeparators);
    items.push({ key, value });
    position = end < text.length ? end + 1 : end;
  }
  return items;
}

/**
 * `av_dict_parse_string(text, "=", ":")`: pairs of tokens. FFmpeg stops at the first malformed pair
 * (and refuses the whole string); the pairs before it are returned.
 */
export function dictionaryEntries(
  text: string,
  keyValueSeparators = '=',
  pairSeparators = ':',
): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  let position = 0;
  while (position < text.length) {
    const key = getToken(text, position, keyValueSeparators);
    position = key.end;
    if (!key.token || position >= text.length || !keyValueSeparators.includes(text[position] as string))
      break;
    const value = getToken(text, position + 1, pairSeparators);
    position = value.end;
    if (!value.token) break;
    entries.push([key.token, value.token]);
    if (position < text.length) position++;
  }
  return entries;
}
