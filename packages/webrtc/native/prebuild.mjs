// The package's prepack and postpack steps. Before packing, the addon this machine built
// (build/dragon-fanout.node, by `pnpm build`) becomes the prebuild for this platform, so that a user
// on the same platform gets the native data plane without a compiler; after packing it is removed
// again, so that the repository's install never takes a prebuild left from an older pack for its own
// build. Prebuilds of other platforms put in prebuilds/ are left alone (and packed).
//   node native/prebuild.mjs           before packing
//   node native/prebuild.mjs --clean   after packing
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prebuildTag } from './prebuild-tag.mjs';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(packageDir, 'build', 'dragon-fanout.node');
const statusFile = join(packageDir, 'build', 'dragon-fanout.json');
const target = join(packageDir, 'prebuilds', prebuildTag(), 'dragon-fanout.node');

if (process.argv.includes('--clean')) {
  rmSync(target, { force: true });
  for (const dir of [dirname(target), dirname(dirname(target))]) {
    if (existsSync(dir) && readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
  }
  process.exit(0);
}
const compiled = existsSync(statusFile) && JSON.parse(readFileSync(statusFile, 'utf8')).result === 'compiled';
if (!compiled || !existsSync(built)) {
  console.warn(
    '@dragon/webrtc: no addon built here (pnpm build): the package has no prebuild for this platform',
  );
  process.exit(0);
}
mkdirSync(dirname(target), { recursive: true });
copyFileSync(built, target);
console.log(`@dragon/webrtc: prebuild ${target.slice(packageDir.length + 1)}`);
