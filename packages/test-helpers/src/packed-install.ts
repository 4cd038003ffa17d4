import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** This environment without the outer pnpm's `npm_config_*` settings, which would steer a child pnpm. */
function childEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm|pnpm)_/i.test(key)));
}

/**
 * What a user of the published packages gets: each package directory packed as for publishing
 * (`pnpm pack`, so `workspace:` ranges become versions), installed from its tarball into a fresh
 * project outside the repository, and `script` (an ES module) run there; resolves with its stdout.
 * The packed packages depend on each other through their tarballs; other dependencies come from the local pnpm store where it has them (`--prefer-offline`). The packages
 * must be built first.
 */
export async function runInstalledPackages(packageDirs: string[], script: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'dragon-packed-'));
  try {
    const tarballs = join(work, 'tarballs');
    const project = join(work, 'project');
    mkdirSync(tarballs);
    mkdirSync(project);
    const dependencies: Record<string, string> = {};
    for (const dir of packageDirs) {
      const before = new Set(readdirSync(tarballs));
      await run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir, env: childEnv() });
      const tarball = readdirSync(tarballs).find((file) => !before.has(file));
      const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string };
      if (!tarball) throw new Error(`pnpm pack wrote no tarball for ${name}`);
      dependencies[name] = `file:../tarballs/${tarball}`;
    }
    writeFileSync(
      join(project, 'package.json'),
      // Overrides too: a packed package's own dependency on another packed one (`^0.1.0` after
      // packing) resolves to that tarball, not to a registry that has no such package.
      JSON.stringify({
        name: 'packed-install',
        private: true,
        type: 'module',
        dependencies,
        pnpm: { overrides: dependencies },
      }),
    );
    writeFileSync(join(project, 'pnpm-workspace.yaml'), 'packages: []\n');
    await run('pnpm', ['install', '--prefer-offline'], { cwd: project, env: childEnv(), timeout: 150_000 });
    writeFileSync(join(project, 'script.mjs'), script);
    const { stdout } = await run(process.execPath, ['script.mjs'], { cwd: project, env: childEnv() });
    return stdout;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
