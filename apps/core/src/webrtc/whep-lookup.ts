import type { ProcessConfig, ProcessManager } from '@dragon/restream';
import type { RtpSource } from '@dragon/webrtc';
import { type WhepProcessEntry, whepProcessState } from '@dragon/whep-http';
import type { ProcessWebRtc } from './webrtc-policy.js';

export interface WhepLookupOptions {
  manager: Pick<ProcessManager, 'has' | 'list' | 'getConfig' | 'getState'>;
  /** The WebRTC a process runs with (its own `webrtc` block, or `webrtc.auto_enable`'s). */
  webrtcOf: (id: string, config: ProcessConfig) => ProcessWebRtc | undefined;
  source(processId: string): RtpSource | undefined;
  /** Viewer limit per process; 0 is unlimited. */
  maxViewersPerProcess: number;
}

/** How often the "does any process have a viewer token" answer is recomputed (it clones configs). */
const tokenScanIntervalMs = 1000;

/**
 * What the WHEP routes learn about processes: each one's state, source, token and limit, and
 * whether any process has a viewer token (then unknown ids answer 401, like protected ones).
 */
export function createWhepLookup(options: WhepLookupOptions): {
  lookup(processId: string): WhepProcessEntry<RtpSource> | undefined;
  concealProcessIds(): boolean;
} {
  const { manager } = options;
  let tokensInUse = false;
  let scannedAt = Number.NEGATIVE_INFINITY;
  return {
    lookup(processId) {
      if (!manager.has(processId)) return undefined;
      const config = manager.getConfig(processId);
      const webrtc = options.webrtcOf(processId, config)?.config;
      if (!webrtc) return undefined;
      const source = options.source(processId);
      return {
        state: whepProcessState(manager.getState(processId), config.reconnect),
        ...(source ? { source } : {}),
        ...(webrtc.token ? { token: webrtc.token } : {}),
        ...(options.maxViewersPerProcess > 0 ? { maxViewers: options.maxViewersPerProcess } : {}),
      };
    },
    concealProcessIds() {
      const now = Date.now();
      if (now - scannedAt >= tokenScanIntervalMs) {
        scannedAt = now;
        tokensInUse = manager
          .list()
          .some((id) => Boolean(options.webrtcOf(id, manager.getConfig(id))?.config.token));
      }
      return tokensInUse;
    },
  };
}
