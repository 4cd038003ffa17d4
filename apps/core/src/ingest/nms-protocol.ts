import { createRequire } from 'node:module';

/**
 * The RTMP protocol engine of node-media-server (handshake incl. the digest variant, chunk streams,
 * AMF0/AMF3 commands, enhanced RTMP codecs), used without the rest of that server: its application
 * layer keeps global state, logs to the console and exits the process on a listen error, so Dragon
 * does routing, auth, fan-out and accounting itself (`rtmp-server.ts`).
 *
 * This reaches into the package's files (`src/protocol/rtmp.js`), which are not a published API: the
 * version is pinned exactly in package.json, checked against `nmsVersion` by `nms-protocol.test.ts`,
 * and the RTMP tests publish and play through it with real FFmpeg.
 */
export const nmsVersion = '4.4.3';

/** node-media-server's AVPacket. */
export interface NmsPacket {
  codec_id: number;
  /** RTMP message type: 8 audio, 9 video, 18 data. */
  codec_type: number;
  /** 0 audio sequence header, 1 audio, 2 video sequence header, 3 keyframe, 4 inter frame, 5 metadata. */
  flags: number;
  pts: number;
  dts: number;
  size: number;
  data: Buffer;
}

export interface NmsConnectRequest {
  app: string;
  name: string;
  host: string;
  query: Record<string, string | string[] | undefined>;
}

/** One connection's protocol state; the callbacks are how it talks back. */
export interface NmsRtmp {
  onConnectCallback: (request: NmsConnectRequest) => void;
  onPlayCallback: () => void;
  onPushCallback: () => void;
  onPacketCallback: (packet: NmsPacket) => void;
  onOutputCallback: (buffer: Buffer) => void;
  /** Feeds received bytes; a string is a protocol error. */
  parserData(buffer: Buffer): string | null;
}

interface NmsRtmpClass {
  new (): NmsRtmp;
  /** One media message as RTMP chunks, ready to write to any player. */
  createMessage(packet: NmsPacket): Buffer;
}

const require = createRequire(import.meta.url);

export const NmsRtmpProtocol = require('node-media-server/src/protocol/rtmp.js') as NmsRtmpClass;

/** The installed package's version, for the pin check. */
export function installedNmsVersion(): string {
  return (require('node-media-server/package.json') as { version: string }).version;
}
