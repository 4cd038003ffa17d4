import { GlobSyntaxError } from './errors.js';

/**
 * Globs as datarhei reads them: `idpattern`/`refpattern` (`*` any run, `?` one character) and, with
 * `extended` and `/` as separator, its file globs (gobwas/glob: `*` any run without `/`, `**` any
 * run, `?` one character but `/`, `[abc]`, `[!a-z]`, `{a,b}` alternatives, `\` escapes).
 *
 * A pattern compiles to one automaton (`{a,b}` is a branch in it, never expanded into copies of the
 * pattern), which is run as a DFA built lazily from it: each (state, character) step is computed once
 * in O(pattern) and then cached, so a text costs O(text) once its steps are known and never more than
 * O(text × pattern). A backtracking matcher (a RegExp built from the glob) is exponential on
 * `*a*a*a*b`; expanding braces multiplied the pattern by its alternatives (a 1 KB pattern against a
 * 4,000-character name took 20 s).
 */

/** Bounds on what a client may hand in. */
export const globLimits = {
  /**
   * Characters in a pattern: enough for datarhei's cleanup globs with two 128-character ids
   * (`memfs:/{processid}_{outputid}_*.ts`). A step the DFA has not cached costs O(pattern), so this
   * bounds one 4,096-character name to a few million steps (tens of milliseconds).
   */
  maxPatternLength: 512,
  /** `{…}` alternatives in a pattern, all groups together. */
  maxAlternatives: 256,
  /** How deep `{…}` may nest. */
  maxBraceDepth: 16,
};

/** Cached DFA states per compiled glob; past it the cache starts over (memory stays bounded). */
const maxCachedStates = 4096;

enum Kind {
  Accept = 0,
  Char = 1,
  Any = 2,
  Class = 3,
  Star = 4,
  Split = 5,
}

/** One automaton state; consuming states (Char, Any, Class, Star) read one character. */
interface NfaState {
  kind: Kind;
  /** Where a consuming state goes after its character, or a Star's way out without one. */
  next: number;
  char?: number;
  negated?: boolean;
  ranges?: Array<[number, number]>;
  crossesSeparator?: boolean;
  /** Split: the alternatives' first states. */
  targets?: number[];
}

/** The pattern as a tree: a sequence of atoms, where an alternative holds sequences. */
type Atom =
  | { kind: Kind.Char; char: number }
  | { kind: Kind.Any }
  | { kind: Kind.Class; negated: boolean; ranges: Array<[number, number]> }
  | { kind: Kind.Star; crossesSeparator: boolean }
  | { kind: Kind.Split; alternatives: Atom[][] };

class Parser {
  #at = 0;
  #alternatives = 0;
  readonly #chars: string[];

  constructor(
    readonly pattern: string,
    readonly extended: boolean,
  ) {
    this.#chars = [...pattern];
  }

  parse(): Atom[] {
    const sequence = this.#sequence(0);
    // `}` and `,` outside braces are plain characters; anything left is a parser bug.
    if (this.#at < this.#chars.length) throw this.#error('unexpected character');
    return sequence;
  }

  #error(reason: string): GlobSyntaxError {
    return new GlobSyntaxError(this.pattern, reason);
  }

