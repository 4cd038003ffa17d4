import type { ListFilter } from './list-filter.js';

/** The parts of a process the API can include. */
export const processFields = ['config', 'state', 'report', 'metadata'] as const;
export type ProcessField = (typeof processFields)[number];

/**
 * datarhei's `filter` query: a comma list of the parts to include. Empty means all; a non-empty list
 * means only the known names in it (an unknown name alone yields none), entries taken as written.
 */
export function parseFields(filter: string | undefined): Set<ProcessField> {
  const wanted = (filter ?? '').split(',').filter((part) => part !== '');
  if (wanted.length === 0) return new Set(processFields);
  return new Set(processFields.filter((field) => wanted.includes(field)));
}

/**
 * datarhei's list query (`id`, `reference`, `idpattern`, `refpattern`) as restream's `ListFilter`:
 * `reference` wins over `id` (the id list is then ignored); both patterns intersect.
 */
export function listFilterOf(query: (name: string) => string | undefined): ListFilter {
  const ids = (query('id') ?? '').split(',').filter((id) => id !== '');
  const reference = query('reference') ?? '';
  const idPattern = query('idpattern') ?? '';
  const referencePattern = query('refpattern') ?? '';
  return {
    ...(reference ? { reference } : ids.length > 0 ? { ids } : {}),
    ...(idPattern ? { idPattern } : {}),
    ...(referencePattern ? { referencePattern } : {}),
  };
}
