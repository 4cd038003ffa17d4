import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GlobSyntaxError } from './errors.js';
import { compileGlob, GlobAutomaton, globLimits } from './glob.js';

const compileFileGlob = (pattern: string) => compileGlob(pattern, { separator: '/', extended: true });

describe('compileGlob', () => {
  it.each([
    ['cam*', 'cam1', true],
    ['cam?', 'cam12', false],
    ['cam?', 'cam1', true],
    ['a.b', 'axb', false],
    ['a.b', 'a.b', true],
    ['*', '', true],
    ['', '', true],
    ['', 'x', false],
    ['*.m3u8', 'live/stream.m3u8', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'acb', false],
    ['*ab*ab*', 'xabyab', true],
    ['*ab*ab*', 'xaby', false],
    ['ab*ba', 'aba', false],
    ['?*?', 'a', false],
    ['[cam]', '[cam]', true],
    ['cam(1)', 'cam(1)', true],
  ])('matches %s against %s: %s', (glob, text, expected) => {
    expect(compileGlob(glob)(text)).toBe(expected);
  });

  it('answers a many-star pattern against a long reference without backtracking', () => {
    // `^.*a.*a.*a.*a.*a.*a.*a.*a.*b$` backtracks exponentially on this text; a thousand rounds
    // would never end within the test timeout. The assertion is on the answer only.
    const matches = compileGlob('*a*a*a*a*a*a*a*a*b');
    const reference = 'a'.repeat(1024);
    let found = 0;
    for (let round = 0; round < 1000; round++) if (matches(reference)) found++;
    expect(found).toBe(0);
    expect(matches(`${reference}b`)).toBe(true);
  });
});

describe("compileGlob with datarhei's file globs (extended, / as separator)", () => {
  const compileGlob = (pattern: string) => compileFileGlob(pattern);
  it('matches datarhei globs with / as separator', () => {
    const segments = compileGlob('/abc_*.ts');
    expect(segments('/abc_0001.ts')).toBe(true);
    expect(segments('/abc_0001.m3u8')).toBe(false);
    expect(segments('/dir/abc_0001.ts')).toBe(false);
    expect(compileGlob('/**.ts')('/dir/sub/x.ts')).toBe(true);
    expect(compileGlob('/*/x.ts')('/dir/sub/x.ts')).toBe(false);
    expect(compileGlob('/seg_?.ts')('/seg_1.ts')).toBe(true);
    expect(compileGlob('/seg_?.ts')('/seg_12.ts')).toBe(false);
    expect(compileGlob('/seg_[0-4].ts')('/seg_3.ts')).toBe(true);
    expect(compileGlob('/seg_[!0-4].ts')('/seg_3.ts')).toBe(false);
    expect(compileGlob('/p.{m3u8,ts}')('/p.ts')).toBe(true);
    expect(compileGlob('/p.{m3u8,ts}')('/p.mp4')).toBe(false);
    expect(compileGlob('/a\\*b')('/a*b')).toBe(true);
    expect(compileGlob('/a\\*b')('/axb')).toBe(false);
  });

  it('answers a many-star pattern against a long name in linear time', () => {
    // A backtracking matcher needs ~n^4 steps here; the automaton needs n × pattern.
    const matches = compileGlob('*a*a*a*a*a*a*b');
    expect(matches('a'.repeat(100_000))).toBe(false);
  });

  it('rejects malformed patterns with a typed error', () => {
    expect(() => compileGlob('/x[ab')).toThrow(GlobSyntaxError);
    expect(() => compileGlob('/x{a,b')).toThrow(GlobSyntaxError);
    expect(() => compileGlob('/x\\')).toThrow(GlobSyntaxError);
  });

  it('bounds pattern length, {…} alternatives and nesting', () => {
    expect(() => compileGlob(`/${'a'.repeat(globLimits.maxPatternLength)}`)).toThrow(/too long/);
    expect(() => compileGlob(`{${','.repeat(globLimits.maxAlternatives)}}`)).toThrow(/alternatives/);
    const deep = '{a,'.repeat(globLimits.maxBraceDepth + 1) + '}'.repeat(globLimits.maxBraceDepth + 1);
    expect(() => compileGlob(deep)).toThrow(/nested/);
    // Nine groups are 512 combinations, but one automaton: accepted, and matched as such.
    const nine = compileGlob('{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}');
    expect(nine('acegikmoq')).toBe(true);
    expect(nine('acegikmoz')).toBe(false);
  });

  it('matches nested alternatives, classes and stars inside braces', () => {
    expect(compileGlob('/{live/{a,b}_*.ts,archive/**}')('/live/b_01.ts')).toBe(true);
    expect(compileGlob('/{live/{a,b}_*.ts,archive/**}')('/live/c_01.ts')).toBe(false);
    expect(compileGlob('/{live/{a,b}_*.ts,archive/**}')('/archive/x/y.mp4')).toBe(true);
    expect(compileGlob('/{a,}x')('/x')).toBe(true);
    expect(compileGlob('/a,b}')('/a,b}')).toBe(true);
    expect(compileGlob('/[{]x')('/{x')).toBe(true);
    expect(compileGlob('/ü*.ts')('/über.ts')).toBe(true);
    expect(compileGlob('/?.ts')('/😀.ts')).toBe(true);
  });
});

