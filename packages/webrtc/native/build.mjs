// Builds the native half of the fan-out, build/dragon-fanout.node, with the C++ compiler against
// Node's headers: N-API and the OpenSSL Node ships (its symbols resolve in the Node binary at load
// time). No node-gyp, no Python, no download: the headers are looked for where Node's own
// distribution, npm (--nodedir), node-gyp's cache or the system put them.
//
//   node native/build.mjs            the package's build (`pnpm build` in the repository): a
//                                    compiler error is a bug and fails it
//   node native/build.mjs --install  the package's install script (npm/pnpm install of
//                                    @dragon/webrtc): a prebuild for this platform that loads is
//                                    used as it is (npm_config_build_from_source=true compiles
//                                    anyway); else it compiles; it never fails the install
//
// Without a compiler or headers it says so and succeeds: the package then runs its JavaScript data
// plane. Either way build/dragon-fanout.json records what happened and why, and the package says
// so when it starts (src/fanout/native-addon.ts). `scripts/bootstrap.sh` provides a compiler and
// the headers on a fresh machine.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prebuildTag } from './prebuild-tag.mjs';

const installing = process.argv.includes('--install');
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(packageDir, 'native');
const buildDir = join(packageDir, 'build');
const output = join(buildDir, 'dragon-fanout.node');
const statusFile = join(buildDir, 'dragon-fanout.json');
const tag = prebuildTag();
const prebuild = join(packageDir, 'prebuilds', tag, 'dragon-fanout.node');

/** Records the outcome for the loader and ends the script. */
function finish(status, exitCode = 0) {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(statusFile, `${JSON.stringify({ ...status, node: process.version, tag }, null, 2)}\n`);
  process.exit(exitCode);
}

function skip(reason) {
  rmSync(output, { force: true });
  console.warn(
    `@dragon/webrtc: native data plane not built (${reason}); the JavaScript one will be used` +
      (existsSync(prebuild) ? ` unless the prebuild for ${tag} loads` : '') +
      '. Install a C++ compiler (g++) and build again for the native one.',
  );
  finish({ result: 'not-built', reason });
}

if (installing && process.env.npm_config_build_from_source !== 'true' && existsSync(prebuild)) {
  try {
    createRequire(import.meta.url)(prebuild);
    rmSync(output, { force: true });
    finish({ result: 'prebuilt', reason: `the prebuild for ${tag} loads` });
  } catch (error) {
    console.warn(`@dragon/webrtc: the prebuild for ${tag} does not load here (${error.message}); compiling`);
  }
}

if (process.platform !== 'linux') skip(`sendmmsg(2) is Linux-only, this is ${process.platform}`);

const version = process.version.slice(1);
const cacheDir = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
// The running Node's own first (pnpm sets npm_config_nodedir to /usr whatever Node runs).
const headerCandidates = [
  process.env.DRAGON_NODE_HEADERS,
  join(dirname(process.execPath), '..', 'include', 'node'),
  process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
  process.env.npm_config_devdir && join(process.env.npm_config_devdir, version, 'include', 'node'),
  join(cacheDir, 'node-gyp', version, 'include', 'node'),
  '/usr/include/node',
  '/usr/include/nodejs',
].filter((dir) => typeof dir === 'string' && dir !== '');
const withNodeApi = headerCandidates.filter((dir) => existsSync(join(dir, 'node_api.h')));
// Node's distribution ships OpenSSL's headers beside its own; a system Node may rely on the
// system's (libssl-dev), which the compiler finds by itself.
const headers =
  withNodeApi.find((dir) => existsSync(join(dir, 'openssl', 'evp.h'))) ??
  (existsSync('/usr/include/openssl/evp.h') ? withNodeApi[0] : undefined);
if (!headers) {
  skip(
    withNodeApi.length === 0
      ? `no Node headers (node_api.h) in ${headerCandidates.join(', ')}`
      : `no OpenSSL headers beside ${withNodeApi[0]} nor in /usr/include/openssl`,
  );
}
const compiler = process.env.CXX || 'g++';
const probe = spawnSync(compiler, ['--version'], { encoding: 'utf8' });
if (probe.status !== 0) skip(`no C++ compiler ("${compiler}" --version failed)`);

const sources = readdirSync(nativeDir)
  .filter((file) => file.endsWith('.cc'))
  .sort()
  .map((file) => join(nativeDir, file));
const args = [
  '-O2',
  '-std=c++17',
  '-fPIC',
  '-shared',
  '-fvisibility=hidden',
  '-Wall',
  '-Wextra',
  // Warnings fail the package's own build; a user's compiler may know warnings ours does not.
  ...(installing ? [] : ['-Werror']),
  // SHA1_Init & co. are deprecated in OpenSSL 3 but are the allocation-free way to reuse HMAC pads.
  '-Wno-deprecated-declarations',
  `-I${headers}`,
  `-I${nativeDir}`,
  '-o',
  output,
  ...sources,
];

// What the output depends on: unchanged since the last build, it is not built again (the install
// script and the package's build run one after the other in the repository).
const stamp = createHash('sha256');
for (const file of readdirSync(nativeDir).sort())
  stamp.update(file).update(readFileSync(join(nativeDir, file)));
// -Werror changes no output: the install's build counts for the package's build.
stamp
  .update(JSON.stringify(args.filter((arg) => arg !== '-Werror')))
  .update(probe.stdout.split('\n')[0] ?? '');
const digest = stamp.digest('hex');
try {
  const previous = JSON.parse(readFileSync(statusFile, 'utf8'));
  if (previous.result === 'compiled' && previous.stamp === digest && existsSync(output)) process.exit(0);
} catch {
  // no previous build
}

mkdirSync(buildDir, { recursive: true });
const result = spawnSync(compiler, args, { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
process.stderr.write(result.stderr ?? '');
if (result.status !== 0) {
  const reason = `${compiler} failed: ${(result.stderr ?? '').trim().split('\n').slice(0, 3).join(' / ')}`;
  if (!installing) {
    console.error(`@dragon/webrtc: ${reason}`);
    finish({ result: 'not-built', reason }, 1);
  }
  skip(reason);
}
finish({ result: 'compiled', reason: `compiled here with ${compiler} against ${headers}`, stamp: digest });
