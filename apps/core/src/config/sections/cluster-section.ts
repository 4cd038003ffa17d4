import { z } from 'zod';

/**
 * Cluster mode. datarhei's `cluster` section names what fits (`enable`, `sync_interval_sec`,
 * `node_recover_timeout_sec`); its raft keys (`address`, `peers`, `emergency_leader_timeout_sec`) have
 * no meaning here, because nodes coordinate through Redis instead of a consensus log
 * (docs/scale-out.md). The rest is Dragon's.
 */
export const clusterSection = z
  .object({
    /** Join the cluster through `redis_url`. Setting `CORE_CLUSTER_REDIS_URL` turns this on. */
    enable: z.boolean().default(false),
    /** `redis://[user:password@]host:port[/db]` or `rediss://` (TLS). */
    redis_url: z
      .union([z.literal(''), z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL')])
      .default(''),
    /** Every key this cluster writes starts with it, so clusters can share one Redis. */
    key_prefix: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, "_", "." or "-"')
      .default('dragon'),
    /**
     * Shared by every node, required in cluster mode (16+ characters): signs what nodes write to Redis
     * and the requests they make of each other (forwarded API calls).
     */
    secret: z.string().default(''),
    /** The base URL other nodes and redirected viewers reach this node at; empty: derived from `address`. */
    advertise_url: z
      .union([
        z.literal(''),
        z.string().regex(/^https?:\/\/[^/\s?#]+$/, 'must be http(s)://host[:port] without a path'),
      ])
      .default(''),
    /** Seconds between writes of this node's process records to Redis (they are also written on change). */
    sync_interval_sec: z.number().int().min(1).default(5),
    /** A node whose heartbeat is this old has left the cluster. */
    node_timeout_sec: z.number().int().min(2).default(6),
    /**
     * How long the processes of a node that left wait for it before another node takes over the ones
     * marked for failover. datarhei waits 120 s for its raft cluster; a Redis lease expires exactly.
     */
    node_recover_timeout_sec: z.number().int().min(2).default(15),
    /** An edge keeps pulling a stream this long after its last viewer left. */
    edge_idle_timeout_sec: z.number().int().min(0).default(30),
    /**
     * An offer is redirected to a node whose share of its viewer capacity is lower by more than this
     * (0–1); a full node always redirects. 1 turns balancing off.
     */
    balance_margin: z.number().min(0).max(1).default(0.2),
  })
  .prefault({});
