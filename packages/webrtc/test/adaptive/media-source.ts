/**
 * What FFmpeg's legs put into the data plane, in sizes: every rendition encodes every frame at 25
 * fps (one decode, N encodes), a keyframe five times a P-frame's size every `gopMs`, the sizes
 * averaging the rendition's bitrate; frames are cut into RTP packets of at most 1200 bytes of
 * payload. Audio: one Opus packet every 20 ms.
 */

export interface RenditionSpec {
  bitrateBps: number;
  /** Keyframe interval: 500 ms for the ladder's rungs, the camera's GOP for a copied top. */
  gopMs: number;
}

/** RTP header, the transport-cc header extension and the SRTP tag: the datagram beyond its payload. */
export const packetOverheadBytes = 12 + 8 + 10;
const frameMs = 40;
const maxPayload = 1200;
const keyframeRatio = 5;
const audioPayloadBytes = 160;

export interface Frame {
  rendition: number;
  keyframe: boolean;
  /** Datagram sizes of its packets. */
  packets: number[];
}

export class MediaSource {
  constructor(readonly renditions: readonly RenditionSpec[]) {}

  /** The frames every rendition produces at trace time `atMs` (a multiple of 40 ms), else none. */
  framesAt(atMs: number): Frame[] {
    if (atMs % frameMs !== 0) return [];
    return this.renditions.map((spec, rendition) => {
      const framesPerGop = Math.max(1, Math.round(spec.gopMs / frameMs));
      // Rungs' keyframes fall at different times (their encoders started at different frames).
      const index = atMs / frameMs + rendition * 3;
      const keyframe = index % framesPerGop === 0;
      const averageBytes = spec.bitrateBps / 8 / (1000 / frameMs);
      const pFrameBytes = (averageBytes * framesPerGop) / (framesPerGop - 1 + keyframeRatio);
      const bytes = Math.round(keyframe ? keyframeRatio * pFrameBytes : pFrameBytes);
      const count = Math.max(1, Math.ceil(bytes / maxPayload));
      const packets = Array.from({ length: count }, () => Math.ceil(bytes / count) + packetOverheadBytes);
      return { rendition, keyframe, packets };
    });
  }

  /** Datagram size of an audio packet at `atMs`, or 0 when none is due. */
  audioAt(atMs: number): number {
    return atMs % 20 === 0 ? audioPayloadBytes + packetOverheadBytes : 0;
  }
}
