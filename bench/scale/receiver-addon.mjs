// Builds (when its sources changed) and loads the scale benchmark's receiver addon,
// bench/scale/build/scale-receiver.node: the benchmark's own, apart from @dragon/webrtc's addon,
// which is what the server ships and stays free of load-generator code. Compiled here with the C++
// compiler against the running Node's headers and the OpenSSL Node ships, as the package's
// native/build.mjs does; the benchmark needs it, so a missing compiler is an error here.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const nativeDir = join(here, 'native');
const buildDir = join(here, 'build');
const output = join(buildDir, 'scale-receiver.node');
const stampFile = join(buildDir, 'scale-receiver.stamp');

function nodeHeaders() {
  const candidates = [
    process.env.DRAGON_NODE_HEADERS,
    join(dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
  ].filter(Boolean);
  const found = candidates.find((dir) => existsSync(join(dir, 'node_api.h')));
  if (!found) throw new Error(`no Node headers (node_api.h) in ${candidates.join(', ')}`);
  return found;
}

/** Compiles the addon unless a build of the same sources exists; returns its path. */
export function buildReceiver() {
  const headers = nodeHeaders();
  const sources = readdirSync(nativeDir).sort();
  const args = [
    '-O2',
    '-std=c++17',
    '-fPIC',
    '-shared',
    '-pthread',
    '-fvisibility=hidden',
    '-Wall',
    '-Wextra',
    '-Wno-deprecated-declarations',
    `-I${headers}`,
    `-I${nativeDir}`,
    '-o',
    output,
    join(nativeDir, 'scale_receiver.cc'),
  ];
  const stamp = createHash('sha256').update(JSON.stringify(args)).update(process.version);
  for (const file of sources) stamp.update(file).update(readFileSync(join(nativeDir, file)));
  const digest = stamp.digest('hex');
  if (existsSync(output) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === digest)
    return output;
  mkdirSync(buildDir, { recursive: true });
  execFileSync(process.env.CXX || 'g++', args, { stdio: ['ignore', 'inherit', 'inherit'] });
  writeFileSync(stampFile, digest);
  return output;
}

/** The addon, built first if needed. */
export function loadReceiver() {
  return createRequire(import.meta.url)(buildReceiver());
}
