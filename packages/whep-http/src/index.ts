export { corsHeaders } from './cors.js';
export {
  BodyTooLargeError,
  IceRestartUnsupportedError,
  InputFailingError,
  InvalidSdpFragmentError,
  InvalidWhepOptionsError,
  MethodNotAllowedError,
  type OfferFailure,
  OfferRefusedError,
  type OfferRole,
  PreconditionFailedError,
  PreconditionRequiredError,
  ProcessNotFoundError,
  ProcessStartingError,
  ProcessStoppedError,
  RateLimitedError,
  SessionNotFoundError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ViewerLimitError,
  WhepError,
  type WhepErrorCode,
} from './errors.js';
export {
  bearerAccepted,
  iceServerLinks,
  ifMatchSatisfied,
  newEtag,
  randomId,
  readBodyLimited,
  requireContentType,
} from './http-util.js';
export { answerIceRestart } from './ice-restart.js';
export {
  endpointOptionFields,
  nodeRemoteAddress,
  type RestartablePeer,
  type RestartableSession,
  type WhepIceServer,
  type WhepLogger,
  type WhepPeer,
  type WhepProcessEntry,
  type WhepProcessState,
  type WhepRoutesOptions,
  type WhepSource,
} from './options.js';
export { type RunState, whepProcessState } from './process-state.js';
export { RateLimiter, type RateVerdict } from './rate-limiter.js';
export { parseSdpFragment, readOffer, type SdpFragment, type SdpIceCredentials } from './sdp.js';
export type { WhepSessionInfo, WhepSessions } from './session-registry.js';
export { createWhepRoutes, type WhepRoutes } from './whep-routes.js';