  #sequence(depth: number): Atom[] {
    const atoms: Atom[] = [];
    const chars = this.#chars;
    while (this.#at < chars.length) {
      const char = chars[this.#at] as string;
      if (!this.extended) {
        this.#at++;
        if (char === '*') pushStar(atoms, false);
        else if (char === '?') atoms.push({ kind: Kind.Any });
        else atoms.push({ kind: Kind.Char, char: char.codePointAt(0) as number });
        continue;
      }
      if (depth > 0 && (char === ',' || char === '}')) return atoms;
      this.#at++;
      if (char === '\\') {
        const escaped = chars[this.#at++];
        if (escaped === undefined) throw this.#error('trailing \\');
        atoms.push({ kind: Kind.Char, char: escaped.codePointAt(0) as number });
      } else if (char === '*') {
        const crossesSeparator = chars[this.#at] === '*';
        if (crossesSeparator) this.#at++;
        pushStar(atoms, crossesSeparator);
      } else if (char === '?') {
        atoms.push({ kind: Kind.Any });
      } else if (char === '[') {
        atoms.push(this.#class());
      } else if (char === '{') {
        atoms.push(this.#group(depth + 1));
      } else {
        atoms.push({ kind: Kind.Char, char: char.codePointAt(0) as number });
      }
    }
    return atoms;
  }

  #group(depth: number): Atom {
    if (depth > globLimits.maxBraceDepth) throw this.#error('{ nested too deep');
    const alternatives: Atom[][] = [];
    for (;;) {
      if (++this.#alternatives > globLimits.maxAlternatives) throw this.#error('too many alternatives');
      alternatives.push(this.#sequence(depth));
      const close = this.#chars[this.#at++];
      if (close === '}') return { kind: Kind.Split, alternatives };
      if (close !== ',') throw this.#error('unclosed {');
    }
  }

  #class(): Atom {
    const chars = this.#chars;
    let at = this.#at;
    const negated = chars[at] === '!' || chars[at] === '^';
    if (negated) at++;
    const ranges: Array<[number, number]> = [];
    for (; at < chars.length; at++) {
      let low = chars[at] as string;
      if (low === ']' && ranges.length > 0) {
        this.#at = at + 1;
        return { kind: Kind.Class, negated, ranges };
      }
      if (low === '\\') low = chars[++at] ?? '';
      let high = low;
      if (chars[at + 1] === '-' && chars[at + 2] !== undefined && chars[at + 2] !== ']') {
        high = chars[at + 2] === '\\' ? (chars[at + 3] ?? '') : (chars[at + 2] as string);
        at += chars[at + 2] === '\\' ? 3 : 2;
      }
      ranges.push([low.codePointAt(0) ?? 0, high.codePointAt(0) ?? 0]);
    }
    throw this.#error('unclosed [');
  }
}

/** Adjacent stars are one star (`**` wins): keeping one keeps the automaton small. */
function pushStar(atoms: Atom[], crossesSeparator: boolean): void {
  const previous = atoms.at(-1);
  if (previous?.kind === Kind.Star) previous.crossesSeparator ||= crossesSeparator;
  else atoms.push({ kind: Kind.Star, crossesSeparator });
}

/** Builds the automaton back to front: each atom's state leads to the state of what follows it. */
function build(sequence: Atom[]): NfaState[] {
  const states: NfaState[] = [{ kind: Kind.Accept, next: -1 }];
  const add = (state: NfaState) => states.push(state) - 1;
  const compile = (atoms: Atom[], next: number): number => {
    let start = next;
    for (let index = atoms.length - 1; index >= 0; index--) {
      const atom = atoms[index] as Atom;
      switch (atom.kind) {
        case Kind.Split:
          start = add({
            kind: Kind.Split,
            next: -1,
            targets: atom.alternatives.map((alternative) => compile(alternative, start)),
          });
          break;
        case Kind.Star:
          start = add({ kind: Kind.Star, next: start, crossesSeparator: atom.crossesSeparator });
          break;
        case Kind.Char:
          start = add({ kind: Kind.Char, next: start, char: atom.char });
          break;
        case Kind.Any:
          start = add({ kind: Kind.Any, next: start });
          break;
        case Kind.Class:
          start = add({ kind: Kind.Class, next: start, negated: atom.negated, ranges: atom.ranges });
          break;
      }
    }
    return start;
  };
  const start = compile(sequence, 0);
  // The start state goes first in the walk below; keep its index at hand.
  states.push({ kind: Kind.Split, next: -1, targets: [start] });
  return states;
}

interface DfaState {
  /** The automaton's consuming and accepting states, after every move that reads nothing. */
  members: Int32Array;
  accepting: boolean;
  /** Character (code point) → next state; `null` is the dead state (no match possible). */
  steps: Map<number, DfaState | null>;
}

/**
 * A compiled glob run as a lazily built DFA. `work` counts automaton states visited while building
 * steps — the cost measure the complexity tests assert on.
 */
export class GlobAutomaton {
  /** Automaton states visited so far (building steps); a cached step costs none. */
  work = 0;
  readonly #states: NfaState[];
  readonly #separator: number;
  /** DFA states by a hash of their members (collisions share a bucket). */
  readonly #cache = new Map<number, DfaState[]>();
  #cachedStates = 0;
  /** Reused by every closure: a walk's pending states and the members it finds. */
  readonly #pending: number[] = [];
  readonly #found: number[] = [];
  #start: DfaState;
  /** Per-walk marks, so a closure visits each state once. */
  readonly #marks: Uint32Array;
  #mark = 0;

  constructor(pattern: string, options: GlobOptions = {}) {
    if (pattern.length > globLimits.maxPatternLength) throw new GlobSyntaxError(pattern, 'pattern too long');
    this.#states = build(new Parser(pattern, options.extended ?? false).parse());
    this.#separator = options.separator ? (options.separator.codePointAt(0) as number) : -1;
    this.#marks = new Uint32Array(this.#states.length);
    this.#start = this.#stateOf(this.#closure([this.#states.length - 1]));
  }

  /** Whether the whole of `text` matches. */
  matches(text: string): boolean {
    let state: DfaState = this.#start;
    for (const char of text) {
      const code = char.codePointAt(0) as number;
      let next: DfaState | null | undefined = state.steps.get(code);
      if (next === undefined) {
        next = this.#step(state, code);
        // The cache may have started over while stepping; the old state's map is still valid.
        state.steps.set(code, next);
      }
      if (next === null) return false;
      state = next;
    }
    return state.accepting;
  }

  #step(state: DfaState, code: number): DfaState | null {
    const targets: number[] = [];
    const separator = code === this.#separator;
    for (const index of state.members) {
      this.work++;
      const nfa = this.#states[index] as NfaState;
      switch (nfa.kind) {
        case Kind.Star:
          if (nfa.crossesSeparator || !separator) targets.push(index);
          break;
        case Kind.Any:
          if (!separator) targets.push(nfa.next);
          break;
        case Kind.Char:
          if (nfa.char === code) targets.push(nfa.next);
          break;
        case Kind.Class:
          if (!separator && inClass(nfa, code)) targets.push(nfa.next);
          break;
      }
    }
    if (targets.length === 0) return null;
    return this.#stateOf(this.#closure(targets));
  }

  /** The consuming and accepting states reachable from `from` without reading, sorted. */
  #closure(from: number[]): Int32Array {
    if (++this.#mark === 0xffffffff) {
      this.#marks.fill(0);
      this.#mark = 1;
    }
    const mark = this.#mark;
    const members = this.#found;
    members.length = 0;
    const pending = this.#pending;
    pending.length = 0;
    for (const index of from) pending.push(index);
    while (pending.length > 0) {
      const index = pending.pop() as number;
      if (this.#marks[index] === mark) continue;
      this.#marks[index] = mark;
      this.work++;
      const nfa = this.#states[index] as NfaState;
      if (nfa.kind === Kind.Split) {
        for (const target of nfa.targets as number[]) pending.push(target);
        continue;
      }
      members.push(index);
      // A star may match nothing: reaching it also reaches what follows it.
      if (nfa.kind === Kind.Star) pending.push(nfa.next);
    }
    return Int32Array.from(members).sort();
  }

  #stateOf(members: Int32Array): DfaState {
    const key = hashOf(members);
    const bucket = this.#cache.get(key);
    const found = bucket?.find((state) => sameMembers(state.members, members));
    if (found) return found;
    if (this.#cachedStates >= maxCachedStates) {
      this.#cache.clear();
      this.#start.steps.clear();
      this.#cache.set(hashOf(this.#start.members), [this.#start]);
      this.#cachedStates = 1;
    }
    const state: DfaState = { members, accepting: members[0] === 0, steps: new Map() };
    const current = this.#cache.get(key);
    if (current) current.push(state);
    else this.#cache.set(key, [state]);
    this.#cachedStates++;
    return state;
  }
}

/** FNV-1a over the member indexes. */
function hashOf(members: Int32Array): number {
  let hash = 0x811c9dc5;
  for (const member of members) hash = Math.imul(hash ^ member, 0x01000193);
  return hash >>> 0;
}

function sameMembers(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

function inClass(state: NfaState, code: number): boolean {
  let inside = false;
  for (const [low, high] of state.ranges as Array<[number, number]>) {
    if (code >= low && code <= high) {
      inside = true;
      break;
    }
  }
  return inside !== state.negated;
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
 * Compiles a glob once; the returned function tests whole texts (`/dir/file.ts`, a process id) in
 * time linear in the text. Throws `GlobSyntaxError` for a malformed or oversized pattern (longer
 * than 512 characters, more than 256 `{…}` alternatives, braces nested deeper than 16).
 *
 * @example compileGlob('/live_*.ts', { separator: '/', extended: true })('/live_0001.ts') // true
 */
export function compileGlob(pattern: string, options: GlobOptions = {}): (text: string) => boolean {
  const automaton = new GlobAutomaton(pattern, options);
  return (text) => automaton.matches(text);
}
