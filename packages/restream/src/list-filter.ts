import { compileGlob } from './glob.js';

/** Which processes `list` returns; every given criterion must hold. */
export interface ListFilter {
  ids?: string[];
  /** A glob (`*`, `?`) over the whole id. */
  idPattern?: string;
  reference?: string;
  /** A glob (`*`, `?`) over the whole reference. */
  referencePattern?: string;
}

/**
 * The test `list(filter)` applies, for processes that are not in this manager (another server's, a
 * cluster's): the globs compiled once, then one call per process.
 * @example const matches = listFilterMatcher({ idPattern: 'cam-*' }); matches({ id: 'cam-1', reference: '' }) // true
 */
export function listFilterMatcher(
  filter: ListFilter,
): (process: { id: string; reference: string }) => boolean {
  const idMatches = filter.idPattern ? compileGlob(filter.idPattern) : undefined;
  const referenceMatches = filter.referencePattern ? compileGlob(filter.referencePattern) : undefined;
  const ids = filter.ids ? new Set(filter.ids) : undefined;
  return ({ id, reference }) => {
    if (ids && !ids.has(id)) return false;
    if (idMatches && !idMatches(id)) return false;
    if (filter.reference !== undefined && reference !== filter.reference) return false;
    return !referenceMatches || referenceMatches(reference);
  };
}
