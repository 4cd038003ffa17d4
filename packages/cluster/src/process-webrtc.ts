import type { ProcessConfig } from '@dragon/restream';

/** The WebRTC block a process runs with: what the cluster reads of it (its token, for records). */
export interface ProcessWebRtc {
  config: NonNullable<ProcessConfig['webrtc']>;
}

/** The app's answer to "does this process send WebRTC, with which settings". */
export type WebRtcOf = (id: string, config: ProcessConfig) => ProcessWebRtc | undefined;

/** Without the app's policy: a process's own `webrtc` block, when it turns WebRTC on. */
export const ownWebRtc: WebRtcOf = (_id, config) =>
  config.webrtc?.enabled ? { config: config.webrtc } : undefined;
