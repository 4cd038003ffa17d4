import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parentDeathSetpriv, spawnFFmpeg } from './ffmpeg-spawn.js';

const dir = mkdtempSync(join(tmpdir(), 'dragon-spawn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function exitCode(binary: string, path: string): Promise<number | null> {
  const child = spawnFFmpeg(binary, [], { stdio: 'ignore', env: { PATH: path }, cwd: dir });
  return new Promise((resolve) => child.once('close', (code) => resolve(code)));
}

describe('spawnFFmpeg', () => {
  it('finds setpriv with --pdeathsig on this Linux', () => {
    expect(parentDeathSetpriv()).toMatch(/\/setpriv$/);
  });

  it('runs a binary found on the given PATH or by its path, relative to cwd', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'fake-ffmpeg'), '#!/bin/sh\nexit 7\n', { mode: 0o755 });
    expect(await exitCode('fake-ffmpeg', `/nonexistent:${bin}`)).toBe(7);
    expect(await exitCode('./bin/fake-ffmpeg', '')).toBe(7);
  });

  it("throws spawn's own ENOENT and EACCES errors for what cannot run", () => {
    writeFileSync(join(dir, 'not-executable'), '#!/bin/sh\n', { mode: 0o644 });
    const options = { stdio: 'ignore' as const, env: { PATH: dir }, cwd: dir };
    expect(() => spawnFFmpeg('no-such-ffmpeg', [], options)).toThrow(
      expect.objectContaining({ code: 'ENOENT', message: 'spawn no-such-ffmpeg ENOENT' }),
    );
    expect(() => spawnFFmpeg('not-executable', [], options)).toThrow(
      expect.objectContaining({ code: 'EACCES' }),
    );
    expect(() => spawnFFmpeg(dir, [], options)).toThrow(expect.objectContaining({ code: 'EACCES' }));
  });
});
