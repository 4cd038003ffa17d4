export { createHlsSessions, type HlsRequest, type HlsSessions } from './hls-sessions.js';
export {
  type CollectorOptions,
  collectorOptionsSchema,
  SessionCollector,
  type SessionJson,
  type SessionSummaryJson,
  sessionJsonSchema,
  sessionSummaryJsonSchema,
} from './session-collector.js';
export {
  type CollectorName,
  collectorNames,
  SessionRegistry,
  type SessionRegistryOptions,
  type WebRtcSessionInfo,
} from './session-registry.js';
