/**
 * @dragon/cluster — Dragon nodes as one cluster, coordinated through Redis: each node's heartbeat
 * and load, one lease per process (failover of processes marked for it), edge pulls of processes
 * other nodes run, WHEP placement and the process API across nodes. Every record in Redis and every
 * call between nodes is signed with the shared `cluster.secret`.
 */

/** This node's part in the cluster: `Cluster.connect`, then `attach` once the process manager exists. */
export { Cluster } from './cluster.js';
/** The settings a node needs (`Cluster.connect`'s `config`), in the shape of Dragon's config file. */
export { type ClusterConfig, clusterConfigSchema } from './cluster-config.js';
export type { ClusterMedia, ClusterOptions, WhepLookup } from './cluster-options.js';
/** The body of `GET /api/v3/cluster`: the nodes and the processes they run. */
export { clusterViewSchema } from './cluster-records.js';
export {
  ClusterConfigInvalidError,
  ClusterUnavailableError,
  EdgePullError,
  NodeUnreachableError,
  ProcessExistsOnNodeError,
  ProcessHeldElsewhereError,
} from './errors.js';
/** How the app tells the cluster which processes send WebRTC (`ClusterOptions.webrtcOf`). */
export type { ProcessWebRtc, WebRtcOf } from './process-webrtc.js';
