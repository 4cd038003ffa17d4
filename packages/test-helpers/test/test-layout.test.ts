import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

// One convention for where tests live, in every package: unit tests beside the code they test
// (`src/x.test.ts`), integration and slow tests (real FFmpeg, Chromium, the built server) in
// `test/`. A reader finds a module's unit test next to it, and `src/` holds nothing slow.
const root = fileURLToPath(new URL('../../..', import.meta.url));
const skipped = new Set(['node_modules', 'dist', 'build', 'prebuilds', '.turbo']);

/**
 * Left where they are while their folder moves into a package of its own; the move puts them
 * in that package's `test/`.
 */
const moving = new Set(['apps/core/src/fs/hls/master-playlist.slow.test.ts']);

/** The packages of the workspace: packages/*, apps/* and the reliability suite. */
function packageDirs(): string[] {
  const inFolder = (folder: string) =>
    readdirSync(join(root, folder), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(folder, entry.name));
  return [...inFolder('packages'), ...inFolder('apps'), 'reliability'];
}

/** Test files under `dir`, relative to the repository root. */
function testFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    if (skipped.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...testFiles(path));
    else if (/\.test\.[cm]?[jt]s$/.test(entry.name)) found.push(path);
  }
  return found;
}

const files = packageDirs().flatMap((dir) => testFiles(dir).map((file) => ({ dir, file })));

it('finds the tests of every package', () => {
  const withTests = new Set(files.map(({ dir }) => dir));
  expect([...withTests]).toEqual(
    expect.arrayContaining(['packages/restream', 'packages/webrtc', 'apps/core', 'reliability']),
  );
});

it('keeps every test in its package’s src/ or test/', () => {
  const elsewhere = files
    .filter(({ dir, file }) => !/^(src|test)\//.test(relative(dir, file)))
    .map(({ file }) => file);
  expect(elsewhere).toEqual([]);
});

it('keeps slow tests out of src/: they are integration tests and live in test/', () => {
  const slowInSrc = files
    .filter(({ dir, file }) => /\.slow\.test\./.test(file) && relative(dir, file).startsWith('src/'))
    .map(({ file }) => file)
    .filter((file) => !moving.has(file));
  expect(slowInSrc).toEqual([]);
});
