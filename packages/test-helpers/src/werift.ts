export { SyntheticSender, type SyntheticSenderOptions } from './synthetic-sender.js';
export { type ViewerKind, WeriftViewer, type WeriftViewerOptions } from './werift-viewer.js';
