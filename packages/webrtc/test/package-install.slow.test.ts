import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../src/fanout/native-addon.js';

// What a user of the published package gets: the package packed as for publishing (`pnpm pack`
// runs its prepack step, which adds this machine's build as the prebuild for its platform),
// installed into a fresh project outside the repository, imported there. Installs take the
// dependencies (werift, zod) from the local pnpm store (`--prefer-offline`); only their metadata
// may come from the registry. Needs `pnpm build` first, like every test of the native plane.
const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'dragon-webrtc-install-'));
let tarball = '';
/** `@dragon/portalloc`, packed too: the fresh project cannot take it from a registry. */
let portallocTarball = '';
let withoutPrebuild = '';
let tag = '';

/** The environment of a child pnpm: this one's, without the outer pnpm's npm_config_* settings. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(npm|pnpm)_/i.test(key) && key !== 'CXX'),
  );
  return { ...env, ...extra };
}

/**
 * A fresh project depending on `archive`; `allowBuild` lets pnpm run the package's install script
 * (pnpm 10 runs a dependency's only when allowed: by name for the registry's, by name and spec for
 * a tarball's). Returns what the package says of its data plane once imported.
 */
async function installAndOpen(
  name: string,
  archive: string,
  { allowBuild, env = {} }: { allowBuild: boolean; env?: Record<string, string> },
): Promise<{ engine: string; reason: string; installLog: string }> {
  const project = join(work, name);
  mkdirSync(project);
  // Relative, as pnpm names a tarball dependency (`@dragon/webrtc@file:../x.tgz`) when it matches
  // onlyBuiltDependencies.
  const spec = `file:${relative(project, archive)}`;
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({
      name,
      private: true,
      type: 'module',
      dependencies: { '@dragon/webrtc': spec },
      pnpm: { overrides: { '@dragon/portalloc': `file:${portallocTarball}` } },
    }),
  );
  writeFileSync(
    join(project, 'pnpm-workspace.yaml'),
    allowBuild ? `onlyBuiltDependencies:\n  - '@dragon/webrtc@${spec}'\n` : 'packages: []\n',
  );
  const install = await run('pnpm', ['install', '--prefer-offline'], {
    cwd: project,
    env: cleanEnv(env),
    encoding: 'utf8',
    timeout: 150_000,
  });
  const probe = `
    import { FanoutPlane } from '@dragon/webrtc';
    const plane = FanoutPlane.open({ shards: 0 });
    process.stdout.write(JSON.stringify({ engine: plane.engine, reason: plane.engineReason }));
    await plane.close();
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], {
    cwd: project,
    env: cleanEnv(),
    encoding: 'utf8',
  });
  return { ...JSON.parse(stdout), installLog: install.stdout + install.stderr };
}

describe('@dragon/webrtc installed from its tarball into a fresh project', () => {
  beforeAll(async () => {
    const loaded = loadNativeAddon();
    if ('error' in loaded) throw new Error(`build the package first: ${loaded.error}`);
    await run('pnpm', ['pack', '--pack-destination', work], { cwd: packageDir, env: cleanEnv() });
    tarball = join(work, readdirSync(work).find((file) => file.endsWith('.tgz'))!);
    const deps = join(work, 'deps');
    mkdirSync(deps);
    await run('pnpm', ['pack', '--pack-destination', deps], {
      cwd: join(packageDir, '..', 'portalloc'),
      env: cleanEnv(),
    });
    portallocTarball = join(deps, readdirSync(deps)[0]!);
    // The same package for a platform without a prebuild: the tarball with prebuilds/ taken out.
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    await run('tar', ['-xzf', tarball, '-C', unpacked]);
    tag = readdirSync(join(unpacked, 'package', 'prebuilds'))[0] ?? '';
    rmSync(join(unpacked, 'package', 'prebuilds'), { recursive: true });
    withoutPrebuild = join(work, 'without-prebuild.tgz');
    await run('tar', ['-czf', withoutPrebuild, '-C', unpacked, 'package']);
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('ships the native sources, their build script and this platform’s prebuild, and no build of the packer’s', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball], { encoding: 'utf8' });
    const files = stdout.split('\n').filter(Boolean);

    expect(files).toEqual(
      expect.arrayContaining([
        'package/native/build.mjs',
        'package/native/dragon_fanout.cc',
        'package/native/send_path.cc',
        'package/native/srtp.h',
        `package/prebuilds/${tag}/dragon-fanout.node`,
      ]),
    );
    expect(tag).not.toBe('');
    expect(files.filter((file) => file.endsWith('.node'))).toEqual([
      `package/prebuilds/${tag}/dragon-fanout.node`,
    ]);
    expect(files.some((file) => file.startsWith('package/build/'))).toBe(false);
  });

  it('runs native from the prebuild where install scripts do not run (pnpm’s default)', async () => {
    const outcome = await installAndOpen('default-install', tarball, { allowBuild: false });

    expect(outcome.engine).toBe('native');
    expect(outcome.reason).toBe(`the prebuild for ${tag}`);
  });

  it('runs native, compiled at install, when asked to build from source', async () => {
    const outcome = await installAndOpen('from-source', tarball, {
      allowBuild: true,
      env: { npm_config_build_from_source: 'true' },
    });

    expect(outcome.engine).toBe('native');
    expect(outcome.reason).toBe('built on this machine');
  });

  it('runs JavaScript without a compiler or a prebuild, and says both', async () => {
    const outcome = await installAndOpen('no-compiler', withoutPrebuild, {
      allowBuild: true,
      env: { CXX: '/bin/false' },
    });

    expect(outcome.engine).toBe('js');
    expect(outcome.reason).toBe(
      `not built on this machine: no C++ compiler ("/bin/false" --version failed); and no prebuild for ${tag}`,
    );
    // The install itself succeeds and says what it could not do.
    expect(outcome.installLog).not.toMatch(/ERR_PNPM/);
  });
});
