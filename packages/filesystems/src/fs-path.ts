import { posix } from 'node:path';
import { compileGlob } from '@dragon/restream';
import { FsPathInvalidError } from './errors.js';
import type { FileMatcher } from './filesystem.js';

/** Longest path a filesystem accepts; far above any HLS or recording name. */
const maxPathLength = 4096;

/**
 * The one way a client-supplied name becomes a filesystem path: `/`-rooted, normalised, without
 * `..` escaping the root, NUL bytes or empty names. `a/../b` is `/b`; `/../x` is refused, not clamped,
 * so a path that tries to leave the root never silently addresses another file.
 */
export function normalizeFsPath(raw: string): string {
  if (raw.length === 0 || raw.length > maxPathLength || raw.includes('\0')) throw new FsPathInvalidError(raw);
  const rooted = raw.startsWith('/') ? raw : `/${raw}`;
  let depth = 0;
  for (const segment of rooted.split('/')) {
    if (segment === '..') depth--;
    else if (segment !== '' && segment !== '.') depth++;
    if (depth < 0) throw new FsPathInvalidError(raw);
  }
  const normalized = posix.normalize(rooted);
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

/** Decodes a URL path tail (`%20`, …) before normalising; a malformed escape is an invalid path. */
export function fsPathFromUrl(encoded: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(encoded);
  } catch {
    throw new FsPathInvalidError(encoded);
  }
  return normalizeFsPath(decoded);
}

/** datarhei's file globs (`/` as separator, `**`, classes, `{a,b}`), matched by restream's one glob matcher. */
export function compileFileGlob(pattern: string): FileMatcher {
  return compileGlob(pattern, { separator: '/', extended: true });
}

/** A list filter as the filesystems take it: compiled here when given as text. */
export function fileMatcherOf(pattern: string | FileMatcher | undefined): FileMatcher | undefined {
  return typeof pattern === 'string' ? compileFileGlob(pattern) : pattern;
}
