import {
  iceServerLinks,
  newEtag,
  OfferRefusedError,
  RateLimitedError,
  type RateLimiter,
  randomId,
  readBodyLimited,
  readOffer,
  requireContentType,
} from '@dragon/whep-http';
import type { Context } from 'hono';
import type { PublishAccess } from './access.js';
import { InvalidStreamNameError, PublicationConflictError, PublicationLimitError } from './errors.js';
import type { ResolvedWhipOptions, WhipPublisher } from './options.js';
import type { PublicationRegistry, PublisherSession } from './publication-registry.js';

/** A stream name: what a URL path segment, a log line and a placeholder carry without escaping. */
export const streamNamePattern = /^[A-Za-z0-9._-]{1,64}$/;

export interface PublishDeps<P extends WhipPublisher> {
  options: ResolvedWhipOptions<P>;
  access: PublishAccess<P>;
  publications: PublicationRegistry<P>;
  offerLimiter: RateLimiter | undefined;
}

/**
 * A publisher counts as gone when ICE says so or when it has sent nothing for `staleAfterMs`
 * (counted from its creation until the first packet).
 */
function stale(session: PublisherSession, staleAfterMs: number, now: number): boolean {
  const { publisher } = session;
  if (publisher.state === 'disconnected' || publisher.state === 'closed') return true;
  const heardAt = publisher.lastMediaAt ?? session.createdAt.getTime();
  return now - heardAt > staleAfterMs;
}

/**
 * Whether a new publisher may take `name`: 409 for a live publisher under `reject` (or an offer for
 * the name being answered), 503 at the publication limit. A replaced publisher keeps its place
 * until the new one has its answer, so a refused offer costs the stream nothing.
 */
function admit<P extends WhipPublisher>(name: string, deps: PublishDeps<P>): void {
  const { options, publications } = deps;
  if (publications.isPending(name)) throw new PublicationConflictError(name);
  const live = publications.get(name);
  if (live !== undefined) {
    if (options.onConflict === 'reject' && !stale(live, options.staleAfterMs, Date.now())) {
      throw new PublicationConflictError(name);
    }
    return;
  }
  if (publications.count() >= options.maxPublications) {
    throw new PublicationLimitError(options.maxPublications, options.retryAfterSeconds);
  }
}

/** POST on the endpoint (RFC 9725 §4.2): the offer in, a publisher session and its answer out. */
export async function handlePublish<P extends WhipPublisher>(
  c: Context,
  deps: PublishDeps<P>,
): Promise<Response> {
  const { options, access, publications, offerLimiter } = deps;
  const name = c.req.param('name') ?? '';
  const remote = options.clientAddress(c);
  // Counted first, so a flood of offers also slows token guessing.
  if (offerLimiter !== undefined) {
    const verdict = offerLimiter.hit(remote);
    if (!verdict.allowed) throw new RateLimitedError('offers', remote, verdict.retryAfterSeconds);
  }
  if (!streamNamePattern.test(name)) throw new InvalidStreamNameError();
  access.authorize(c, name);
  requireContentType(c.req.header('content-type'), 'application/sdp');
  const offer = readOfferChecked(await readBodyLimited(c.req.raw, options.maxBodyBytes), options);
  admit(name, deps);

  const release = publications.reserve(name);
  let created: { publisher: P; answerSdp: string };
  const userAgent = c.req.header('user-agent');
  try {
    created = await options.createPublisher(offer.sdp, { name, remote, userAgent });
  } catch (error) {
    // The HTTP answer to an offer the engine refused; anything else is rethrown as is (a 500).
    const refused = OfferRefusedError.of(error, options.retryAfterSeconds, 'publisher');
    if (refused) {
      // The engine's own text (werift's, say) is logged here and never sent.
      options.logger.warn({ stream: name, code: refused.code, err: error }, 'whip offer refused');
    }
    throw refused ?? error;
  } finally {
    release();
  }

  const { publisher, answerSdp } = created;
  const session: PublisherSession<P> = {
    id: randomId(),
    name,
    publisher,
    etag: newEtag(),
    remoteUfrag: offer.ice.ufrag,
    remotePwd: offer.ice.pwd,
    remote,
    userAgent,
    createdAt: new Date(),
  };
  const replaced = publications.get(name);
  publications.add(session);
  options.logger.info(
    { stream: name, sessionId: session.id, peerId: publisher.id, replaced: replaced?.id },
    'whip publisher created',
  );

  // Relative to the URL posted to, so it stays right wherever the routes are mounted.
  c.header('Location', `${c.req.path.replace(/\/+$/, '')}/${session.id}`);
  c.header('ETag', session.etag);
  c.header('Accept-Patch', 'application/trickle-ice-sdpfrag');
  for (const link of iceServerLinks(options.iceServers)) c.header('Link', link, { append: true });
  c.header('Content-Type', 'application/sdp');
  return c.body(answerSdp, 201);
}

function readOfferChecked<P extends WhipPublisher>(body: Uint8Array, options: ResolvedWhipOptions<P>) {
  try {
    const offer = readOffer(body);
    options.checkOffer?.(offer.sdp);
    return offer;
  } catch (error) {
    throw OfferRefusedError.of(error, options.retryAfterSeconds, 'publisher') ?? error;
  }
}
