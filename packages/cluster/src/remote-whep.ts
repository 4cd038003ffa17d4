import type { RtpSource } from '@dragon/webrtc';
import { type WhepProcessEntry, type WhepProcessState, whepProcessState } from '@dragon/whep-http';
import type { ProcessRecord } from './cluster-records.js';

/** What this node knows of a process another node runs. */
export interface RemoteProcess {
  /** This node's pull of it (an edge source), while there is one. */
  source: RtpSource | undefined;
  /** The viewer token the pull learnt from the owner. */
  pullToken: string | undefined;
  /** Its record as of the last sync. */
  record: ProcessRecord | undefined;
}

/**
 * The WHEP entry of another node's process: served from this node's pull of it, else as its record
 * says (so an offer that cannot be served yet is a 409 or 503 with `Retry-After`, not a 404).
 */
export function remoteWhepEntry(
  { source, pullToken, record }: RemoteProcess,
  isLive: (nodeId: string) => boolean,
  maxViewers: number,
): WhepProcessEntry<RtpSource> | undefined {
  if (!source && !record?.webrtc.enabled) return undefined;
  const token = pullToken ?? record?.webrtc.token ?? '';
  // A pull feeds the source: the routes answer once it has media. Without one, the record says.
  const state: WhepProcessState = source || !record ? 'running' : recordState(record, isLive);
  return {
    state,
    ...(source ? { source } : {}),
    ...(token ? { token } : {}),
    ...(maxViewers > 0 ? { maxViewers } : {}),
  };
}

/** Where another node's process stands for a viewer, as of its last record. */
function recordState(record: ProcessRecord, isLive: (nodeId: string) => boolean): WhepProcessState {
  if (isLive(record.node)) return whepProcessState(record, record.reconnect);
  if (record.order !== 'start') return 'stopped';
  // Its node is gone: a marked process comes back on another node soon; another waits for its node.
  return record.failover ? 'starting' : 'failing';
}
