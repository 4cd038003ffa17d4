import { execStateSchema } from '@dragon/restream';
import { z } from 'zod';

/**
 * What nodes write to Redis. Everything here is soft state: a node's record lives as long as its
 * heartbeat, a process record is written again by its owner every sync, and a lost Redis is filled
 * again from the nodes' own stores within one sync interval.
 */

/** One node's load, as its heartbeat reports it. */
const nodeLoadSchema = z.object({
  /** Connected WebRTC peers on this node (viewers, and pulls of edges served as origin). */
  viewers: z.number().int().min(0),
  /** The viewer limit placement fills nodes against (`webrtc.max_viewers`); 0 for none. */
  max_viewers: z.number().int().min(0),
  /** Busy share of all CPUs of the machine over the last heartbeat interval, 0–100. */
  cpu_percent: z.number().min(0).max(100),
  /** What peers sent over the last heartbeat interval, bits per second. */
  egress_bps: z.number().min(0),
  /** Streams this node pulls from other nodes (one per process, whatever its viewer count). */
  pulls: z.number().int().min(0),
  /** Processes this node runs (owns). */
  processes: z.number().int().min(0),
});

export const nodeRecordSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  /** Base URL of the node's API and WHEP endpoints, e.g. `http://10.0.0.5:8080`. */
  url: z.string().min(1),
  version: z.string(),
  /** ISO time this node (this config) started. */
  started_at: z.string(),
  /** Unix milliseconds of the heartbeat that wrote this record. */
  heartbeat_at: z.number().int(),
  load: nodeLoadSchema,
  /** Processes this node pulls as an edge. */
  pulling: z.array(z.string()),
});
export type NodeRecord = z.infer<typeof nodeRecordSchema>;

/** The part of a process's `webrtc` block an edge needs to serve it. */
const edgeWebRtcSchema = z.object({
  enabled: z.boolean(),
  /** Whether the process may send audio (its `webrtc.audio` is not `off`): the edge opens a track for it. */
  audio: z.boolean(),
  /** The per-process viewer token; edges enforce it as the owner does. */
  token: z.string(),
});

export const processRecordSchema = z.object({
  id: z.string().min(1),
  /** The node that owns (runs) it. */
  node: z.string().min(1),
  reference: z.string(),
  /** Unix seconds, as the process API answers. */
  created_at: z.number().int(),
  /** Unix seconds its config was last replaced, as the process API answers. */
  updated_at: z.number().int(),
  /** Unix milliseconds of the owner's last write. */
  written_at: z.number().int(),
  order: z.enum(['start', 'stop']),
  /** What FFmpeg was doing at `written_at`. */
  exec: execStateSchema,
  /** The config's `reconnect`: whether a failed run comes back by itself. */
  reconnect: z.boolean(),
  /** Restart it on another node when its owner is gone for `node_recover_timeout_sec`. */
  failover: z.boolean(),
  webrtc: edgeWebRtcSchema,
  /** The process config as the owner's API shows it (replicated so another node can take it over). */
  config: z.record(z.string(), z.unknown()),
  /** The process state as the owner's API showed it at `written_at`. */
  state: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.unknown()),
});
export type ProcessRecord = z.infer<typeof processRecordSchema>;

/** `GET /api/v3/cluster`: the nodes, their load, and which process runs (and is pulled) where. */
export const clusterViewSchema = z.object({
  node_id: z.string(),
  nodes: z.array(nodeRecordSchema.extend({ processes: z.array(z.string()) })),
  processes: z.array(
    z.object({
      id: z.string(),
      node_id: z.string(),
      node_live: z.boolean(),
      order: processRecordSchema.shape.order,
      exec: execStateSchema,
      failover: z.boolean(),
      pulled_by: z.array(z.string()),
    }),
  ),
});

/**
 * Where to mark a process for failover: process metadata `cluster` = `{ "failover": true }`, set with
 * `PUT /api/v3/process/{id}/metadata/cluster`. Metadata travels with the process, so the node that
 * takes it over keeps the mark.
 */
const clusterMetadataKey = 'cluster';
const clusterMetadataSchema = z.object({ failover: z.boolean().default(false) }).loose();

export function isMarkedForFailover(metadata: unknown): boolean {
  const entry = (metadata as Record<string, unknown> | undefined)?.[clusterMetadataKey];
  const parsed = clusterMetadataSchema.safeParse(entry);
  return parsed.success && parsed.data.failover;
}

/** Key names under one prefix, so clusters can share a Redis. */
export class ClusterKeys {
  constructor(readonly prefix: string) {}

  node(id: string): string {
    return `${this.prefix}:node:${id}`;
  }

  get nodePattern(): string {
    return `${this.prefix}:node:*`;
  }

  process(id: string): string {
    return `${this.prefix}:process:${id}`;
  }

  get processPattern(): string {
    return `${this.prefix}:process:*`;
  }

  /** The lease that says which node runs a process; whoever holds it may run it, nobody else. */
  owner(id: string): string {
    return `${this.prefix}:owner:${id}`;
  }

  /** The id at the end of a key of one of the patterns. */
  idOf(key: string): string {
    return key.slice(key.indexOf(':', this.prefix.length + 1) + 1);
  }
}
