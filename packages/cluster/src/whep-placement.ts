import { bearerAccepted } from '@dragon/whep-http';
import type { Context, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { NodeRecord } from './cluster-records.js';
import { choosePlacement } from './placement.js';

/** Marks an offer already redirected once: the node it reaches serves it, so a stale view cannot loop it. */
export const placedParam = 'placed';

/** What the WHEP placement needs to know about a process. */
export interface PlacementTarget {
  /** The node running it. */
  owner: string;
  /** Its per-process viewer token ('' for none). */
  token: string;
}

export interface WhepPlacementOptions {
  nodeId: string;
  /** This node's base URL, once it listens. */
  advertisedUrl(): string | undefined;
  /** The process if it can be watched (exists, WebRTC on, ordered to run), here or anywhere. */
  target(processId: string): Promise<PlacementTarget | undefined>;
  isLocal(processId: string): boolean;
  /** Opens (or joins) this node's pull of a process and waits up to `waitMs` for media. */
  pull(processId: string, waitMs: number): Promise<unknown>;
  liveNodes(): readonly NodeRecord[];
  /** Connected viewers here now, and the limit. */
  load(): { viewers: number; maxViewers: number };
  /** The node-wide WHEP token (`webrtc.token`, '' for none). */
  globalToken: string;
  margin: number;
  /** How long an offer waits for a new pull's first media before the WHEP routes answer it. @default 8000 */
  pullWaitMs?: number;
  logger: Logger;
}

/**
 * Hono middleware in front of the WHEP endpoint (`POST …/:id/whep`): serves the offer here — from the
 * local process or a pull of it — or redirects it (307, RFC 9110 §15.4.8: method and body are kept)
 * to a node with room. The 201's `Location` becomes absolute on this node's advertised URL, so the
 * session's PATCH and DELETE reach this node whatever balancer sits in front of the cluster.
 */
export function whepPlacement(options: WhepPlacementOptions): MiddlewareHandler {
  const pullWaitMs = options.pullWaitMs ?? 8000;
  return async (c, next) => {
    if (c.req.method === 'POST') {
      const redirect = await placeOffer(c, options, pullWaitMs);
      if (redirect) return redirect;
    }
    await next();
    const location = c.res.headers.get('Location');
    const base = options.advertisedUrl();
    if (c.res.status === 201 && location?.startsWith('/') && base) {
      c.res.headers.set('Location', `${base}${location}`);
    }
  };
}

async function placeOffer(
  c: Context,
  options: WhepPlacementOptions,
  pullWaitMs: number,
): Promise<Response | undefined> {
  const processId = c.req.param('id') ?? '';
  const target = await options.target(processId);
  // Unknown, not watchable or not authorised: the WHEP routes give the answer (404, 401, 409).
  // Checked before placement, so an unauthorised offer neither learns where a process runs nor makes
  // this node pull it.
  const authorization = c.req.header('authorization');
  if (target === undefined || !bearerAccepted(authorization, [target.token, options.globalToken])) {
    return undefined;
  }
  if (c.req.query(placedParam) === undefined) {
    const placement = choosePlacement({
      processId,
      self: { id: options.nodeId, ...options.load() },
      nodes: options.liveNodes(),
      owner: target.owner,
      margin: options.margin,
    });
    if ('redirect' in placement) {
      const location = `${placement.redirect.url}${c.req.path}?${placedParam}=1`;
      options.logger.info({ processId, to: placement.redirect.id }, 'whep offer redirected');
      return new Response(null, {
        status: 307,
        headers: {
          Location: location,
          // The redirect is read by the browser's CORS check before it is followed.
          'Access-Control-Allow-Origin': '*',
          'Access-Control-Expose-Headers': 'Location',
        },
      });
    }
  }
  if (!options.isLocal(processId)) await options.pull(processId, pullWaitMs);
  return undefined;
}
