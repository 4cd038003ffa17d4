import type { NodeRecord } from './cluster-records.js';

export interface PlacementInput {
  processId: string;
  /** This node, with its load as of now. */
  self: { id: string; viewers: number; maxViewers: number };
  /** The live nodes (this one may be among them; its record is ignored in favour of `self`). */
  nodes: readonly NodeRecord[];
  /** The node that runs the process. */
  owner: string | undefined;
  /** See `cluster.balance_margin`. */
  margin: number;
}

export type Placement = { serve: 'here' } | { redirect: NodeRecord };

/** Share of its viewer capacity a node uses; a node without a limit never fills. */
function viewerShare(viewers: number, maxViewers: number): number {
  return maxViewers > 0 ? viewers / maxViewers : 0;
}

/**
 * Where a viewer's offer is best served. Here, unless this node is full or another node is emptier by
 * more than `margin` of its capacity; then the emptiest node that is not full, preferring one that
 * already has the stream (its owner, or an edge already pulling it: no new pull needed).
 *
 * Viewers, not CPU, decide: every node of a machine sees the same CPU, and a one-second CPU sample
 * swings by more than any sensible margin (docs/scale-out.md), while a viewer count is exact.
 */
export function choosePlacement(input: PlacementInput): Placement {
  const { processId, self, nodes, owner, margin } = input;
  const mine = viewerShare(self.viewers, self.maxViewers);
  const hasStream = (node: NodeRecord) => node.id === owner || node.pulling.includes(processId);
  const share = (node: NodeRecord) => viewerShare(node.load.viewers, node.load.max_viewers);
  const candidates = nodes
    .filter((node) => node.id !== self.id && share(node) < 1)
    .sort(
      (a, b) =>
        share(a) - share(b) || Number(hasStream(b)) - Number(hasStream(a)) || a.id.localeCompare(b.id),
    );
  const emptiest = candidates[0];
  if (emptiest === undefined) return { serve: 'here' };
  const full = self.maxViewers > 0 && self.viewers >= self.maxViewers;
  if (!full && share(emptiest) + margin >= mine) return { serve: 'here' };
  // Among the nodes about as empty as the emptiest, one that has the stream saves a pull.
  const withStream = candidates.find(
    (node) => hasStream(node) && share(node) <= share(emptiest) + margin / 2,
  );
  return { redirect: withStream ?? emptiest };
}
