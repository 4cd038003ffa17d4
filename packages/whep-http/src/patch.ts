import type { Context } from 'hono';
import {
  IceRestartUnsupportedError,
  PreconditionFailedError,
  PreconditionRequiredError,
  SessionNotFoundError,
} from './errors.js';
import { ifMatchSatisfied, newEtag, readBodyLimited, requireContentType } from './http-util.js';
import { authorizeProcess } from './offer.js';
import type { ResolvedWhepOptions, WhepSource } from './options.js';
import { buildRestartFragment, parseSdpFragment, type SdpFragment } from './sdp.js';
import type { SessionRegistry, WhepSession } from './session-registry.js';

/** Finds the session of `:id`/`:sessionId` after authenticating the request. */
export function authorizeSession<S extends WhepSource>(
  c: Context,
  options: ResolvedWhepOptions<S>,
  sessions: SessionRegistry,
): WhepSession {
  const processId = c.req.param('id') ?? '';
  const sessionId = c.req.param('sessionId') ?? '';
  // The session outlives a lookup change (e.g. WebRTC switched off), so only the token is taken from it.
  authorizeProcess(c, options, processId);
  const session = sessions.get(processId, sessionId);
  if (session === undefined) throw new SessionNotFoundError(processId, sessionId);
  return session;
}

/** RFC 8840 / WHEP §4.4.3: new ice-ufrag/ice-pwd in the fragment mean an ICE restart; returns them. */
function restartCredentials(
  session: WhepSession,
  fragment: SdpFragment,
): { ufrag: string; pwd: string } | undefined {
  const { ufrag, pwd } = fragment;
  if (ufrag === undefined || pwd === undefined) return undefined;
  return ufrag !== session.remoteUfrag || pwd !== session.remotePwd ? { ufrag, pwd } : undefined;
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

/** PATCH on a session: trickle ICE (204) or ICE restart (200 + sdpfrag, or 422 when unsupported). */
export async function handlePatch<S extends WhepSource>(
  c: Context,
  options: ResolvedWhepOptions<S>,
  sessions: SessionRegistry,
): Promise<Response> {
  const session = authorizeSession(c, options, sessions);
  requireContentType(c.req.header('content-type'), 'application/trickle-ice-sdpfrag');
  const fragment = parseSdpFragment(await readBodyLimited(c.req.raw, options.maxBodyBytes));
  const restart = restartCredentials(session, fragment);
  checkPrecondition(c, session, restart !== undefined || options.requireIfMatchForTrickle);
  const log = { processId: session.processId, sessionId: session.id, peerId: session.peer.id };

  if (restart === undefined) {
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

  const restartIce = session.peer.restartIce?.bind(session.peer);
  if (restartIce === undefined) {
    options.logger.info(log, 'whep ice restart refused: not supported');
    throw new IceRestartUnsupportedError(session.id);
  }
  const local = await restartIce({ ...restart, candidates: fragment.candidates });
  session.remoteUfrag = restart.ufrag;
  session.remotePwd = restart.pwd;
  session.etag = newEtag();
  options.logger.info(log, 'whep ice restarted');
  c.header('ETag', session.etag);
  c.header('Content-Type', 'application/trickle-ice-sdpfrag');
  return c.body(buildRestartFragment(session.iceAttributes, fragment.media, local), 200);
}
