export {
  BodyTooLargeError,
  IceRestartUnsupportedError,
  InputFailingError,
  InvalidSdpFragmentError,
  InvalidWhepOptionsError,
  MethodNotAllowedError,
  type OfferFailure,
  OfferRefusedError,
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
export { bearerAccepted } from './http-util.js';
export {
  nodeRemoteAddress,
  type WhepIceServer,
  type WhepLogger,
  type WhepPeer,
  type WhepProcessEntry,
  type WhepProcessState,
  type WhepRoutesOptions,
  type WhepSource,
} from './options.js';
export type { WhepSessionInfo, WhepSessions } from './session-registry.js';
export { createWhepRoutes, type WhepRoutes } from './whep-routes.js';
