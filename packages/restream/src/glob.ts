import { GlobSyntaxError } from './errors.js';

/**
 * Globs as datarhei reads them: `idpattern`/`refpattern` (`*` any run, `?` one character) and, with
 * `extended` and `/` as separator, its file globs (gobwas/glob: `*` any run without `/`, `**` any
 * run, `?` one character but `/`, `[abc]`, `[!a-z]`, `{a,b}` alternatives, `\` escapes).
 *
 * Matching simulates the pattern as an automaton over the text, one character at a time, so it takes
 * O(text × pattern) whatever the pattern: a backtracking matcher (a RegExp built from the glob) is
 * exponential on patterns like `*a*a*a*b`.
 */

type Token =
  | { kind: 'char'; char: string }
  | { kind: 'any' }
  | { kind: 'star'; crossesSeparator: boolean }
  | { kind: 'class'; negated: boolean; ranges: Array<[string, string]> };

/** Bounds on what a client may hand in: pattern length and `{…}` expansion. */
const maxPatternLength = 1024;
const maxAlternatives = 256;

/** Expands `{a,b}` groups (nested allowed) into plain patterns. */
function expandBraces(pattern: string, source: string): string[] {
  let depth = 0;
  let open = -1;
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index];
    if (char === '\\') {
      index++;
      continue;
    }
    if (char === '[') {
      const close = pattern.indexOf(']', index + 2);
      if (close > 0) index = close;
      continue;
    }
    if (char === '{') {
      if (depth === 0) open = index;
      depth++;
    } else if (char === '}' && depth > 0) {
      depth--;
      if (depth === 0) {
        const inner = pattern.slice(open + 1, index);
        const options: string[] = [];
        let level = 0;
        let start = 0;
        for (let at = 0; at < inner.length; at++) {
          const innerChar = inner[at];
          if (innerChar === '\\') at++;
          else if (innerChar === '{') level++;
          else if (innerChar === '}') level--;
          else if (innerChar === ',' && level === 0) {
            options.push(inner.slice(start, at));
            start = at + 1;
          }
        }
        options.push(inner.slice(start));
        const head = pattern.slice(0, open);
        const tail = pattern.slice(index + 1);
        const expanded: string[] = [];
        for (const option of options) {
          for (const rest of expandBraces(option + tail, source)) {
            expanded.push(head + rest);
            if (expanded.length > maxAlternatives) throw new GlobSyntaxError(source, 'too many alternatives');
          }
        }
        return expanded;
      }
    }
  }
  if (depth !== 0) throw new GlobSyntaxError(source, 'unclosed {');
  return [pattern];
}

function tokenize(pattern: string, source: string, extended: boolean): Token[] {
  const tokens: Token[] = [];
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index] as string;
    if (!extended && char !== '*' && char !== '?') {
      tokens.push({ kind: 'char', char });
    } else if (char === '\\') {
      const escaped = pattern[++index];
      if (escaped === undefined) throw new GlobSyntaxError(source, 'trailing \\');
      tokens.push({ kind: 'char', char: escaped });
    } else if (char === '*') {
      const crossesSeparator = pattern[index + 1] === '*';
      if (crossesSeparator) index++;
      const previous = tokens.at(-1);
      // Adjacent stars are one star; keeping one keeps the automaton small.
      if (previous?.kind === 'star') previous.crossesSeparator ||= crossesSeparator;
      else tokens.push({ kind: 'star', crossesSeparator });
    } else if (char === '?') {
      tokens.push({ kind: 'any' });
    } else if (char === '[') {
      let at = index + 1;
      const negated = pattern[at] === '!' || pattern[at] === '^';
      if (negated) at++;
      const ranges: Array<[string, string]> = [];
      let closed = false;
      for (; at < pattern.length; at++) {
        let low = pattern[at] as string;
        if (low === ']' && ranges.length > 0) {
          closed = true;
          break;
        }
        if (low === '\\') low = pattern[++at] ?? '';
        let high = low;
        if (pattern[at + 1] === '-' && pattern[at + 2] !== undefined && pattern[at + 2] !== ']') {
          high = pattern[at + 2] === '\\' ? (pattern[at + 3] ?? '') : (pattern[at + 2] as string);
          at += pattern[at + 2] === '\\' ? 3 : 2;
        }
        ranges.push([low, high]);
      }
      if (!closed) throw new GlobSyntaxError(source, 'unclosed [');
      tokens.push({ kind: 'class', negated, ranges });
      index = at;
    } else {
      tokens.push({ kind: 'char', char });
    }
  }
  return tokens;
}

function matchesClass(token: Extract<Token, { kind: 'class' }>, char: string, separator: string): boolean {
  if (char === separator) return false;
  let inside = false;
  for (const [low, high] of token.ranges) {
    if (char >= low && char <= high) {
      inside = true;
      break;
    }
  }
  return inside !== token.negated;
}

/** Runs one alternative's automaton over `name`; `separator` is '' when there is none. */
function run(tokens: Token[], name: string, separator: string): boolean {
  const size = tokens.length + 1;
  let current = new Uint8Array(size);
  let next = new Uint8Array(size);
  const close = (states: Uint8Array) => {
    // A star may match nothing: reaching it also reaches the token after it.
    for (let state = 0; state < tokens.length; state++) {
      if (states[state] && tokens[state]?.kind === 'star') states[state + 1] = 1;
    }
  };
  current[0] = 1;
  close(current);
  for (const char of name) {
    next.fill(0);
    let alive = false;
    for (let state = 0; state < tokens.length; state++) {
      if (!current[state]) continue;
      const token = tokens[state] as Token;
      let advance = false;
      switch (token.kind) {
        case 'star':
          if (token.crossesSeparator || char !== separator) {
            next[state] = 1;
            alive = true;
          }
          break;
        case 'any':
          advance = char !== separator;
          break;
        case 'char':
          advance = token.char === char;
          break;
        case 'class':
          advance = matchesClass(token, char, separator);
          break;
      }
      if (advance) {
        next[state + 1] = 1;
        alive = true;
      }
    }
    if (!alive) return false;
    close(next);
    [current, next] = [next, current];
  }
  return current[tokens.length] === 1;
}

/** Which glob dialect `compileGlob` reads. */
export interface GlobOptions {
  /**
   * The character `*` and `?` do not match (`**` does): `'/'` for datarhei's file globs.
   * @default '' (none: `*` matches any run, as in datarhei's `idpattern`/`refpattern`)
   */
  separator?: string;
  /**
   * Also `[abc]`, `[!a-z]`, `{a,b}` and `\` escapes (gobwas/glob, datarhei's file globs); without,
   * only `*` and `?` are special and everything else matches itself.
   * @default false
   */
  extended?: boolean;
}

/**
 * Compiles a glob once; the returned function tests whole texts (`/dir/file.ts`, a process id).
 * Throws `GlobSyntaxError` for a malformed extended pattern.
 *
 * @example compileGlob('/live_*.ts', { separator: '/', extended: true })('/live_0001.ts') // true
 */
export function compileGlob(pattern: string, options: GlobOptions = {}): (text: string) => boolean {
  const separator = options.separator ?? '';
  const extended = options.extended ?? false;
  if (pattern.length > maxPatternLength) throw new GlobSyntaxError(pattern, 'pattern too long');
  const alternatives = (extended ? expandBraces(pattern, pattern) : [pattern]).map((alternative) =>
    tokenize(alternative, pattern, extended),
  );
  return (text) => alternatives.some((tokens) => run(tokens, text, separator));
}
