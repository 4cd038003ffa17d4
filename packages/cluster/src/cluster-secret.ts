import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** What a key derived from `cluster.secret` is for: one key per purpose, so one never verifies the other's. */
type Purpose = 'records' | 'requests';

/**
 * A key for one purpose, derived from the shared `cluster.secret` (HKDF-SHA256, RFC 5869). The
 * secret itself signs nothing and never leaves the node.
 */
export function clusterKey(secret: string, purpose: Purpose): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'dragon-cluster', `dragon-cluster/${purpose}`, 32));
}

/** HMAC-SHA256 of `parts`, base64url. Each part is length-prefixed, so no two different lists sign alike. */
export function mac(key: Buffer, ...parts: string[]): string {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(`${Buffer.byteLength(part)}:`).update(part);
  return hmac.digest('base64url');
}

/** SHA-256 of a request body, base64url. */
export function bodyDigest(body: Uint8Array | ArrayBuffer | undefined): string {
  return createHash('sha256')
    .update(body === undefined ? new Uint8Array() : new Uint8Array(body))
    .digest('base64url');
}

/** Compares two MACs in constant time (they are of equal length when both are ours). */
export function sameMac(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