describe('the cost of matching', () => {
  // 8 groups of `{*,?}` (256 alternatives), then `*a` up to 500 characters, against a 4,000-character
  // name: expanding the braces ran 256 automata of ~500 states over the name (≈10 s of a blocked
  // event loop; 21 s at 1,000 characters).
  const groups = '{*,?}'.repeat(8);
  const adversarial = `/${groups}${'*a'.repeat((500 - groups.length) / 2)}*b`;
  const name = `/${'a'.repeat(4000)}`;

  it('stays within text × pattern for the adversarial pair, and costs nothing more once its steps are known', () => {
    const automaton = new GlobAutomaton(adversarial, { separator: '/', extended: true });
    expect(automaton.matches(name)).toBe(false);
    const first = automaton.work;
    // Each character visits each state at most twice (its step, then the closure of the result).
    expect(first).toBeLessThanOrEqual(2 * name.length * adversarial.length);
    // Here the DFA meets one new state per star passed (~250), not one per character.
    expect(first).toBeLessThan(300 * 2 * adversarial.length);
    expect(automaton.matches(name)).toBe(false);
    expect(automaton.work).toBe(first);
    expect(automaton.matches(`${name}b`)).toBe(true);
  });

  it('stays within text × pattern when every character makes a new state', () => {
    // "The 300th character from the end is an a": 2^300 DFA states, one new per character here.
    const automaton = new GlobAutomaton(`/*a${'?'.repeat(300)}`, { separator: '/', extended: true });
    let seed = 7;
    const text = Array.from({ length: 4000 }, () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed >> 16) & 1 ? 'a' : 'b';
    }).join('');
    automaton.matches(`/${text}`);
    expect(automaton.work).toBeLessThanOrEqual(2 * 4001 * 304);
  });

  it('is linear in the text for a many-star pattern', () => {
    const automaton = new GlobAutomaton('*a*a*a*a*a*a*b');
    expect(automaton.matches('a'.repeat(100_000))).toBe(false);
    expect(automaton.work).toBeLessThan(200);
  });
});

/** The same dialect as a RegExp: fine for short texts, the reference the automaton must agree with. */
function referenceRegExp(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index] as string;
    if (char === '*') {
      const crosses = pattern[index + 1] === '*';
      if (crosses) index++;
      source += crosses ? '.*' : '[^/]*';
    } else if (char === '?') source += '[^/]';
    else if (char === '{') source += '(?:';
    else if (char === ',') source += '|';
    else if (char === '}') source += ')';
    else source += char.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

describe('agreement with a reference matcher', () => {
  it('answers as a RegExp translation for random patterns and names', () => {
    const atom = fc.constantFrom('a', 'b', '/', '*', '**', '?');
    const sequence = fc.array(atom, { maxLength: 6 }).map((atoms) => atoms.join(''));
    const pattern = fc
      .tuple(sequence, fc.array(sequence, { minLength: 1, maxLength: 3 }), sequence)
      .map(([head, alternatives, tail]) => `${head}{${alternatives.join(',')}}${tail}`);
    const text = fc.array(fc.constantFrom('a', 'b', '/'), { maxLength: 10 }).map((chars) => chars.join(''));
    fc.assert(
      fc.property(pattern, text, (glob, name) => {
        expect(compileFileGlob(glob)(name)).toBe(referenceRegExp(glob).test(name));
      }),
      { numRuns: 3000 },
    );
  });
});
