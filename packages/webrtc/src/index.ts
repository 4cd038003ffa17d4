export {
  IcePortsExhaustedError,
  InvalidSdpError,
  NoUsableCodecError,
  SourceAlreadyRegisteredError,
  SourceClosedError,
  UdpMuxError,
} from './errors.js';
export { startsKeyframe } from './h264.js';
export type { IceTcpMuxOptions } from './ice-tcp-mux.js';
export { IceTcpMux } from './ice-tcp-mux.js';
export type { PeerCloseReason, PeerState } from './peer.js';
export { Peer } from './peer.js';
export type { IceServer, PeerFactoryOptions } from './peer-factory.js';
export { PeerFactory } from './peer-factory.js';
export { RtpContinuity } from './rtp-continuity.js';
export type { RtpHeaderView } from './rtp-header.js';
export { isLoopbackAddress, readRtpHeader } from './rtp-header.js';
export type { MediaSink, RtpSourceOptions, RtpTrackInput, TrackKind, TrackStats } from './rtp-source.js';
export { RtpSource } from './rtp-source.js';
export { SourceRegistry } from './source-registry.js';
export { useKeyObjectsForSrtp } from './srtp-keys.js';
export type { UdpMuxOptions, UdpMuxStats } from './udp-mux.js';
export { UdpMux } from './udp-mux.js';
export { withoutDefaultStunServer } from './werift-quirks.js';
