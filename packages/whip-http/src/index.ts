export {
  InvalidStreamNameError,
  InvalidWhipOptionsError,
  PublicationConflictError,
  PublicationLimitError,
  PublisherSessionNotFoundError,
  PublishUnauthorizedError,
  WhipError,
  type WhipErrorCode,
} from './errors.js';
export type { PublishRequest, WhipIceServer, WhipPublisher, WhipRoutesOptions } from './options.js';
export type { PublicationInfo, PublisherSession, WhipPublications } from './publication-registry.js';
export { streamNamePattern } from './publish.js';
export { createWhipRoutes, type WhipRoutes } from './whip-routes.js';
