import { describe, expect, it } from 'vitest';
import { GlobSyntaxError } from './errors.js';
import { compileGlob } from './glob.js';

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
    expect(() => compileGlob('{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}')).toThrow(GlobSyntaxError);
  });
});
