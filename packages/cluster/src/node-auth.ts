import { randomBytes } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { bodyDigest, clusterKey, mac, sameMac } from './cluster-secret.js';

/** The header a node signs its requests to another node with. */
export const nodeTokenHeader = 'X-Dragon-Node-Token';
/** Set on a forwarded request, so the node that gets it answers itself instead of forwarding again. */
export const forwardedHeader = 'X-Dragon-Forwarded-By';

const version = 'v1';
/** A forward is answered within its 10 s timeout; the token only has to outlive the trip. */
const tokenTtlMs = 20_000;
/** How far the clocks of two nodes may disagree (NTP keeps them far closer). */
const clockSkewMs = 10_000;
/**
 * Nonces remembered at once. Only requests with a valid signature are remembered, so only nodes of
 * the cluster fill it: this is ~3,300 forwarded requests a second, held for 30 s.
 */
const maxNonces = 100_000;

/** What a node token says: who asks whom for which request, until when, once. */
const claimsSchema = z.object({
  /** The node that signed it. */
  from: z.string(),
  /** The node it is for: any other refuses it. */
  to: z.string(),
  method: z.string(),
  /** Path and query, as the request line has them. */
  path: z.string(),
  /** SHA-256 of the body (base64url). */
  body: z.string(),
  /** Unix milliseconds after which it is refused. */
  exp: z.number().int(),
  /** Random: each token is accepted once. */
  nonce: z.string().min(16),
});
type NodeClaims = z.infer<typeof claimsSchema>;

/** One request a node makes of another. */
export interface NodeRequest {
  /** The id of the node it goes to. */
  to: string;
  method: string;
  /** The absolute URL it goes to. */
  url: string;
  body?: ArrayBuffer | Uint8Array | undefined;
}

export interface NodeAuthOptions {
  /** `cluster.secret`; the signing key is derived from it. */
  secret: string;
  nodeId: string;
  /** The clock (tests move it). @default Date.now */
  now?: () => number;
}

/** Why a node token was refused: for the log, never for the client. */
export type NodeTokenRefusal =
  | 'malformed'
  | 'bad-signature'
  | 'other-node'
  | 'other-request'
  | 'expired'
  | 'replayed'
  | 'out-of-scope'
  | 'busy';

/**
 * How nodes vouch for each other. A node that forwards a user's API call (after that user's login
 * passed) signs exactly that request: the target node's id, the method, the path with its query and
 * a hash of the body, an expiry 20 s away and a nonce, with a key derived from `cluster.secret` (which
 * never travels). The receiving node lets it past its login only when every one of those matches,
 * the nonce is new, and the request is one a forward makes (a process's routes, the process list):
 * a token captured on the way is good for nothing but the one request it was made for, to the one
 * node it was made for, once — never for the config, for creating processes, or on another node.
 */
export class NodeAuth {
  readonly #key: Buffer;
  readonly #nodeId: string;
  readonly #now: () => number;
  /** Nonces seen → until when they could still be presented; in insertion (about expiry) order. */
  readonly #seen = new Map<string, number>();

  constructor(options: NodeAuthOptions) {
    this.#key = clusterKey(options.secret, 'requests');
    this.#nodeId = options.nodeId;
    this.#now = options.now ?? Date.now;
  }

  /** Headers that sign `request` for the node it goes to. */
  headers(request: NodeRequest): Record<string, string> {
    const url = new URL(request.url);
    const claims: NodeClaims = {
      from: this.#nodeId,
      to: request.to,
      method: request.method.toUpperCase(),
      path: url.pathname + url.search,
      body: bodyDigest(request.body),
      exp: this.#now() + tokenTtlMs,
      nonce: randomBytes(16).toString('base64url'),
    };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return {
      [forwardedHeader]: this.#nodeId,
      [nodeTokenHeader]: `${version}.${payload}.${mac(this.#key, payload)}`,
    };
  }

  /**
   * Checks the request's node token; resolves the signing node's id, or why it is refused. Reads the
   * body (Hono keeps it for the route) only once the signature holds.
   */
  async verify(c: Context): Promise<{ from: string } | { refused: NodeTokenRefusal }> {
    const claims = this.#claims(c.req.header(nodeTokenHeader) ?? '');
    if ('refused' in claims) return claims;
    const url = new URL(c.req.url);
    const now = this.#now();
    if (claims.to !== this.#nodeId) return { refused: 'other-node' };
    if (claims.exp < now - clockSkewMs || claims.exp > now + tokenTtlMs + clockSkewMs) {
      return { refused: 'expired' };
    }
    if (!inNodeScope(c.req.method, url.pathname)) return { refused: 'out-of-scope' };
    const body = hasBody(c.req.method) ? await c.req.arrayBuffer() : undefined;
    if (
      claims.method !== c.req.method ||
      claims.path !== url.pathname + url.search ||
      !sameMac(claims.body, bodyDigest(body))
    ) {
      return { refused: 'other-request' };
    }
    return this.#once(claims, now) ?? { from: claims.from };
  }

  /**
   * `userGuard`, except for requests another node signed. A token that does not hold leaves the
   * request to the login: without one it is a 401, as for anyone. `refused` hears why (for the log).
   */
  guard(userGuard: MiddlewareHandler, refused?: (reason: NodeTokenRefusal) => void): MiddlewareHandler {
    return async (c, next) => {
      if (c.req.header(nodeTokenHeader) !== undefined) {
        const verdict = await this.verify(c);
        if ('from' in verdict) return next();
        refused?.(verdict.refused);
      }
      return userGuard(c, next);
    };
  }

  #claims(token: string): NodeClaims | { refused: NodeTokenRefusal } {
    const [tag, payload, signature, ...rest] = token.split('.');
    if (tag !== version || !payload || !signature || rest.length > 0) return { refused: 'malformed' };
    if (!sameMac(signature, mac(this.#key, payload))) return { refused: 'bad-signature' };
    try {
      const parsed = claimsSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString()));
      return parsed.success ? parsed.data : { refused: 'malformed' };
    } catch {
      return { refused: 'malformed' };
    }
  }

  /** Remembers the nonce until the token expires; undefined when it is new. */
  #once(claims: NodeClaims, now: number): { refused: NodeTokenRefusal } | undefined {
    for (const [nonce, until] of this.#seen) {
      if (until >= now) break;
      this.#seen.delete(nonce);
    }
    if (this.#seen.has(claims.nonce)) return { refused: 'replayed' };
    if (this.#seen.size >= maxNonces) return { refused: 'busy' };
    this.#seen.set(claims.nonce, claims.exp + clockSkewMs);
    return undefined;
  }
}

/**
 * What one node asks of another: the routes a forwarded call reaches (`…/process/{id}` and below, for
 * any method) and the process list (reports). Not the config, not the creation of a process, not the
 * filesystems, the sessions or anything else an API user may do.
 */
export function inNodeScope(method: string, pathname: string): boolean {
  if (pathname === '/api/v3/process') return method === 'GET';
  return /^\/api\/v3\/process\/[^/]+(\/.*)?$/.test(pathname);
}

function hasBody(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}
