import type { PortAllocator } from '@dragon/portalloc';
import type { RtpSource } from '@dragon/webrtc';
import type { WhepProcessEntry } from '@dragon/whep-http';
import type { Logger } from 'pino';
import type { ClusterConfig } from './cluster-config.js';
import type { WebRtcOf } from './process-webrtc.js';

export interface ClusterOptions {
  /** This node's settings (`clusterConfigSchema`); validated by `connect`. */
  config: ClusterConfig;
  /** The server's logger; the cluster's parts log under their own `component`. */
  logger: Logger;
  /** Dragon's version, shown in the node records. */
  version: string;
  /** `host:port` the HTTP server listens on; port 0 until it does (the advertised URL needs the real one). */
  httpAddress: () => string;
  /** The WebRTC a process runs with (its own `webrtc` block, or `webrtc.auto_enable`'s). */
  webrtcOf?: WebRtcOf;
}

/** What the cluster needs of the node's media plane (WebRTC on): to pull streams and count load. */
export interface ClusterMedia {
  ports: PortAllocator;
  /** The viewer count (WHEP sessions) of one process, or of all when no id is given. */
  viewers(processId?: string): number;
  /** The RTP source of a process this node runs, while it has one. */
  source(processId: string): RtpSource | undefined;
  /** An edge stream closed for good: drop its viewers' sessions. */
  sourceClosed(processId: string): void;
}

/** What the WHEP routes learn about processes (see `createWhepLookup`). */
export interface WhepLookup {
  lookup(processId: string): WhepProcessEntry<RtpSource> | undefined;
  concealProcessIds(): boolean;
}
