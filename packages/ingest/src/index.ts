export {
  IngestListenError,
  RtmpLimitError,
  RtmpProtocolError,
  RtmpRefusedError,
  RtmpTimeoutError,
  SrtSocketError,
  SrtUnavailableError,
} from './errors.js';
export { type RtmpServerOptions, rtmpServerDefaults, rtmpServerOptionsSchema } from './rtmp-options.js';
export { type IngestLogger, RtmpServer, rtmpChannelsSchema } from './rtmp-server.js';
export { type SrtChannelsJson, srtChannelsJsonSchema } from './srt-channels.js';
export { SrtServer, type SrtServerOptions, srtServerOptionsSchema } from './srt-server.js';
