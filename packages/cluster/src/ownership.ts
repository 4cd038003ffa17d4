import type { ProcessManager, StartContext } from '@dragon/restream';
import type { Logger } from 'pino';
import { isMarkedForFailover, type ProcessRecord } from './cluster-records.js';
import type { ClusterStore } from './cluster-store.js';
import { ProcessHeldElsewhereError } from './errors.js';
import { ownWebRtc, type WebRtcOf } from './process-webrtc.js';

export interface LeaseGateOptions {
  store: ClusterStore;
  nodeId: string;
  /** See `OwnershipOptions.leaseMs`. */
  leaseMs: number;
  /** The gate refused a start because `holder` holds the lease (see `Ownership.heldElsewhere`). */
  heldElsewhere(id: string, holder: string): void;
  logger: Logger;
}

/**
 * restream's `onStart` for every start of every process: claims (or renews) the process's lease, and
 * throws `ProcessHeldElsewhereError` when another node holds it, so restream spawns nothing and
 * records the start as failed. Redis away: the start goes ahead (availability first), and
 * `Ownership.renew` claims the lease — or fences a marked process — later.
 */
export function leaseGate(options: LeaseGateOptions): (context: Pick<StartContext, 'id'>) => Promise<void> {
  const { store, nodeId, leaseMs, logger } = options;
  return async ({ id }) => {
    let holder: string;
    try {
      holder = await store.claim(id, nodeId, leaseMs);
    } catch (error) {
      logger.warn({ processId: id, err: error }, 'starting without a lease: Redis does not answer');
      return;
    }
    if (holder === nodeId) return;
    options.heldElsewhere(id, holder);
    throw new ProcessHeldElsewhereError(id, holder);
  };
}

export interface OwnershipOptions {
  store: ClusterStore;
  nodeId: string;
  manager: ProcessManager;
  /** Lease on each process: how long a node that left keeps its processes (`node_recover_timeout_sec`). */
  leaseMs: number;
  /** The heartbeat interval: leases are renewed at this pace, failover attempts staggered by it. */
  stepMs: number;
  /** Whether a node's heartbeat is current. */
  isLive(nodeId: string): boolean;
  /** This node's position among the live nodes that could take a process over (0 goes first). */
  rank(): number;
  logger: Logger;
  /** The WebRTC a process runs with (its own block, or the server's); by default its own block. */
  webrtcOf?: WebRtcOf;
}

/**
 * Which node runs which process. Each process has a lease in Redis held by its owner, renewed with
 * every heartbeat; only the holder runs the process: every start claims the lease first (the start
 * gate, `Cluster.startGate`), and a start of a process another node holds spawns nothing. When an
 * owner leaves, its leases expire after `leaseMs`, and the processes marked for failover are claimed
 * (one winner, by `SET NX` semantics) and started by another node from their replicated config. A
 * node that cannot renew its leases for nearly that long stops its marked processes itself, so a node
 * cut off from Redis does not keep running what another node is about to take over.
 */
export class Ownership {
  readonly #options: OwnershipOptions;
  readonly #dirty = new Set<string>();
  /** Removed here because another node holds them: their records are that node's now. */
  readonly #yielding = new Set<string>();
  /** Deleted here while Redis was away: their records still have to go. */
  readonly #deleted = new Set<string>();
  /** Stopped here because their leases could not be renewed; started again once they can. */
  readonly #fenced = new Set<string>();
  readonly #conflicts = new Set<string>();
  readonly #orphanedSince = new Map<string, number>();
  #lastRenewed = Date.now();
  #publishTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: OwnershipOptions) {
    this.#options = options;
    const { manager } = options;
    manager.on('order', (id) => this.markDirty(id));
    manager.on('state', (id) => this.markDirty(id));
    manager.on('removed', (id) => this.#onRemoved(id));
  }

