import { describe, expect, it } from 'vitest';
import { compileGlob, GlobSyntaxError } from './glob.js';

describe('compileGlob', () => {
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
