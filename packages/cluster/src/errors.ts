import { HttpError } from '@dragon/http-error';

// The errors a request can meet are HttpErrors: the server's one error handler renders them in
// datarhei's body, the code leading the details, as every other HTTP surface of Dragon.

/** A request for a process on another node could not be forwarded: the node did not answer. */
export class NodeUnreachableError extends HttpError {
  override readonly name = 'NodeUnreachableError';
  declare readonly code: 'NODE_UNREACHABLE';
  constructor(
    readonly nodeId: string,
    options?: { cause?: unknown },
  ) {
    super(502, `node ${nodeId} does not answer`, [], { code: 'NODE_UNREACHABLE', cause: options?.cause });
  }
}

/** Redis does not answer, and the request needs the cluster's state. */
export class ClusterUnavailableError extends HttpError {
  override readonly name = 'ClusterUnavailableError';
  declare readonly code: 'CLUSTER_UNAVAILABLE';
  constructor(options?: { cause?: unknown }) {
    super(503, 'the cluster store (Redis) does not answer', [], {
      code: 'CLUSTER_UNAVAILABLE',
      cause: options?.cause,
    });
  }
}

/** A process id that another node already runs: datarhei's answer to an id that exists. */
export class ProcessExistsOnNodeError extends HttpError {
  override readonly name = 'ProcessExistsOnNodeError';
  declare readonly code: 'PROCESS_EXISTS';
  constructor(
    readonly processId: string,
    readonly nodeId: string,
  ) {
    super(400, 'Invalid process config', [`process already exists on node ${nodeId}`], {
      code: 'PROCESS_EXISTS',
    });
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

/** `Cluster.connect` was given a config that does not validate (`issues` says where). */
export class ClusterConfigInvalidError extends Error {
  override readonly name = 'ClusterConfigInvalidError';
  readonly code = 'CLUSTER_CONFIG_INVALID' as const;
  constructor(
    readonly issues: string[],
    options?: { cause?: unknown },
  ) {
    super(`invalid cluster config: ${issues.join('; ')}`, options);
  }
}
