export {
  BodyTooLargeError,
  IcePortsExhaustedError,
  IceRestartUnsupportedError,
  InvalidSdpError,
  InvalidSdpFragmentError,
  InvalidWhepOptionsError,
  MethodNotAllowedError,
  NoUsableCodecError,
  PreconditionFailedError,
  PreconditionRequiredError,
  ProcessNotFoundError,
  ProcessNotRunningError,
  RateLimitedError,
  SessionNotFoundError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ViewerLimitError,
  WhepError,
  type WhepErrorCode,
} from './errors.js';
export {
  nodeRemoteAddress,
  type WhepIceParameters,
  type WhepIceServer,
  type WhepLogger,
  type WhepPeer,
  type WhepProcessEntry,
  type WhepRoutesOptions,
  type WhepSource,
} from './options.js';
export type { WhepSessions } from './session-registry.js';
export { createWhepRoutes, type WhepRoutes } from './whep-routes.js';
