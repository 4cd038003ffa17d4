import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

declare const nativeHandle: unique symbol;
/** An SRTP stream (one viewer's track) held by the addon. */
export type NativeStream = { readonly [nativeHandle]: 'stream' };
/** The streams a source's packets go to: queued, then sent with one sendmmsg(2) per socket. */
export type NativeGroup = { readonly [nativeHandle]: 'group' };

/**
 * What native/dragon_fanout.cc exports. Every function checks its arguments before reading them: a
 * stream or group of the wrong kind, a non-integer number (NaN, ±Infinity, a fraction) or a value
 * of the wrong type throws a TypeError, an integer out of range a RangeError.
 */
export interface NativeAddon {
  createStream(
    profile: number,
    key: Buffer,
    salt: Buffer,
    authKey: Buffer | null,
    ssrc: number,
    payloadType: number,
  ): NativeStream;
  setTarget(stream: NativeStream, fd: number, host: string, port: number, family: 4 | 6): void;
  setCounters(stream: NativeStream, counters: Float64Array, index: number): void;
  createGroup(): NativeGroup;
  groupAdd(group: NativeGroup, stream: NativeStream): void;
  groupRemove(group: NativeGroup, stream: NativeStream): void;
  /** Queues `buffer[0, length)` (copied) for the next flush. */
  groupEnqueue(group: NativeGroup, buffer: Buffer, length: number, ext: number): void;
  /** Sends what was queued to every stream; returns the datagrams handed to the kernel. */
  groupFlush(group: NativeGroup): number;
  send(stream: NativeStream, packet: Buffer, ext: number): number;
  protect(stream: NativeStream, packet: Buffer, ext: number): Buffer | undefined;
  /** The stream's rollover counter counts from `ext`'s block, as if `ext` had been its first packet. */
  indexBase(stream: NativeStream, ext: number): void;
  /** The stream's output space from its next packet on (`OutputStream.setOffsets`). */
  setOffsets(stream: NativeStream, seqOffset: number, tsOffset: number): void;
  /** A short scheduler time slice (ns) for the calling thread; false where the kernel refused it. */
  shortenSlice(nanoseconds: number): boolean;
  /** Moves a thread of this process (kernel id) to SCHED_IDLE; false where the kernel refused it. */
  idleThread(tid: number): boolean;
  dup(fd: number): number;
  close(fd: number): void;
}

const fileName = 'dragon-fanout.node';

/** The addon, where it came from; or why the native data plane is not available. */
export type LoadedAddon =
  | { addon: NativeAddon; path: string; origin: 'built' | 'prebuilt'; reason: string }
  | { error: string };

/**
 * The package's directory: two levels up from src/fanout/ (tests), one from dist/ (bundled, this
 * module is in a chunk of dist/ beside index.js and fanout-worker.js).
 */
function packageDir(): string | undefined {
  return ['../../', '../']
    .map((path) => fileURLToPath(new URL(path, import.meta.url)))
    .find((dir) => existsSync(join(dir, 'native', 'build.mjs')));
}

/** As native/prebuild-tag.mjs names the prebuild directories: `linux-x64-glibc`. */
function prebuildTag(): string {
  if (process.platform !== 'linux') return `${process.platform}-${process.arch}`;
  // Without its network part (Node ≥ 22: `excludeNetwork`), the report takes milliseconds.
  const report = process.report as typeof process.report & { excludeNetwork: boolean };
  const excludeNetwork = report.excludeNetwork;
  report.excludeNetwork = true;
  try {
    const { header } = report.getReport() as { header?: { glibcVersionRuntime?: string } };
    return `${process.platform}-${process.arch}-${header?.glibcVersionRuntime ? 'glibc' : 'musl'}`;
  } finally {
    report.excludeNetwork = excludeNetwork;
  }
}

/** What native/build.mjs recorded at install or build, if it ran. */
function buildRecord(dir: string): { result?: string; reason?: string } | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'build', 'dragon-fanout.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Why there is no build of this machine's; undefined when the install chose the prebuild. */
function notBuiltReason(record: { result?: string; reason?: string } | undefined): string | undefined {
  if (!record) {
    return (
      'not built on this machine: the package’s install script did not run (pnpm runs it only for ' +
      'packages allowed in onlyBuiltDependencies; npm skips it with --ignore-scripts)'
    );
  }
  return record.result === 'prebuilt' ? undefined : `not built on this machine: ${record.reason}`;
}

function load(path: string): NativeAddon | string {
  try {
    return createRequire(import.meta.url)(path) as NativeAddon;
  } catch (error) {
    return (error as Error).message;
  }
}

let loaded: LoadedAddon | undefined;

/**
 * The native fan-out, or why it is not available: the addon built on this machine (at install, or
 * by the package's build: build/dragon-fanout.node), else the prebuild shipped for this platform
 * (prebuilds/<platform>-<arch>-<libc>/), else neither, with the reasons.
 */
export function loadNativeAddon(): LoadedAddon {
  if (loaded) return loaded;
  const dir = packageDir();
  if (!dir) {
    loaded = { error: `the package has no native/ directory beside ${fileURLToPath(import.meta.url)}` };
    return loaded;
  }
  const built = join(dir, 'build', fileName);
  const record = buildRecord(dir);
  let why: string | undefined;
  if (existsSync(built)) {
    const addon = load(built);
    if (typeof addon !== 'string') {
      loaded = { addon, path: built, origin: 'built', reason: 'built on this machine' };
      return loaded;
    }
    why = `the build of this machine did not load: ${addon}`;
  } else {
    why = notBuiltReason(record);
  }
  const tag = prebuildTag();
  const prebuild = join(dir, 'prebuilds', tag, fileName);
  if (!existsSync(prebuild)) {
    loaded = { error: `${why ?? 'not built on this machine'}; and no prebuild for ${tag}` };
    return loaded;
  }
  const addon = load(prebuild);
  loaded =
    typeof addon === 'string'
      ? { error: `${why ?? 'not built on this machine'}; and the prebuild for ${tag} did not load: ${addon}` }
      : {
          addon,
          path: prebuild,
          origin: 'prebuilt',
          // A build that failed is worth saying; an install script that did not run is the usual case.
          reason: `the prebuild for ${tag}${why && record ? ` (${why})` : ''}`,
        };
  return loaded;
}
