/**
 * datarhei Core's RTMP/RTMPS and SRT servers: publish and play by stream name on one port each,
 * bounded against hostile peers. The host hands in a logger and session accounting at `start()`.
 *
 * @example
 * const server = await RtmpServer.start({ address: ':1935', app: '/live' }, accounting, logger);
 * server.channels(); // ['/live/cam'] while FFmpeg publishes rtmp://host:1935/live/cam
 * await server.close();
 */
export {
  IngestListenError,
  RtmpLimitError,
  RtmpProtocolError,
  RtmpRefusedError,
  RtmpTimeoutError,
  SrtSocketError,
  SrtUnavailableError,
} from './errors.js';
export { listenAddressSchema } from './listen-address.js';
export { type RtmpServerOptions, rtmpServerDefaults, rtmpServerOptionsSchema } from './rtmp-options.js';
export { RtmpServer, rtmpChannelsSchema } from './rtmp-server.js';
export type { IngestAccounting, IngestLogger } from './seams.js';
export { type SrtChannelsJson, srtChannelsJsonSchema } from './srt-channels.js';
export { SrtServer, type SrtServerOptions, srtServerOptionsSchema } from './srt-server.js';
