import { type Amf0Value, encodeAmf0 } from './rtmp-amf0.js';

/**
 * Messages the server sends, as chunks (RTMP 1.0 §5.3): the first chunk with a type 0 header, the
 * rest type 3, each with the extended timestamp when the message has one (§5.3.1.3).
 */

/** The chunk size the server announces right after `connect` and writes every message with. */
export const outChunkSize = 4096;

/** Chunk stream ids the server writes on (node-media-server's, which players already accept). */
export const ChunkStreamId = { control: 2, command: 3, audio: 4, video: 5, data: 6 } as const;

export const MessageType = {
  setChunkSize: 1,
  acknowledgement: 3,
  userControl: 4,
  windowAcknowledgementSize: 5,
  setPeerBandwidth: 6,
  audio: 8,
  video: 9,
  amf3Data: 15,
  amf3Command: 17,
  amf0Data: 18,
  amf0Command: 20,
} as const;

export interface OutgoingMessage {
  chunkStreamId: number;
  type: number;
  streamId: number;
  timestamp: number;
  payload: Buffer;
}

/** `message` as chunks of {@link outChunkSize} bytes; `chunkStreamId` must be 2–63. */
export function chunkMessage(message: OutgoingMessage): Buffer {
  const { payload } = message;
  const extended = message.timestamp >= 0xffffff;
  const extendedBytes = extended ? 4 : 0;
  const chunks = Math.max(1, Math.ceil(payload.length / outChunkSize));
  const out = Buffer.allocUnsafe(12 + extendedBytes + payload.length + (chunks - 1) * (1 + extendedBytes));
  out[0] = message.chunkStreamId;
  out.writeUIntBE(extended ? 0xffffff : message.timestamp, 1, 3);
  out.writeUIntBE(payload.length, 4, 3);
  out[7] = message.type;
  out.writeUInt32LE(message.streamId, 8);
  let at = 12;
  if (extended) at = out.writeUInt32BE(message.timestamp, at);
  for (let from = 0; from < payload.length; from += outChunkSize) {
    if (from > 0) {
      out[at++] = 0xc0 | message.chunkStreamId;
      if (extended) at = out.writeUInt32BE(message.timestamp, at);
    }
    at += payload.copy(out, at, from, Math.min(from + outChunkSize, payload.length));
  }
  return out;
}

function control(type: number, payload: Buffer): Buffer {
  return chunkMessage({ chunkStreamId: ChunkStreamId.control, type, streamId: 0, timestamp: 0, payload });
}

function uint32(value: number, extra: number[] = []): Buffer {
  const payload = Buffer.alloc(4 + extra.length);
  payload.writeUInt32BE(value >>> 0);
  payload.set(extra, 4);
  return payload;
}

export const controlMessage = {
  setChunkSize: (size: number) => control(MessageType.setChunkSize, uint32(size)),
  acknowledgement: (received: number) => control(MessageType.acknowledgement, uint32(received)),
  windowAcknowledgementSize: (size: number) => control(MessageType.windowAcknowledgementSize, uint32(size)),
  /** Limit type 2: dynamic. */
  setPeerBandwidth: (size: number) => control(MessageType.setPeerBandwidth, uint32(size, [2])),
  /** User control event 0, Stream Begin (§7.1.7). */
  streamBegin: (streamId: number) =>
    control(MessageType.userControl, Buffer.from([0, 0, ...uint32(streamId)])),
};

/** An AMF0 command message (`_result`, `onStatus`, …). */
export function commandMessage(streamId: number, values: readonly Amf0Value[]): Buffer {
  return chunkMessage({
    chunkStreamId: ChunkStreamId.command,
    type: MessageType.amf0Command,
    streamId,
    timestamp: 0,
    payload: encodeAmf0(values),
  });
}

/** An AMF0 data message (`|RtmpSampleAccess`). */
export function dataMessage(streamId: number, values: readonly Amf0Value[]): Buffer {
  return chunkMessage({
    chunkStreamId: ChunkStreamId.data,
    type: MessageType.amf0Data,
    streamId,
    timestamp: 0,
    payload: encodeAmf0(values),
  });
}
