import type { Config } from './config-schema.js';
import type { Tree } from './config-tree.js';
import type { FieldErrors } from './errors.js';

/** What a secret reads as in `GET /api/v3/config`; sent back in a `PUT`, it keeps the stored value. */
export const redacted = '********';

/**
 * Values a config response never shows. The RTMP/SRT tokens, the SRT passphrase and the memfs
 * password are shown, as datarhei does: the Restreamer UI builds its publish and HLS URLs from them.
 */
const secretPaths = [
  ['api', 'auth', 'password'],
  ['api', 'auth', 'jwt', 'secret'],
  ['service', 'token'],
  ['webrtc', 'token'],
  ['whip', 'token'],
  ['cluster', 'secret'],
  // May carry the Redis password.
  ['cluster', 'redis_url'],
] as const;

/** Secrets inside list items; an item is matched to the stored one by `key`, not by position. */
const secretItems = [
  {
    list: ['webrtc', 'ice_servers'],
    field: ['credential'],
    key: (item: Tree) => JSON.stringify([item.urls, item.username ?? '']),
  },
  { list: ['storage', 's3'], field: ['secret_access_key'], key: (item: Tree) => String(item.name) },
  { list: ['storage', 's3'], field: ['auth', 'password'], key: (item: Tree) => String(item.name) },
] as const;

/** Secrets inside the entries of a map keyed by name: `whip.streams.<name>.token`. */
const secretEntries = [{ map: ['whip', 'streams'], field: 'token' }] as const;

function entriesAt(tree: unknown, path: readonly string[]): [string, Tree][] {
  const map = parentOf(tree, path)?.[path.at(-1)!];
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return [];
  return Object.entries(map as Tree).filter(
    (entry): entry is [string, Tree] => entry[1] !== null && typeof entry[1] === 'object',
  );
}

function parentOf(tree: unknown, path: readonly string[]): Tree | undefined {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Tree)[key];
  }
  return node !== null && typeof node === 'object' && !Array.isArray(node) ? (node as Tree) : undefined;
}

function listAt(tree: unknown, path: readonly string[]): Tree[] {
  const parent = parentOf(tree, path);
  const list = parent?.[path.at(-1)!];
  return Array.isArray(list)
    ? list.filter((item): item is Tree => item !== null && typeof item === 'object')
    : [];
}

/** Calls `visit` for each secret slot in `tree`: its field name, the object holding it, its key there. */
function eachSecret(
  tree: unknown,
  visit: (field: string, holder: Tree, key: string, itemKey?: string) => void,
) {
  for (const path of secretPaths) {
    const holder = parentOf(tree, path);
    if (holder) visit(path.join('.'), holder, path.at(-1)!);
  }
  for (const { list, field, key } of secretItems) {
    for (const item of listAt(tree, list)) {
      const holder = parentOf(item, field);
      if (holder) visit(list.join('.'), holder, field.at(-1)!, key(item));
    }
  }
  for (const { map, field } of secretEntries) {
    for (const [name, entry] of entriesAt(tree, map)) visit(map.join('.'), entry, field, name);
  }
}

/** A copy of `config` with every non-empty secret replaced by {@link redacted}. */
export function redactSecrets(config: Config): Config {
  const copy = structuredClone(config);
  eachSecret(copy, (_field, holder, key) => {
    if (typeof holder[key] === 'string' && holder[key] !== '') holder[key] = redacted;
  });
  return copy;
}

/** Puts the stored value back wherever `candidate` carries {@link redacted}. Mutates `candidate`. */
export function restoreSecrets(candidate: Tree, stored: Config): void {
  const storedValues = new Map<string, unknown>();
  eachSecret(stored, (field, holder, key, itemKey) =>
    storedValues.set(`${field}|${itemKey}|${key}`, holder[key]),
  );
  eachSecret(candidate, (field, holder, key, itemKey) => {
    const id = `${field}|${itemKey}|${key}`;
    if (holder[key] === redacted && storedValues.has(id)) holder[key] = storedValues.get(id);
  });
}

/** Secrets that are still the placeholder: a client sent it back for a value this server never had. */
export function placeholderErrors(config: Config): FieldErrors {
  const errors: FieldErrors = {};
  eachSecret(config, (field, holder, key) => {
    if (holder[key] === redacted) {
      errors[field] = [
        `"${redacted}" stands for a stored secret, but there is none to keep here; send the value`,
      ];
    }
  });
  return errors;
}
