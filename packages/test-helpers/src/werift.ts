export { SyntheticSender, type SyntheticSenderOptions } from './synthetic-sender.js';
export { loopbackPeerConnection } from './werift-loopback.js';
export {
  type IceFragment,
  iceFragment,
  sdpfrag,
  WeriftPublisher,
  withIceFragment,
} from './werift-publisher.js';
export { type ViewerKind, WeriftViewer, type WeriftViewerOptions } from './werift-viewer.js';
