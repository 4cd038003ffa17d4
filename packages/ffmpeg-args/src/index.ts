export { InvalidLegOptionsError } from './errors.js';
export type { WebRtcConfig, WebRtcConfigInput } from './webrtc-config.js';
export { webRtcConfigSchema } from './webrtc-config.js';
export type { RtpLeg, TrackKind, WebRtcLegOptions } from './webrtc-legs.js';
export { buildWebRtcLegs, legToArgs, maxRtpPacketSize } from './webrtc-legs.js';
