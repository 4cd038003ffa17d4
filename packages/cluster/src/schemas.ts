// The zod schemas alone (`@dragon/cluster/schemas`): an API description or a config check can use
// them without loading the Redis client, which a single node never needs.
export { type ClusterConfig, clusterConfigSchema } from './cluster-config.js';
export { clusterViewSchema } from './cluster-records.js';
