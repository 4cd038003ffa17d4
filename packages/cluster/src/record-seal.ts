import { clusterKey, mac, sameMac } from './cluster-secret.js';

const version = 'v1';

/**
 * Signs every value a node writes to Redis (node records, process records, leases) with a key derived
 * from `cluster.secret`, and reads back only values that carry a valid signature. Redis is where nodes
 * meet, not a party they trust: a client that can write to it but does not know the secret cannot make
 * a node believe a record no node wrote — a node URL pointing elsewhere (which would receive pulls,
 * forwarded API calls and redirected viewers), a process config to fail over, a lease that makes a
 * node give up a process. The signature covers the Redis key as well, so a signed value cannot be
 * moved under another key (one node's record as another's, one process's lease as another's).
 *
 * A value is `v1.<HMAC-SHA256 base64url>.<payload>`: deterministic, so the lease scripts still compare
 * a lease with the claiming node's value inside Redis.
 */
export class RecordSeal {
  readonly #key: Buffer;

  constructor(secret: string) {
    this.#key = clusterKey(secret, 'records');
  }

  /** `payload` signed for storage under `key`. */
  seal(key: string, payload: string): string {
    return `${version}.${mac(this.#key, key, payload)}.${payload}`;
  }

  /** The payload a node of this cluster signed for `key`; undefined for anything else. */
  open(key: string, value: string): string | undefined {
    const start = version.length + 1;
    if (!value.startsWith(`${version}.`)) return undefined;
    const end = value.indexOf('.', start);
    if (end === -1) return undefined;
    const payload = value.slice(end + 1);
    return sameMac(value.slice(start, end), mac(this.#key, key, payload)) ? payload : undefined;
  }
}
