import { randomBytes, randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';

// The value types the sections share, and the defaults datarhei generates once (kept in the file).

export const port = z.number().int().min(0).max(65535);
export const count = z.number().int().min(0);
export const stringList = z.array(z.string());

/** An IP range in CIDR notation (`10.0.0.0/8`, `::1/128`). */
export const cidr = z.string().refine(
  (value) => {
    const [address, bits, ...rest] = value.split('/');
    if (rest.length > 0 || !address || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
    const family = isIP(address);
    return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
  },
  { message: 'must be an IP range in CIDR notation' },
);

export const allowBlock = z.object({ allow: stringList.default([]), block: stringList.default([]) });

/** datarhei's haikunator-style instance name: readable, unique enough, generated once. */
const adjectives = ['autumn', 'bold', 'calm', 'dawn', 'ember', 'frosty', 'golden', 'hidden', 'misty'];
const nouns = ['river', 'meadow', 'cloud', 'forest', 'glade', 'harbor', 'peak', 'sun', 'wave'];
export function instanceName(): string {
  const pick = (words: string[]) => words[randomInt(words.length)];
  return `${pick(adjectives)}-${pick(nouns)}-${randomInt(1000, 10000)}`;
}

/** Alphanumeric secret, as datarhei generates the JWT secret and the memfs password. */
export function randomSecret(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join('');
}
