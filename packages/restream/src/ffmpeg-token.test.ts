import { describe, expect, it } from 'vitest';
import { dictionaryEntries, getToken, keyValues, unquote } from './ffmpeg-token.js';

// FFmpeg's rules (libavutil av_get_token and friends); what FFmpeg itself makes of these strings is
// checked against its debug log in ffmpeg-access.slow.test.ts.

describe('getToken', () => {
  it.each([
    ["'/pr''oc/self/environ'", '', '/proc/self/environ'],
    ['/pr\\oc/self/environ', '', '/proc/self/environ'],
    ["  'a b'  ", '', 'a b'],
    ['a b   ', '', 'a b'],
    ["'a '  ", '', 'a '],
    ['a\\ ', '', 'a '],
    ["'it''s'", '', 'its'],
    ["'unclosed", '', 'unclosed'],
    ['trailing\\', '', 'trailing\\'],
    ["a\\'b", '', "a'b"],
    ["'a\\b'", '', 'a\\b'],
    ['a:b', ':', 'a'],
    ["'a:b':c", ':', 'a:b'],
    ['a\\:b:c', ':', 'a:b'],
  ])('reads %s (terminators %j) as %s', (text, terminators, token) => {
    expect(getToken(text, 0, terminators).token).toBe(token);
  });

  it('stops on the terminator without consuming it', () => {
    expect(getToken('ab,cd', 0, ',')).toEqual({ token: 'ab', end: 2 });
    expect(getToken('ab,cd', 3, ',')).toEqual({ token: 'cd', end: 5 });
  });

  it('unquotes one level at a time', () => {
    // What a filter argument needs to survive the graph level: the quotes escaped once.
    const twice = "\\'/pr\\'\\'oc\\'";
    expect(unquote(twice)).toBe("'/pr''oc'");
    expect(unquote(unquote(twice))).toBe('/proc');
  });
});

describe('keyValues', () => {
  it('reads keyed and positional items as a filter does', () => {
    expect(keyValues('/proc/self/environ:f=u8')).toEqual([
      { key: undefined, value: '/proc/self/environ' },
      { key: 'f', value: 'u8' },
    ]);
    expect(keyValues("filename='a:b':si=0")).toEqual([
      { key: 'filename', value: 'a:b' },
      { key: 'si', value: '0' },
    ]);
    expect(keyValues(' key = value ')).toEqual([{ key: 'key', value: 'value' }]);
    expect(keyValues('/textfile=/etc/x')).toEqual([{ key: '/textfile', value: '/etc/x' }]);
    expect(keyValues('a b=c')).toEqual([{ key: undefined, value: 'a b=c' }]);
  });
});

describe('dictionaryEntries', () => {
  it('reads key=value pairs as tokens and stops where a pair cannot be read', () => {
    expect(dictionaryEntries("safe=0:allowed_extensions='a:b'")).toEqual([
      ['safe', '0'],
      ['allowed_extensions', 'a:b'],
    ]);
    // The key token runs to the next `=`, separators included, as in FFmpeg.
    expect(dictionaryEntries('a=1:broken:c=3')).toEqual([
      ['a', '1'],
      ['broken:c', '3'],
    ]);
    expect(dictionaryEntries('a=1:broken')).toEqual([['a', '1']]);
  });
});
