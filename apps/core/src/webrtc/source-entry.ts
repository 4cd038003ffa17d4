import {
  type MediaPlan,
  producedRenditions,
  type RenditionPlan,
  vp8PayloadType,
  type WebRtcConfig,
} from '@dragon/ffmpeg-args';
import type { PortAllocator, RtpPortSet } from '@dragon/portalloc';
import { type FanoutPlane, RtpSource } from '@dragon/webrtc';
import type { Vp8OnDemand } from './vp8-on-demand.js';
import type { Run } from './webrtc-run.js';

/** A process's source, the ports it holds, and its latest run. */
export interface SourceEntry {
  source: RtpSource;
  ports: RtpPortSet;
  /** The `webrtc` block the source was opened for; a change means new sockets and legs. */
  webrtc: string;
  /** The renditions it has ports for (`480p,360p`), one leg each; another ladder means new sockets. */
  renditions: string;
  run: Run | undefined;
  /** The VP8 rendition's FFmpeg, with `vp8: 'on-demand'`: its track is the source's last. */
  vp8?: Vp8OnDemand | undefined;
}

/**
 * The renditions a source has tracks for: those the process's FFmpeg makes (its legs take the first
 * ports), then the VP8 made on demand, when it can be made, on the last.
 */
export function sourceRenditions(
  plan: MediaPlan,
  onDemandPossible: boolean,
): { produced: RenditionPlan[]; onDemand: RenditionPlan | undefined; renditions: RenditionPlan[] } {
  const produced = producedRenditions(plan);
  const onDemand = onDemandPossible
    ? plan.renditions.find((rendition) => rendition.action === 'on-demand')
    : undefined;
  return { produced, onDemand, renditions: onDemand ? [...produced, onDemand] : produced };
}

/** What a source was opened with: a plan that makes other renditions needs another source. */
export function renditionKey(renditions: readonly RenditionPlan[]): string {
  return renditions.map((rendition) => rendition.id).join(',');
}

export interface OpenSourceOptions {
  id: string;
  webrtc: WebRtcConfig;
  /** `JSON.stringify(webrtc)`: what a later start compares its block with. */
  fingerprint: string;
  renditions: readonly RenditionPlan[];
  ports: PortAllocator;
  plane: FanoutPlane;
}

/** Leases the process's ports and opens its source on them; the ports go back if the source cannot open. */
export async function openSourceEntry(options: OpenSourceOptions): Promise<SourceEntry> {
  const { id, webrtc, renditions } = options;
  const ports = await options.ports.allocateRtpPorts(renditions.length);
  try {
    // Both sockets always: which tracks a run sends is decided per start (`setActiveTracks`).
    // Each rendition FFmpeg makes is a track of its own, on its own port, in the legs' order.
    const source = await RtpSource.open({
      id,
      video: { socket: ports.video.takeSocket(), payloadType: webrtc.video_pt },
      renditions: renditions.map((rendition, index) => ({
        id: rendition.id,
        codec: rendition.kind === 'vp8' ? 'vp8' : 'h264',
        bitrateKbit: rendition.bitrate_kbit,
        ...(rendition.height === undefined ? {} : { height: rendition.height }),
        socket: ports.renditions[index]!.takeSocket(),
        payloadType: rendition.kind === 'vp8' ? vp8PayloadType(webrtc) : webrtc.video_pt,
      })),
      audio: { socket: ports.audio.takeSocket(), payloadType: webrtc.audio_pt },
      plane: options.plane,
    });
    return {
      source,
      ports,
      webrtc: options.fingerprint,
      renditions: renditionKey(renditions),
      run: undefined,
    };
  } catch (error) {
    ports.release();
    throw error;
  }
}
