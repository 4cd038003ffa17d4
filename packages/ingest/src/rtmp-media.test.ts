import { describe, expect, it } from 'vitest';
import { ChunkReader, type RtmpMessage } from './rtmp-chunk-reader.js';
import { type MediaKind, mediaKind, playerMessage } from './rtmp-media.js';

const message = (type: number, bytes: number[], timestamp = 0): RtmpMessage => ({
  type,
  streamId: 1,
  timestamp,
  payload: Buffer.from(bytes),
});

describe('published media', () => {
  it.each<[string, RtmpMessage, MediaKind]>([
    ['an AAC sequence header', message(8, [0xaf, 0x00, 0x12, 0x10]), 'audio-header'],
    ['an AAC frame', message(8, [0xaf, 0x01, 0x21]), 'frame'],
    ['an MP3 frame', message(8, [0x2f, 0xff]), 'frame'],
    ['an enhanced audio sequence start (Opus)', message(8, [0x90, ...Buffer.from('Opus')]), 'audio-header'],
    ['an AVC sequence header', message(9, [0x17, 0x00, 0, 0, 0, 1]), 'video-header'],
    ['an AVC keyframe', message(9, [0x17, 0x01, 0, 0, 0]), 'keyframe'],
    ['an AVC inter frame', message(9, [0x27, 0x01, 0, 0, 0]), 'frame'],
    ['an enhanced HEVC sequence start', message(9, [0x90, ...Buffer.from('hvc1'), 1]), 'video-header'],
    [
      'an enhanced HEVC keyframe (CodedFrames)',
      message(9, [0x91, ...Buffer.from('hvc1'), 0, 0, 0]),
      'keyframe',
    ],
    ['an enhanced HEVC keyframe (CodedFramesX)', message(9, [0x93, ...Buffer.from('hvc1')]), 'keyframe'],
    ['an enhanced HEVC inter frame', message(9, [0xa1, ...Buffer.from('hvc1'), 0, 0, 0]), 'frame'],
    ['an enhanced AV1 sequence end on a key frame type', message(9, [0x92, ...Buffer.from('av01')]), 'frame'],
    ['metadata', message(18, [0x02, 0x00, 0x01, 0x40]), 'metadata'],
  ])('tells %s', (_, input, kind) => {
    expect(mediaKind(input)).toBe(kind);
  });

  it('writes a message for players that reads back the same, extended timestamp included', () => {
    const payload = Buffer.alloc(10_000, 3);
    for (const timestamp of [0, 40, 0xffffff, 0x1_0000_00 + 5]) {
      const received: RtmpMessage[] = [];
      const reader = new ChunkReader(
        { maxMessageBytes: 0xffffff, maxChunkStreams: 8, maxBufferedBytes: 1 << 24 },
        (read) => received.push(read),
      );
      // The players were told the server's chunk size at connect.
      reader.push(Buffer.from([0x02, 0, 0, 0, 0, 0, 4, 0x01, 0, 0, 0, 0, 0, 0, 0x10, 0x00]));
      reader.push(playerMessage(message(9, [...payload], timestamp)));
      expect(received).toEqual([{ type: 9, streamId: 1, timestamp, payload }]);
    }
  });
});
