import type { ClusterConfig } from './cluster-config.js';
import type { NodeRecord } from './cluster-records.js';

/** What a heartbeat counts on this node now. */
export interface NodeCounts {
  viewers: number;
  processes: number;
  /** The processes this node pulls as an edge. */
  pulling: string[];
  /** Rates since the last heartbeat (`LoadSampler`). */
  rates: { cpuPercent: number; egressBps: number };
}

/** This node's record as its heartbeat writes it to Redis. */
export function nodeRecord(
  node: { config: ClusterConfig; version: string; startedAt: string; url: string },
  counts: NodeCounts,
): NodeRecord {
  const { config } = node;
  return {
    id: config.id,
    name: config.name,
    url: node.url,
    version: node.version,
    started_at: node.startedAt,
    heartbeat_at: Date.now(),
    load: {
      viewers: counts.viewers,
      max_viewers: config.webrtc.max_viewers,
      cpu_percent: Math.round(counts.rates.cpuPercent * 10) / 10,
      egress_bps: counts.rates.egressBps,
      pulls: counts.pulling.length,
      processes: counts.processes,
    },
    pulling: counts.pulling,
  };
}

/** Position among live nodes ordered by how many processes they run (then id): who takes over first. */
export function takeoverRank(nodes: Iterable<NodeRecord>, nodeId: string): number {
  const ordered = [...nodes].sort((a, b) => a.load.processes - b.load.processes || a.id.localeCompare(b.id));
  const index = ordered.findIndex((node) => node.id === nodeId);
  return index === -1 ? ordered.length : index;
}
