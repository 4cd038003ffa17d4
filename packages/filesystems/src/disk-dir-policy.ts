import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';

/**
 * Trees that belong to the system as a whole: a public directory may be none of them, nor inside one
 * (`/etc` serves `/shadow`, `/proc` the server's environment, `/run` Docker's secrets). `/var/run`
 * and, on merged-/usr systems, `/bin`, `/lib*` are links: their real paths are checked too.
 */
const systemTrees = [
  '/proc',
  '/sys',
  '/dev',
  '/etc',
  '/boot',
  '/run',
  '/var/run',
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
];

/**
 * Directories that hold other programs' or users' data: a public directory may not be one of them or
 * contain one, but may lie inside (`/var/lib/dragon/data`, `/root/dragon/data` are where a service
 * keeps its files). `/` and `/var` are refused because they contain these.
 */
const sharedRoots = ['/var/lib', '/var/log', '/var/backups', '/var/spool', '/root', '/home', '/tmp'];

/** Inside a system tree, yet made for files like these: RAM disks people put HLS segments on. */
const sharedMemory = ['/dev/shm', '/run/shm'];

/** Something a public directory must not contain, named for the message. */
export interface KeptPrivate {
  /** The config field or file it comes from: `db.dir`, `the config file`, `tls.key_file`. */
  name: string;
  path: string;
}

/**
 * The real path of `path` as the kernel would resolve it once it exists: the real path of its
 * deepest existing ancestor, with the rest appended (relative paths against the working directory).
 */
export function realPathOf(path: string): string {
  const rest: string[] = [];
  let current = resolve(path);
  for (;;) {
    try {
      return join(realpathSync.native(current), ...rest.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return resolve(path);
      rest.push(basename(current));
      current = parent;
    }
  }
}

function isWithin(path: string, directory: string): boolean {
  return path === directory || path.startsWith(directory === sep ? sep : `${directory}${sep}`);
}

/**
 * Why `directory` may not be published (the disk filesystem is served anonymously over HTTP, and
 * FFmpeg's output directories are written by any process config), or undefined when it may. Paths are
 * compared as the kernel resolves them, so a symbolic link to the data directory or to `/etc` is the
 * data directory or `/etc`.
 *
 * @param field the config field, for the message: `storage.disk.dir`
 * @param keep what the directory must not contain: the data directory, the config file, the TLS key
 */
export function unpublishableReason(
  field: string,
  directory: string,
  keep: readonly KeptPrivate[],
  home: string = homedir(),
): string | undefined {
  const real = realPathOf(directory);
  const shown = real === resolve(directory) ? directory : `${directory} (really ${real})`;
  const inSharedMemory = sharedMemory.some((tree) => {
    const shared = realPathOf(tree);
    return real !== shared && isWithin(real, shared);
  });
  for (const tree of inSharedMemory ? [] : systemTrees) {
    for (const form of new Set([tree, realPathOf(tree)])) {
      if (isWithin(real, form))
        return `${field}: ${shown} is in the system directory ${tree}, which must stay private`;
      if (isWithin(form, real))
        return `${field}: ${shown} contains the system directory ${tree}, which must stay private`;
    }
  }
  for (const { name, path } of keep) {
    const kept = realPathOf(path);
    if (isWithin(kept, real)) return `${field}: ${shown} contains ${name} (${path}), which must stay private`;
  }
  for (const root of [...sharedRoots, home]) {
    for (const form of new Set([root, realPathOf(root)])) {
      if (isWithin(form, real))
        return `${field}: ${shown} contains ${root}, which holds other programs' or users' files`;
    }
  }
  // A user's home (`/home/alice`) holds `.ssh` and the like; a directory inside it is fine.
  if (dirname(real) === realPathOf('/home')) return `${field}: ${shown} is a home directory`;
  return undefined;
}
