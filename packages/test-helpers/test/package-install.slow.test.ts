import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What a user of the published packages gets, for every package of packages/* that is not
// private — one added later is covered without a word here: each packed as for publishing
// (`pnpm pack`, which turns `workspace:^` into versions), all installed
// together into a fresh project outside the repository (an unpublished @dragon dependency comes
// from its tarball, as it would from the registry), and each entry point imported there. Installs
// take third-party dependencies from the local pnpm store (`--prefer-offline`). Needs `pnpm build`.
// Lifecycle scripts are off while packing: @dragon/webrtc's prepack/postpack add and remove its
// prebuild in the package folder, and its own install test, which may run at the same moment,
// packs it with them (and checks what the prebuild does).
const run = promisify(execFile);
const packagesDir = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'dragon-pack-'));
const project = join(work, 'project');

interface Manifest {
  name: string;
  private?: boolean;
  exports?: Record<string, unknown>;
}

const publishable = readdirSync(packagesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .flatMap((entry) => {
    const dir = join(packagesDir, entry.name);
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
      return manifest.private ? [] : [{ dir, manifest }];
    } catch {
      return []; // a folder without a package.json is no package
    }
  });

/** Every import specifier a package offers: its name, and `name/sub` for each subpath export. */
function specifiers({ name, exports }: Manifest): string[] {
  const keys = Object.keys(exports ?? { '.': {} }).filter((key) => !key.includes('*'));
  return keys.map((key) => (key === '.' ? name : `${name}/${key.slice(2)}`));
}

/** The environment of a child pnpm: this one's, without the outer pnpm's npm_config_* settings. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm|pnpm)_/i.test(key)));
}

/** The names `specifier` exports, as node sees them when imported from `cwd`. */
async function exportedNames(specifier: string, cwd: string): Promise<string[]> {
  const probe = `const m = await import(${JSON.stringify(specifier)}); process.stdout.write(JSON.stringify(Object.keys(m).sort()));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], {
    cwd,
    env: cleanEnv(),
    encoding: 'utf8',
  });
  return JSON.parse(stdout) as string[];
}

const tarballs = new Map<string, string>();

describe('every publishable package, packed and installed into a fresh project', () => {
  beforeAll(async () => {
    for (const { dir, manifest } of publishable) {
      const destination = join(work, manifest.name.replace('/', '+'));
      mkdirSync(destination);
      await run('pnpm', ['pack', '--pack-destination', destination], {
        cwd: dir,
        env: { ...cleanEnv(), npm_config_ignore_scripts: 'true' },
      });
      const [file] = readdirSync(destination).filter((name) => name.endsWith('.tgz'));
      if (!file) throw new Error(`pnpm pack made no tarball for ${manifest.name}`);
      tarballs.set(manifest.name, join(destination, file));
    }
    const fromTarballs = Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`]));
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'fresh-project',
        private: true,
        type: 'module',
        dependencies: fromTarballs,
      }),
    );
    const overrides = [...tarballs].map(([name, file]) => `  '${name}': 'file:${file}'\n`).join('');
    writeFileSync(join(project, 'pnpm-workspace.yaml'), `packages: []\noverrides:\n${overrides}`);
    await run('pnpm', ['install', '--prefer-offline'], { cwd: project, env: cleanEnv(), timeout: 240_000 });
  }, 300_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('finds the packages to pack', () => {
    expect(publishable.map(({ manifest }) => manifest.name)).toEqual(
      expect.arrayContaining(['@dragon/portalloc', '@dragon/webrtc', '@dragon/whep-http']),
    );
  });

  it.each(publishable.map(({ dir, manifest }) => [manifest.name, dir, manifest] as const))(
    '%s installs without workspace links and exports from its tarball what it exports in the repository',
    async (name, dir, manifest) => {
      const installed = readFileSync(join(project, 'node_modules', name, 'package.json'), 'utf8');
      expect(installed).not.toContain('workspace:');

      for (const specifier of specifiers(manifest)) {
        const fromTarball = await exportedNames(specifier, project);
        const fromRepository = await exportedNames(specifier, dir);

        expect(fromTarball.length, `${specifier} exports nothing`).toBeGreaterThan(0);
        expect(fromTarball, specifier).toEqual(fromRepository);
      }
    },
  );
});
