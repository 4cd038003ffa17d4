import type { IceRestartAnswer } from '@dragon/webrtc';
import type { Context } from 'hono';
import {
  IceRestartUnsupportedError,
  InvalidSdpFragmentError,
  OfferRefusedError,
  type OfferRole,
} from './errors.js';
import { newEtag } from './http-util.js';
import type { RestartablePeer, RestartableSession, WhepLogger } from './options.js';
import type { SdpFragment } from './sdp.js';

// RFC 8839 §5.4: ice-char is ALPHA / DIGIT / "+" / "/"; a ufrag has 4 to 256, a password 22 to 256.
const iceUfrag = /^[A-Za-z0-9+/]{4,256}$/;
const icePwd = /^[A-Za-z0-9+/]{22,256}$/;

/**
 * An ICE restart asked for by a PATCH with new credentials (RFC 9725 §4.4.1, WHEP §4.4.3), the
 * precondition already checked: the engine restarts the peer's ICE and the answer is `200` with the
 * server's new credentials and candidates as a trickle-ice-sdpfrag, and a new `ETag`. An engine
 * that cannot restart gets 422 (the session is kept; the client may POST again).
 * @throws InvalidSdpFragmentError when the credentials break the ICE grammar or the engine refuses them
 */
export async function answerIceRestart(
  c: Context,
  session: RestartableSession,
  peer: RestartablePeer,
  fragment: SdpFragment,
  context: { role: OfferRole; logger: WhepLogger; log: object },
): Promise<Response> {
  const { logger } = context;
  const log = { ...context.log, sessionId: session.id, peerId: peer.id };
  const label = context.role === 'publisher' ? 'whip' : 'whep';
  if (peer.restartIce === undefined) {
    logger.info(log, `${label} ice restart refused: not supported`);
    throw new IceRestartUnsupportedError(session.id);
  }
  const { ufrag, pwd, candidates } = fragment;
  if (ufrag === undefined || pwd === undefined || !iceUfrag.test(ufrag) || !icePwd.test(pwd)) {
    throw new InvalidSdpFragmentError('a=ice-ufrag or a=ice-pwd is not a valid ICE credential');
  }
  let answer: IceRestartAnswer;
  try {
    answer = await peer.restartIce({ ufrag, pwd, candidates });
  } catch (error) {
    if (OfferRefusedError.of(error, 0, context.role) === undefined) throw error;
    // The engine's own text is logged here and never sent.
    logger.warn({ ...log, err: error }, `${label} ice restart refused by the engine`);
    throw new InvalidSdpFragmentError('the ICE restart could not be applied');
  }
  session.remoteUfrag = ufrag;
  session.remotePwd = pwd;
  session.etag = newEtag();
  logger.info(log, `${label} ice restarted`);
  c.header('ETag', session.etag);
  c.header('Content-Type', 'application/trickle-ice-sdpfrag');
  return c.body(answerFragment(answer), 200);
}

/** The server's side as a trickle-ice-sdpfrag (RFC 8840 §9): every candidate, so it ends the list. */
function answerFragment(answer: IceRestartAnswer): string {
  const lines = [
    `a=ice-ufrag:${answer.ufrag}`,
    `a=ice-pwd:${answer.pwd}`,
    ...answer.candidates.map((candidate) => `a=${candidate}`),
    'a=end-of-candidates',
  ];
  return `${lines.join('\r\n')}\r\n`;
}
