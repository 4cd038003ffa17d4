import type { Context } from 'hono';
import {
  IcePortsExhaustedError,
  InvalidSdpError,
  NoUsableCodecError,
  ProcessNotFoundError,
  ProcessNotRunningError,
  RateLimitedError,
  ViewerLimitError,
  WhepError,
} from './errors.js';
import {
  iceServerLinks,
  newEtag,
  randomId,
  readBodyLimited,
  requireBearer,
  requireContentType,
} from './http-util.js';
import type { ResolvedWhepOptions, WhepPeer, WhepProcessEntry, WhepSource } from './options.js';
import type { RateLimiter } from './rate-limiter.js';
import { answerIceAttributes, readOffer } from './sdp.js';
import type { SessionRegistry } from './session-registry.js';

/** Authenticates a request for a process and returns its entry; 401 before 404 so ids do not leak. */
export function authorizeProcess<S extends WhepSource>(
  c: Context,
  options: ResolvedWhepOptions<S>,
  processId: string,
): WhepProcessEntry<S> | undefined {
  const entry = options.lookup(processId);
  requireBearer(c.req.header('authorization'), [entry?.token, options.token]);
  return entry?.enabled === true ? entry : undefined;
}

/** Maps the engine's rejections (by `code`) to typed errors; unknown failures stay 500. */
function engineError(error: unknown, retryAfterSeconds: number): unknown {
  if (error instanceof WhepError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'INVALID_SDP') return new InvalidSdpError(message, { cause: error });
  if (code === 'NO_USABLE_CODEC') return new NoUsableCodecError(message, { cause: error });
  if (code === 'ICE_PORTS_EXHAUSTED') return new IcePortsExhaustedError(retryAfterSeconds, { cause: error });
  return error;
}

export interface OfferDeps<S extends WhepSource> {
  options: ResolvedWhepOptions<S>;
  sessions: SessionRegistry;
  rateLimiter: RateLimiter | undefined;
}

/** POST on the endpoint (WHEP §4.2): the offer in, a session and its answer out. */
export async function handleOffer<S extends WhepSource>(c: Context, deps: OfferDeps<S>): Promise<Response> {
  const { options, sessions, rateLimiter } = deps;
  const processId = c.req.param('id') ?? '';

  // WHEP §6: rate-limit POSTs against flooding; counted first so it also slows token guessing.
  if (rateLimiter !== undefined) {
    const address = options.clientAddress(c);
    const verdict = rateLimiter.hit(address);
    if (!verdict.allowed) throw new RateLimitedError(address, verdict.retryAfterSeconds);
  }
  const entry = authorizeProcess(c, options, processId);
  if (entry === undefined) throw new ProcessNotFoundError(processId);
  requireContentType(c.req.header('content-type'), 'application/sdp');
  const body = await readBodyLimited(c.req.raw, options.maxBodyBytes);
  const offer = readOffer(body);
  try {
    options.checkOffer?.(offer.sdp);
  } catch (error) {
    throw engineError(error, options.retryAfterSeconds);
  }

  const source = entry.source;
  if (source === undefined || !source.hasMedia) {
    throw new ProcessNotRunningError(processId, options.retryAfterSeconds);
  }
  if (entry.maxViewers !== undefined && sessions.count(processId) >= entry.maxViewers) {
    throw new ViewerLimitError('process', entry.maxViewers, options.retryAfterSeconds);
  }
  if (options.maxViewers !== undefined && sessions.count() >= options.maxViewers) {
    throw new ViewerLimitError('server', options.maxViewers, options.retryAfterSeconds);
  }

  const release = sessions.reserve(processId);
  let created: { peer: WhepPeer; answerSdp: string };
  try {
    created = await options.createPeer(source, offer.sdp);
  } catch (error) {
    const mapped = engineError(error, options.retryAfterSeconds);
    if (mapped instanceof WhepError) {
      options.logger.warn({ processId, code: mapped.code, err: error }, 'whep offer refused');
    }
    throw mapped;
  } finally {
    release();
  }

  const { peer, answerSdp } = created;
  // The process may have stopped (or its peer closed) while the answer was being made.
  const now = options.lookup(processId);
  if (now?.enabled !== true || now.source !== source || peer.state === 'closed') {
    peer.close();
    throw new ProcessNotRunningError(processId, options.retryAfterSeconds);
  }

  const sessionId = randomId();
  const etag = newEtag();
  sessions.add({
    id: sessionId,
    processId,
    peer,
    etag,
    remoteUfrag: offer.ice.ufrag,
    remotePwd: offer.ice.pwd,
    iceAttributes: answerIceAttributes(answerSdp),
  });
  options.logger.info({ processId, sessionId, peerId: peer.id }, 'whep session created');

  // The session URL is relative to the URL the client posted to, so it stays right wherever
  // the routes are mounted.
  const endpointPath = c.req.path.replace(/\/+$/, '');
  c.header('Location', `${endpointPath}/${sessionId}`);
  c.header('ETag', etag);
  c.header('Accept-Patch', 'application/trickle-ice-sdpfrag');
  for (const link of iceServerLinks(options.iceServers)) c.header('Link', link, { append: true });
  c.header('Content-Type', 'application/sdp');
  return c.body(answerSdp, 201);
}
