import { readFileSync } from 'node:fs';

/** apps/core's version (its package.json, one folder up from here and from the built chunks). */
export const coreVersion: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;
