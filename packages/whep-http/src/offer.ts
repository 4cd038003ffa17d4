import { SourceClosedError } from '@dragon/webrtc';
import type { Context } from 'hono';
import type { ProcessAccess } from './access.js';
import {
  InputFailingError,
  OfferRefusedError,
  ProcessNotFoundError,
  ProcessStartingError,
  ProcessStoppedError,
  RateLimitedError,
  ViewerLimitError,
  WhepError,
} from './errors.js';
import { iceServerLinks, newEtag, randomId, readBodyLimited, requireContentType } from './http-util.js';
import type { ResolvedWhepOptions, WhepPeer, WhepProcessEntry, WhepSource } from './options.js';
import type { RateLimiter } from './rate-limiter.js';
import type { RefusalLog } from './refusal-log.js';
import { readOffer } from './sdp.js';
import type { SessionRegistry } from './session-registry.js';

export interface OfferDeps<S extends WhepSource> {
  options: ResolvedWhepOptions<S>;
  access: ProcessAccess<S>;
  sessions: SessionRegistry;
  offerLimiter: RateLimiter | undefined;
  refusals: RefusalLog;
}

/**
 * The source to answer from, or the error that says why there is none: the process's state as the
 * server told it (starting, failing, stopped), or no media yet (starting).
 */
function playable<S extends WhepSource>(
  processId: string,
  entry: WhepProcessEntry<S>,
  options: ResolvedWhepOptions<S>,
): S | WhepError {
  switch (entry.state) {
    case 'stopped':
      return new ProcessStoppedError(processId);
    case 'failing':
      return new InputFailingError(processId, options.failingRetryAfterSeconds);
    case 'starting':
      return new ProcessStartingError(processId, options.retryAfterSeconds);
    case 'running':
      return entry.source?.hasMedia === true
        ? entry.source
        : new ProcessStartingError(processId, options.retryAfterSeconds);
  }
}

/** The HTTP answer to an offer that failed in the cheap check or in the engine; others rethrown. */
function refusal<S extends WhepSource>(
  error: unknown,
  processId: string,
  options: ResolvedWhepOptions<S>,
): unknown {
  const refused = OfferRefusedError.of(error, options.retryAfterSeconds);
  if (refused) return refused;
  if (error instanceof SourceClosedError) {
    // The process stopped while the offer was read: answer with where it stands now.
    const now = options.lookup(processId);
    if (now === undefined) return new ProcessNotFoundError(processId);
    const source = playable(processId, now, options);
    return source instanceof Error ? source : new ProcessStartingError(processId, options.retryAfterSeconds);
  }
  return error;
}

/** POST on the endpoint (WHEP §4.2): the offer in, a session and its answer out; a refusal logged. */
export async function handleOffer<S extends WhepSource>(c: Context, deps: OfferDeps<S>): Promise<Response> {
  try {
    return await answerOffer(c, deps);
  } catch (error) {
    if (error instanceof WhepError) deps.refusals.refused(c.req.param('id') ?? '', error);
    throw error;
  }
}

async function answerOffer<S extends WhepSource>(c: Context, deps: OfferDeps<S>): Promise<Response> {
  const { options, access, sessions, offerLimiter } = deps;
  const processId = c.req.param('id') ?? '';

  // WHEP §6: rate-limit POSTs against flooding; counted first so it also slows token guessing.
  if (offerLimiter !== undefined) {
    const address = options.clientAddress(c);
    const verdict = offerLimiter.hit(address);
    if (!verdict.allowed) throw new RateLimitedError('offers', address, verdict.retryAfterSeconds);
  }
  const entry = access.authorize(c, processId);
  if (entry === undefined) throw new ProcessNotFoundError(processId);
  requireContentType(c.req.header('content-type'), 'application/sdp');
  const body = await readBodyLimited(c.req.raw, options.maxBodyBytes);
  let offer: ReturnType<typeof readOffer>;
  try {
    offer = readOffer(body);
    // The engine judges the SDP before the process state, so a malformed offer is a 400 whatever
    // state the process is in; a well-formed one then learns where the process stands.
    options.checkOffer?.(offer.sdp);
  } catch (error) {
    throw refusal(error, processId, options);
  }
  const source = playable(processId, entry, options);
  if (source instanceof Error) throw source;
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
    // The engine's own text (werift's, say) stays in the answer's `cause`: logged, never sent.
    throw refusal(error, processId, options);
  } finally {
    release();
  }

  const { peer, answerSdp } = created;
  // The process may have stopped (or its peer closed) while the answer was being made.
  const now = options.lookup(processId);
  const stillPlayable =
    now === undefined ? new ProcessNotFoundError(processId) : playable(processId, now, options);
  if (stillPlayable !== source || peer.state === 'closed') {
    peer.close();
    throw stillPlayable instanceof Error
      ? stillPlayable
      : new ProcessStartingError(processId, options.retryAfterSeconds);
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
    remote: options.clientAddress(c),
    createdAt: new Date(),
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
