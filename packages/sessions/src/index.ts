/**
 * datarhei Core's session accounting: one collector per protocol counts sessions, their bytes and
 * rates, ends idle ones and keeps totals per remote, local and reference (`/api/v3/session`); a
 * registry holds datarhei's collectors and mirrors WebRTC viewers; HLS sessions are tracked from the
 * playlist and segment requests a file server sees.
 *
 * @example
 * const collector = new SessionCollector('rtmp', { ipIgnoreList: [] });
 * collector.registerAndActivate('/live/cam', 'cam', 'publish:/live/cam', '203.0.113.7:50000');
 * collector.ingress('/live/cam', 1316);
 * collector.summary().active.sessions; // 1
 */
export { SessionOptionsError } from './errors.js';
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
