import type { Context } from 'hono';
import type { ProcessAccess } from './access.js';
import { PreconditionFailedError, PreconditionRequiredError, SessionNotFoundError } from './errors.js';
import { ifMatchSatisfied, readBodyLimited, requireContentType } from './http-util.js';
import { answerIceRestart } from './ice-restart.js';
import type { ResolvedWhepOptions, WhepSource } from './options.js';
import { parseSdpFragment, type SdpFragment } from './sdp.js';
import type { SessionRegistry, WhepSession } from './session-registry.js';

/** Finds the session of `:id`/`:sessionId` after authenticating the request. */
export function authorizeSession<S extends WhepSource>(
  c: Context,
  access: ProcessAccess<S>,
  sessions: SessionRegistry,
): WhepSession {
  const processId = c.req.param('id') ?? '';
  const sessionId = c.req.param('sessionId') ?? '';
  // The session outlives a lookup change (e.g. WebRTC switched off), so only the token is taken from it.
  access.authorize(c, processId);
  const session = sessions.session(processId, sessionId);
  if (session === undefined) throw new SessionNotFoundError(processId, sessionId);
  return session;
}

/** RFC 8840 / WHEP §4.4.3: ice-ufrag/ice-pwd in the fragment that differ from the offer's ask for an ICE restart. */
function asksForIceRestart(session: WhepSession, fragment: SdpFragment): boolean {
  const { ufrag, pwd } = fragment;
  if (ufrag === undefined || pwd === undefined) return false;
  return ufrag !== session.remoteUfrag || pwd !== session.remotePwd;
}

/**
 * WHEP §4.4.1 conditional requests: a present If-Match must match the session ETag (or be `*`),
 * else 412; a missing one is 428 for ICE restarts (and for trickles when configured so).
 */
function checkPrecondition(c: Context, session: WhepSession, required: boolean): void {
  const ifMatch = c.req.header('if-match');
  if (ifMatch === undefined) {
    if (required) throw new PreconditionRequiredError(session.id);
    return;
  }
  if (!ifMatchSatisfied(ifMatch, session.etag)) throw new PreconditionFailedError(session.id, ifMatch);
}

/**
 * PATCH on a session: trickle ICE (204), or an ICE restart (200 with the server's new credentials
 * and candidates, a new ETag), so a viewer whose network changed keeps its session; 422 (session
 * kept) when the engine's peer cannot restart.
 */
export async function handlePatch<S extends WhepSource>(
  c: Context,
  deps: { options: ResolvedWhepOptions<S>; access: ProcessAccess<S>; sessions: SessionRegistry },
): Promise<Response> {
  const { options, access, sessions } = deps;
  const session = authorizeSession(c, access, sessions);
  requireContentType(c.req.header('content-type'), 'application/trickle-ice-sdpfrag');
  const fragment = parseSdpFragment(await readBodyLimited(c.req.raw, options.maxBodyBytes));
  const restart = asksForIceRestart(session, fragment);
  checkPrecondition(c, session, restart || options.requireIfMatchForTrickle);
  const log = { processId: session.processId, sessionId: session.id, peerId: session.peer.id };

  if (restart) {
    return answerIceRestart(c, session, session.peer, fragment, {
      role: 'viewer',
      logger: options.logger,
      log: { processId: session.processId },
    });
  }
  for (const candidate of fragment.candidates) {
    try {
      await session.peer.addRemoteCandidate(candidate);
    } catch (error) {
      // WHEP §4.4.2: a candidate the server cannot use is discarded silently, the rest still count.
      options.logger.debug({ ...log, candidate, err: error }, 'whep remote candidate discarded');
    }
  }
  // WHEP §4.4.2: 204, no body, no ETag. `a=end-of-candidates` needs no action from the engine.
  return c.body(null, 204);
}
