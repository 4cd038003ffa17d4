export {
  FanoutUnavailableError,
  FanoutWorkerDiedError,
  IcePortsExhaustedError,
  InvalidSdpError,
  NoUsableCodecError,
  RemoteCandidateRefusedError,
  RenditionConfigError,
  SourceClosedError,
  UdpMuxError,
} from './errors.js';
export type {
  DataPlanePriority,
  FanoutPlaneEvents,
  FanoutPlaneOptions,
  WorkerRestart,
} from './fanout/fanout-plane.js';
export { FanoutPlane } from './fanout/fanout-plane.js';
export type { IceTcpMuxOptions } from './ice/ice-tcp-mux.js';
export { IceTcpMux } from './ice/ice-tcp-mux.js';
export type { RemoteCandidatePolicy } from './ice/remote-candidates.js';
export type { UdpMuxOptions, UdpMuxStats } from './ice/udp-mux.js';
export { UdpMux } from './ice/udp-mux.js';
export type { VideoHealth } from './ingest/h264-inspector.js';
export {
  H264Inspector,
  h264HealthFieldCount,
  h264HealthFields,
  readVideoHealth,
} from './ingest/h264-inspector.js';
export type { ForwarderStats } from './ingest/publication-forwarder.js';
export type {
  RenditionInfo,
  RenditionInput,
  RtpSourceOptions,
  RtpTrackInput,
  TrackKind,
  TrackStats,
  VideoCodec,
  VideoTrackInput,
} from './ingest/rtp-source.js';
export { RtpSource } from './ingest/rtp-source.js';
export type { IceRestartAnswer, IceRestartRequest } from './session/ice-restart.js';
export type { PeerCloseReason, PeerState, ViewerAdaptationState } from './session/peer.js';
export { Peer } from './session/peer.js';
export type { IceServer, PeerFactoryOptions } from './session/peer-factory.js';
export { PeerFactory } from './session/peer-factory.js';
export type { PublisherFactoryOptions } from './session/publisher-factory.js';
export { PublisherFactory } from './session/publisher-factory.js';
export type { PublisherCloseReason, PublisherState } from './session/publisher-peer.js';
export { PublisherPeer } from './session/publisher-peer.js';
export { checkOffer, offeredVideoCodec } from './session/sdp-negotiation.js';
export type { SimulcastOffer } from './session/simulcast-offer.js';
export { maxSimulcastLayers, readSimulcastOffer } from './session/simulcast-offer.js';
export type { FeedTarget, RtspFeedOptions } from './tap/rtsp-feed.js';
export { RtspFeed } from './tap/rtsp-feed.js';
export type { SourceTapOptions, TapTracks } from './tap/source-tap.js';
export { SourceTap, tapPayloadTypes } from './tap/source-tap.js';
