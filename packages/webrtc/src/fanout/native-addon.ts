import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
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
  /** A short scheduler time slice (ns) for the calling thread; false where the kernel refused it. */
  shortenSlice(nanoseconds: number): boolean;
  /** Moves a thread of this process (kernel id) to SCHED_IDLE; false where the kernel refused it. */
  idleThread(tid: number): boolean;
  dup(fd: number): number;
  close(fd: number): void;
}

const fileName = 'dragon-fanout.node';
// Bundled, this module is dist/index.js (or dist/fanout-worker.js) beside the addon; run from
// src/ (tests), the addon is in the package's dist/.
const candidates = [`./${fileName}`, `../../dist/${fileName}`].map((path) =>
  fileURLToPath(new URL(path, import.meta.url)),
);

let loaded: { addon: NativeAddon; path: string } | { error: string } | undefined;

/** The native fan-out, or why it is not available (not built on this machine, or failed to load). */
export function loadNativeAddon(): { addon: NativeAddon; path: string } | { error: string } {
  if (loaded) return loaded;
  const path = candidates.find((candidate) => existsSync(candidate));
  if (!path) {
    loaded = { error: `${fileName} was not built (no compiler or Node headers at build time)` };
    return loaded;
  }
  try {
    loaded = { addon: createRequire(import.meta.url)(path) as NativeAddon, path };
  } catch (error) {
    loaded = { error: `${path} did not load: ${(error as Error).message}` };
  }
  return loaded;
}