  /**
   * The start gate found the lease of `id` held by `holder`; the start was refused. A process marked
   * for failover moved there while this node was away (or is moving): it is removed here. Otherwise
   * two nodes were given the same id, and the copy here stays stopped.
   */
  heldElsewhere(id: string, holder: string): void {
    if (this.#closed || !this.#options.manager.has(id)) return;
    this.#conflict(id, holder, true);
  }

  /** Publish this process's record soon (debounced: a start emits several events at once). */
  markDirty(id: string): void {
    if (this.#closed) return;
    this.#dirty.add(id);
    this.#publishTimer ??= setTimeout(() => {
      this.#publishTimer = undefined;
      void this.publish(false).catch((error: unknown) =>
        this.#options.logger.debug({ err: error }, 'publishing process records failed; retried next sync'),
      );
    }, 200);
  }

  /** Renews (or claims) the lease of every local process; settles conflicts; fences when Redis is away. */
  async renew(): Promise<void> {
    const { manager, store, nodeId, leaseMs, stepMs, logger } = this.#options;
    const ids = manager.list();
    const results = await Promise.allSettled(ids.map((id) => store.claim(id, nodeId, leaseMs)));
    let failed = false;
    results.forEach((result, index) => {
      const id = ids[index]!;
      if (result.status === 'rejected') failed = true;
      else if (result.value !== nodeId) this.#conflict(id, result.value, false);
      else this.#conflicts.delete(id);
    });
    if (!failed && store.up) {
      this.#lastRenewed = Date.now();
      await this.#unfence();
      return;
    }
    // Fence before the lease can expire: another node may claim the process one step after it does.
    if (Date.now() - this.#lastRenewed < leaseMs - 2 * stepMs) return;
    for (const id of manager.list()) {
      if (this.#fenced.has(id) || manager.getState(id).order !== 'start') continue;
      if (!isMarkedForFailover(manager.getMetadata(id))) continue;
      this.#fenced.add(id);
      logger.warn(
        { processId: id },
        'cannot renew the lease in Redis: stopping the process so it is not run twice',
      );
      await manager
        .command(id, 'stop')
        .catch((error: unknown) => logger.error({ processId: id, err: error }, 'fencing stop failed'));
    }
  }

  /** Writes the records of dirty processes, or of all (`all`), and removes the ones deleted here. */
  async publish(all: boolean): Promise<void> {
    const { manager, store, nodeId } = this.#options;
    const ids = all ? manager.list() : [...this.#dirty].filter((id) => manager.has(id));
    for (const id of ids) this.#dirty.delete(id);
    try {
      await Promise.all(ids.map((id) => store.writeProcess(this.#record(id))));
      for (const id of [...this.#deleted]) {
        await store.deleteProcess(id, nodeId);
        this.#deleted.delete(id);
      }
    } catch (error) {
      for (const id of ids) this.#dirty.add(id);
      throw error;
    }
  }

  /**
   * Removes records this node wrote for processes it no longer has (renamed by a `PUT`, deleted while
   * Redis was away), unless another node holds them now.
   */
  async reconcile(records: readonly ProcessRecord[], owners: ReadonlyMap<string, string>): Promise<void> {
    const { manager, store, nodeId } = this.#options;
    const stale = records.filter(
      (record) =>
        record.node === nodeId &&
        !manager.has(record.id) &&
        (owners.get(record.id) ?? nodeId) === nodeId &&
        !this.#yielding.has(record.id),
    );
    await Promise.all(stale.map((record) => store.deleteProcess(record.id, nodeId)));
  }

  /** Takes over marked processes whose owner has been gone for the lease time. */
  async failover(records: readonly ProcessRecord[], owners: ReadonlyMap<string, string>): Promise<void> {
    const { manager, stepMs } = this.#options;
    const now = Date.now();
    for (const record of records) {
      const orphaned =
        record.failover && record.order === 'start' && !owners.has(record.id) && !manager.has(record.id);
      if (!orphaned) {
        this.#orphanedSince.delete(record.id);
        continue;
      }
      const since = this.#orphanedSince.get(record.id) ?? now;
      this.#orphanedSince.set(record.id, since);
      // The least-loaded node tries first; the next one a step later, in case the first cannot.
      if (now - since < this.#options.rank() * stepMs) continue;
      await this.#takeOver(record);
    }
  }

  /** Claims the lease of a process just created here (so a second node cannot create the same id). */
  async claimNow(id: string): Promise<void> {
    const { store, nodeId, leaseMs } = this.#options;
    const holder = await store.claim(id, nodeId, leaseMs);
    if (holder !== nodeId) this.#conflict(id, holder, false);
    else this.markDirty(id);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#publishTimer);
    this.#publishTimer = undefined;
  }

  async #takeOver(record: ProcessRecord): Promise<void> {
    const { manager, store, nodeId, leaseMs, logger } = this.#options;
    if ((await store.claim(record.id, nodeId, leaseMs)) !== nodeId) return;
    this.#orphanedSince.delete(record.id);
    try {
      const config = await manager.add(record.config as never);
      for (const [key, value] of Object.entries(record.metadata))
        await manager.setMetadata(config.id, key, value);
      if (!config.autostart) await manager.command(config.id, 'start');
      logger.warn({ processId: record.id, from: record.node }, 'took over a process from a node that left');
      this.markDirty(record.id);
    } catch (error) {
      logger.error({ processId: record.id, err: error }, 'could not take over the process; another node may');
      if (manager.has(record.id)) {
        this.#yielding.add(record.id);
        await manager
          .remove(record.id)
          .catch((removeError: unknown) =>
            logger.error(
              { processId: record.id, err: removeError },
              'could not remove the half-taken process',
            ),
          );
      }
      await store.release(record.id, nodeId);
    }
  }

  /**
   * Another node holds the lease of a process this node has. `atStart`: the start gate refused a
   * start — a marked process is then removed whether or not its holder is alive, since its record
   * (the holder's) is what failover restarts it from.
   */
  #conflict(id: string, holder: string, atStart: boolean): void {
    const { manager, isLive, logger } = this.#options;
    const marked = isMarkedForFailover(manager.getMetadata(id));
    if (marked && (atStart || isLive(holder))) {
      this.#yield(id, holder);
      logger.info({ processId: id, owner: holder }, 'another node runs this process now: removed here');
      return;
    }
    // Its lease runs out; then this node claims it again (a refused start is retried by `reconnect`).
    if (!isLive(holder)) return;
    if (this.#conflicts.has(id)) return;
    this.#conflicts.add(id);
    logger.error({ processId: id, owner: holder }, 'the same process id runs on another node: stopped here');
    if (manager.getState(id).order === 'start') {
      void manager
        .command(id, 'stop')
        .catch((error: unknown) => logger.error({ processId: id, err: error }, 'stop failed'));
    }
  }

  #yield(id: string, holder: string): void {
    if (this.#yielding.has(id)) return;
    this.#yielding.add(id);
    this.#fenced.delete(id);
    void this.#options.manager
      .remove(id)
      .catch((error: unknown) =>
        this.#options.logger.error(
          { processId: id, owner: holder, err: error },
          'could not remove a process taken over',
        ),
      );
  }

  async #unfence(): Promise<void> {
    const { manager, logger } = this.#options;
    for (const id of [...this.#fenced]) {
      this.#fenced.delete(id);
      if (!manager.has(id)) continue;
      logger.info({ processId: id }, 'the lease is renewed again: starting the process');
      await manager
        .command(id, 'start')
        .catch((error: unknown) => logger.error({ processId: id, err: error }, 'start failed'));
    }
  }

  #onRemoved(id: string): void {
    this.#dirty.delete(id);
    if (this.#yielding.delete(id)) return;
    this.#deleted.add(id);
    this.markDirty(id);
  }

  #record(id: string): ProcessRecord {
    const { manager, nodeId } = this.#options;
    const config = manager.getConfig(id);
    const state = manager.getState(id);
    const metadata = (manager.getMetadata(id) as Record<string, unknown> | undefined) ?? {};
    const webrtc = (this.#options.webrtcOf ?? ownWebRtc)(id, config)?.config;
    return {
      id,
      node: nodeId,
      reference: config.reference,
      created_at: manager.getCreatedAt(id),
      updated_at: manager.getUpdatedAt(id),
      written_at: Date.now(),
      order: state.order,
      exec: state.exec,
      reconnect: config.reconnect,
      failover: isMarkedForFailover(metadata),
      webrtc: {
        enabled: webrtc !== undefined,
        audio: webrtc !== undefined && webrtc.audio !== 'off',
        token: webrtc?.token ?? '',
      },
      config: config as unknown as Record<string, unknown>,
      state: state as unknown as Record<string, unknown>,
      metadata,
    };
  }
}
