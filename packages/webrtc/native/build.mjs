// Builds the native half of the fan-out, dist/dragon-fanout.node, with the C++ compiler against the
// running Node's own headers: N-API and the OpenSSL Node ships (its symbols resolve in the Node
// binary at load time). No node-gyp, no Python, no download.
//
// Without a compiler or headers the build says so and succeeds: the package then runs its
// JavaScript data plane (see src/fanout/native-addon.ts). A compiler error is a bug and fails.
// `scripts/bootstrap.sh` provides both on a fresh machine.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(packageDir, 'native');
// Every translation unit of the addon (see the comment at the top of each for its job).
const sources = readdirSync(nativeDir)
  .filter((file) => file.endsWith('.cc'))
  .sort()
  .map((file) => join(nativeDir, file));
const output = join(packageDir, 'dist', 'dragon-fanout.node');

const headerCandidates = [
  process.env.DRAGON_NODE_HEADERS,
  join(dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  '/usr/include/nodejs',
].filter((dir) => dir !== undefined && dir !== '');
const headers = headerCandidates.find(
  (dir) => existsSync(join(dir, 'node_api.h')) && existsSync(join(dir, 'openssl', 'evp.h')),
);
const compiler = process.env.CXX || 'g++';

function skip(reason) {
  console.warn(
    `@dragon/webrtc: native fan-out not built (${reason}); the JavaScript data plane will be used. ` +
      'Run scripts/bootstrap.sh (or install a C++ compiler) and build again for the native one.',
  );
  process.exit(0);
}

if (process.platform !== 'linux') skip(`sendmmsg(2) is Linux-only, this is ${process.platform}`);
if (!headers) skip(`no Node headers with OpenSSL in ${headerCandidates.join(', ')}`);
if (spawnSync(compiler, ['--version'], { stdio: 'ignore' }).status !== 0)
  skip(`no C++ compiler "${compiler}"`);

mkdirSync(dirname(output), { recursive: true });
const args = [
  '-O2',
  '-std=c++17',
  '-fPIC',
  '-shared',
  '-fvisibility=hidden',
  '-Wall',
  '-Wextra',
  '-Werror',
  // SHA1_Init & co. are deprecated in OpenSSL 3 but are the allocation-free way to reuse HMAC pads.
  '-Wno-deprecated-declarations',
  `-I${headers}`,
  `-I${nativeDir}`,
  '-o',
  output,
  ...sources,
];
const result = spawnSync(compiler, args, { stdio: 'inherit' });
if (result.status !== 0) {
  console.error(`@dragon/webrtc: ${compiler} failed to build ${output}`);
  process.exit(1);
}
