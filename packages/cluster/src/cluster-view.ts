import { DeclaredRoutes, errorAnswer, jsonAnswer, named, type RouteDeclaration } from '@dragon/http-routes';
import type { z } from 'zod';
import { clusterViewSchema, type NodeRecord, type ProcessRecord } from './cluster-records.js';

/** `GET /cluster`, relative to where the routes are mounted (the API's `/api/v3` group). */
const clusterView = {
  method: 'get',
  path: '/cluster',
  summary: 'The nodes, their load, and which process runs (and is pulled) where (with `cluster.enable`)',
  responses: {
    200: jsonAnswer('Cluster', named('Cluster', clusterViewSchema)),
    503: errorAnswer('The cluster store is unreachable'),
  },
} as const satisfies RouteDeclaration;

export interface ClusterViewOptions {
  nodeId: string;
  /** The node and process records in Redis now; rejects with `ClusterUnavailableError` without it. */
  read(): Promise<[NodeRecord[], ProcessRecord[]]>;
}

/** `GET /cluster`: the nodes, their load, and which process runs (and is pulled) where. */
export function clusterViewRoutes({ nodeId, read }: ClusterViewOptions): DeclaredRoutes {
  return new DeclaredRoutes().declare(clusterView, async (c) => {
    const [nodes, records] = await read();
    nodes.sort((a, b) => a.id.localeCompare(b.id));
    records.sort((a, b) => a.id.localeCompare(b.id));
    const live = new Set(nodes.map((node) => node.id));
    return c.json({
      node_id: nodeId,
      nodes: nodes.map((node) => ({
        ...node,
        processes: records.filter((record) => record.node === node.id).map((record) => record.id),
      })),
      processes: records.map((record) => ({
        id: record.id,
        node_id: record.node,
        node_live: live.has(record.node),
        order: record.order,
        exec: record.exec,
        failover: record.failover,
        pulled_by: nodes.filter((node) => node.pulling.includes(record.id)).map((node) => node.id),
      })),
    } satisfies z.infer<typeof clusterViewSchema>);
  });
}
