import type { RtmpMessage } from './rtmp-chunk-reader.js';
import { ChunkStreamId, chunkMessage, MessageType } from './rtmp-chunk-writer.js';

/** What a published message is to a player that joins late. */
export type MediaKind = 'audio-header' | 'video-header' | 'metadata' | 'keyframe' | 'frame';

const SoundFormat = { aac: 10, exHeader: 9 } as const;
const VideoCodec = { avc: 7, hevc: 12 } as const;
/** Enhanced RTMP packet types (audio and video share 0 for the sequence start). */
const PacketType = { sequenceStart: 0, codedFrames: 1, codedFramesX: 3, mpeg2TsSequenceStart: 5 } as const;
const keyFrame = 1;

/**
 * The FLV tag header of an audio or video message tells sequence headers and keyframes apart
 * (FLV 10.1 §E.4.2, §E.4.3; Enhanced RTMP v1/v2 for `ExHeader` audio and video, where a FourCC
 * names the codec — HEVC, AV1, VP9 and, from newer encoders, AVC too).
 */
export function mediaKind(message: RtmpMessage): MediaKind {
  const { payload } = message;
  if (message.type === MessageType.amf0Data) return 'metadata';
  const first = payload[0] ?? 0;
  if (message.type === MessageType.audio) {
    const format = first >> 4;
    if (format === SoundFormat.aac && payload[1] === 0) return 'audio-header';
    if (format === SoundFormat.exHeader && (first & 0x0f) === PacketType.sequenceStart) return 'audio-header';
    return 'frame';
  }
  if (first & 0x80) {
    const packetType = first & 0x0f;
    if (packetType === PacketType.sequenceStart || packetType === PacketType.mpeg2TsSequenceStart)
      return 'video-header';
    const coded = packetType === PacketType.codedFrames || packetType === PacketType.codedFramesX;
    return coded && ((first >> 4) & 0x07) === keyFrame ? 'keyframe' : 'frame';
  }
  const codec = first & 0x0f;
  if ((codec === VideoCodec.avc || codec === VideoCodec.hevc) && payload[1] === 0) return 'video-header';
  return first >> 4 === keyFrame ? 'keyframe' : 'frame';
}

/**
 * A published audio, video or data message as chunks for players, written once and sent to each.
 * Message stream 1 is the one every player gets from its first `createStream`.
 */
export function playerMessage(message: RtmpMessage): Buffer {
  const chunkStreamId =
    message.type === MessageType.audio
      ? ChunkStreamId.audio
      : message.type === MessageType.video
        ? ChunkStreamId.video
        : ChunkStreamId.data;
  return chunkMessage({
    chunkStreamId,
    type: message.type,
    streamId: 1,
    timestamp: message.timestamp,
    payload: message.payload,
  });
}
