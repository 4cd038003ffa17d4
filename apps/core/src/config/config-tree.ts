/**
 * The config as plain JSON, before the schema parses it: the file's layer, a `PUT` body, the
 * environment's layer. Paths are the config's dotted field paths (`api.auth.enable`).
 */
export type Tree = Record<string, unknown>;

export const isTree = (value: unknown): value is Tree =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Maps replaced as a whole by a `PUT`, so a key can be removed. */
const replacedWhole = new Set(['router.routes']);

/** `PUT` semantics: objects merge key by key, everything else (lists included) is replaced. */
export function mergeInto(base: Tree, patch: Tree, path: string[] = []): Tree {
  const result: Tree = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    const childPath = [...path, key];
    const current = result[key];
    result[key] =
      isTree(value) && isTree(current) && !replacedWhole.has(childPath.join('.'))
        ? mergeInto(current, value, childPath)
        : structuredClone(value);
  }
  return result;
}

export function valueAt(tree: unknown, path: string): unknown {
  let node = tree;
  for (const key of path.split('.')) node = isTree(node) ? node[key] : undefined;
  return node;
}

/** Sets the field at `path`, making the objects on the way where there are none. */
export function setAt(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    if (!isTree(node[key])) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys.at(-1)!] = value;
}
