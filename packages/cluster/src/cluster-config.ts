import { z } from 'zod';

const seconds = (min: number) => z.number().int().min(min);

/**
 * What a node of the cluster needs to know, in the shape of Dragon's config file (the app maps its
 * parsed config into it; defaults and the documentation of each key live with the app's config).
 * Validated again here because a user of this package may build it by hand.
 */
export const clusterConfigSchema = z.object({
  /** This node's id: unique in the cluster, kept across restarts. */
  id: z.string().min(1),
  /** Shown in the node records. */
  name: z.string(),
  host: z.object({
    /** Public host names; the first is advertised when the HTTP server listens on every address. */
    name: z.array(z.string()),
  }),
  webrtc: z.object({
    /** The node-wide WHEP bearer token (empty: none); edge pulls and redirects honour it. */
    token: z.string(),
    /** Addresses ICE gathers on; edge pulls use the same ones. */
    interfaces: z.array(z.string()),
    /** Viewers over all processes (0: no limit); the node's capacity for placement. */
    max_viewers: z.number().int().min(0),
    /** Viewers per process (0: only `max_viewers`). */
    max_viewers_per_process: z.number().int().min(0),
  }),
  cluster: z.object({
    /** `redis://[user:password@]host:port[/db]` or `rediss://`. */
    redis_url: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL'),
    /** Every key this cluster writes starts with it. */
    key_prefix: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
    /** Shared by every node: signs the records in Redis and the requests nodes make of each other. */
    secret: z.string().min(16, 'must be at least 16 characters, the same on every node'),
    /** The base URL other nodes reach this node at; empty: derived from the listen address. */
    advertise_url: z.union([z.literal(''), z.string().regex(/^https?:\/\/[^/\s?#]+$/)]),
    sync_interval_sec: seconds(1),
    node_timeout_sec: seconds(2),
    node_recover_timeout_sec: seconds(2),
    edge_idle_timeout_sec: seconds(0),
    /** 0–1: an offer is redirected to a node less loaded by more than this share. */
    balance_margin: z.number().min(0).max(1),
  }),
});

export type ClusterConfig = z.infer<typeof clusterConfigSchema>;
