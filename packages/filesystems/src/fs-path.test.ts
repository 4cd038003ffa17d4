import { describe, expect, it } from 'vitest';
import { FsPathInvalidError } from './errors.js';
import { fsPathFromUrl, normalizeFsPath } from './fs-path.js';

describe('normalizeFsPath', () => {
  it('roots and normalises names', () => {
    expect(normalizeFsPath('a/b.ts')).toBe('/a/b.ts');
    expect(normalizeFsPath('/a/./b/../c.ts')).toBe('/a/c.ts');
    expect(normalizeFsPath('/a//b/')).toBe('/a/b');
    expect(normalizeFsPath('/')).toBe('/');
  });

  it('refuses names that climb out of the root, NUL bytes and bad escapes', () => {
    for (const raw of ['/../etc/passwd', '../x', '/a/../../x', 'a\0b', '']) {
      expect(() => normalizeFsPath(raw)).toThrow(FsPathInvalidError);
    }
    expect(() => fsPathFromUrl('/%2e%2e/etc/passwd')).toThrow(FsPathInvalidError);
    expect(() => fsPathFromUrl('/%E0%A4%A')).toThrow(FsPathInvalidError);
    expect(fsPathFromUrl('/my%20file.ts')).toBe('/my file.ts');
  });
});
