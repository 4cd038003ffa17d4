import type { Context, MiddlewareHandler } from 'hono';
import { sign, verify } from 'hono/jwt';

/** The header a node signs its requests to another node with. */
export const nodeTokenHeader = 'X-Dragon-Node-Token';
/** Set on a forwarded request, so the node that gets it answers itself instead of forwarding again. */
export const forwardedHeader = 'X-Dragon-Forwarded-By';

const issuer = 'dragon-cluster';
/** Long enough for a slow forward, short enough that a captured token is soon worthless. */
const tokenTtlSeconds = 60;

/**
 * How nodes vouch for each other: a short-lived HS256 token signed with the shared `cluster.secret`
 * (the secret itself never goes over the wire). A node that receives a valid one lets the request
 * past its login, because the node that forwarded it has already checked the user's.
 */
export class NodeAuth {
  readonly #secret: string;
  readonly #nodeId: string;

  constructor(secret: string, nodeId: string) {
    this.#secret = secret;
    this.#nodeId = nodeId;
  }

  /** Headers for a request to another node. Without a secret (API login off) there is nothing to sign. */
  async headers(): Promise<Record<string, string>> {
    const headers: Record<string, string> = { [forwardedHeader]: this.#nodeId };
    if (this.#secret === '') return headers;
    const now = Math.floor(Date.now() / 1000);
    headers[nodeTokenHeader] = await sign(
      { iss: issuer, sub: this.#nodeId, iat: now, exp: now + tokenTtlSeconds },
      this.#secret,
      'HS256',
    );
    return headers;
  }

  /** Whether the request carries a valid token of a node of this cluster. */
  async isNodeRequest(c: Context): Promise<boolean> {
    const token = c.req.header(nodeTokenHeader);
    if (!token || this.#secret === '') return false;
    return verify(token, this.#secret, 'HS256').then(
      (claims) => claims.iss === issuer && typeof claims.sub === 'string',
      () => false,
    );
  }

  /** `userGuard`, except for requests another node signed. */
  guard(userGuard: MiddlewareHandler): MiddlewareHandler {
    return async (c, next) => {
      if (await this.isNodeRequest(c)) return next();
      return userGuard(c, next);
    };
  }
}
