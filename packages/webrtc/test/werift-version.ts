import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The version of the werift package installed here (its exports map hides package.json). */
export function installedWeriftVersion(): string {
  let directory = dirname(createRequire(import.meta.url).resolve('werift'));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'werift') return manifest.version ?? '';
    } catch {
      // not the package root yet
    }
    const parent = dirname(directory);
    if (parent === directory) throw new Error('werift/package.json not found');
    directory = parent;
  }
}
