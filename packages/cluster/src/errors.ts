import { HTTPException } from 'hono/http-exception';

/** A request for a process on another node could not be forwarded: the node did not answer. */
export class NodeUnreachableError extends HTTPException {
  override readonly name = 'NodeUnreachableError';
  readonly code = 'NODE_UNREACHABLE' as const;
  constructor(
    readonly nodeId: string,
    options?: { cause?: unknown },
  ) {
    super(502, { message: `node ${nodeId} does not answer`, ...(options ?? {}) });
  }
}

/** Redis does not answer, and the request needs the cluster's state. */
export class ClusterUnavailableError extends HTTPException {
  override readonly name = 'ClusterUnavailableError';
  readonly code = 'CLUSTER_UNAVAILABLE' as const;
  constructor(options?: { cause?: unknown }) {
    super(503, { message: 'the cluster store (Redis) does not answer', ...(options ?? {}) });
  }
}

/** A process id that another node already runs: datarhei's answer to an id that exists. */
export class ProcessExistsOnNodeError extends HTTPException {
  override readonly name = 'ProcessExistsOnNodeError';
  readonly code = 'PROCESS_EXISTS' as const;
  readonly details: string[];
  constructor(
    readonly processId: string,
    readonly nodeId: string,
  ) {
    super(400, { message: 'Invalid process config' });
    this.details = [`process already exists on node ${nodeId}`];
  }
}

/**
 * A start refused because another node holds the process's lease: it runs there, or is about to.
 * Thrown by the cluster's start gate, so restream records the start as failed and spawns nothing.
 */
export class ProcessHeldElsewhereError extends Error {
  override readonly name = 'ProcessHeldElsewhereError';
  readonly code = 'PROCESS_HELD_ELSEWHERE' as const;
  constructor(
    readonly processId: string,
    readonly nodeId: string,
  ) {
    super(`node ${nodeId} holds the lease of process "${processId}": it runs there, not here`);
  }
}

/** The origin refused or failed an edge's pull (WHEP answered other than 201, or ICE did not connect). */
export class EdgePullError extends Error {
  override readonly name = 'EdgePullError';
  readonly code = 'EDGE_PULL_FAILED' as const;
  constructor(
    readonly processId: string,
    readonly endpoint: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`pulling ${processId} from ${endpoint} failed: ${reason}`, options);
  }
}
