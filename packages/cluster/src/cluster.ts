import type { DeclaredRoutes } from '@dragon/http-routes';
import { LogThrottle } from '@dragon/log-throttle';
import type { ProcessManager, StartContext } from '@dragon/restream';
import type { RtpSource } from '@dragon/webrtc';
import type { WhepProcessEntry } from '@dragon/whep-http';
import type { Hono, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { advertisedUrl } from './advertised-url.js';
import { clusterConfigSchema } from './cluster-config.js';
import type { ClusterMedia, ClusterOptions, WhepLookup } from './cluster-options.js';
import { ClusterKeys, type NodeRecord, type ProcessRecord } from './cluster-records.js';
import { ClusterStore } from './cluster-store.js';
import { clusterViewRoutes } from './cluster-view.js';
import { EdgeSources, type PullTarget } from './edge-sources.js';
import { ClusterConfigInvalidError, ClusterUnavailableError } from './errors.js';
import { NodeAuth } from './node-auth.js';
import { LoadSampler } from './node-load.js';
import { nodeRecord, takeoverRank } from './node-record.js';
import { leaseGate, Ownership } from './ownership.js';
import { clusterProcessApi } from './process-api.js';
import { ownWebRtc } from './process-webrtc.js';
import { remoteWhepEntry } from './remote-whep.js';
import { type PlacementTarget, whepPlacement } from './whep-placement.js';

/** How long boot waits for Redis before it starts without knowing which processes moved away. */
const bootWaitMs = 5000;

/**
 * This node's part in a cluster coordinated through Redis (docs/scale-out.md): its heartbeat and
 * load, the leases and records of the processes it runs, failover of processes of nodes that left,
 * edge pulls of processes other nodes run, WHEP placement and the cluster-wide process API.
 *
 * Built in two steps because of the order the core comes up in: `connect` before the process manager
 * exists, since `startGate` (the manager's start hook) runs for the processes it restores; `attach`
 * once the manager is created.
 */
export class Cluster {
  readonly nodeId: string;
  readonly #options: ClusterOptions;
  readonly #log: Logger;
  readonly #store: ClusterStore;
  readonly #auth: NodeAuth;
  readonly #sampler = new LoadSampler();
  /** One line a minute for each event anyone can cause (a forged record in Redis, a bad node token). */
  readonly #strangerLog = new LogThrottle({ burst: 1, windowMs: 60_000 });
  readonly #startedAt = new Date().toISOString();
  readonly #stepMs: number;
  readonly #leaseMs: number;
  readonly #attached: Promise<Ownership>;
  #resolveAttached!: (ownership: Ownership) => void;
  #nodes = new Map<string, NodeRecord>();
  #records = new Map<string, ProcessRecord>();
  #tokensInUse = false;
  #manager: ProcessManager | undefined;
  #media: ClusterMedia | undefined;
  #ownership: Ownership | undefined;
  #edges: EdgeSources | undefined;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #lastSync = 0;
  #closed = false;

  private constructor(options: ClusterOptions) {
    const { config } = options;
    const logger = options.logger.child({ component: 'cluster' });
    this.#options = options;
    this.#log = logger;
    this.nodeId = config.id;
    this.#stepMs = Math.max(500, Math.floor((config.cluster.node_timeout_sec * 1000) / 3));
    this.#leaseMs = config.cluster.node_recover_timeout_sec * 1000;
    this.#auth = new NodeAuth({ secret: config.cluster.secret, nodeId: config.id });
    this.#attached = new Promise((resolve) => {
      this.#resolveAttached = resolve;
    });
    this.#store = new ClusterStore({
      url: config.cluster.redis_url,
      keys: new ClusterKeys(config.cluster.key_prefix),
      secret: config.cluster.secret,
    });
    this.startGate = leaseGate({
      store: this.#store,
      nodeId: this.nodeId,
      leaseMs: this.#leaseMs,
      heldElsewhere: (id, holder) =>
        void this.#attached.then((ownership) => ownership.heldElsewhere(id, holder)),
      logger,
    });
    this.#store.on('unsigned', (key) => {
      const heldBack = this.#strangerLog.admit('unsigned');
      if (heldBack === undefined) return;
      logger.warn(
        { key, heldBack },
        'ignored a value in Redis that no node of this cluster signed: something else writes to Redis (or a node has another cluster.secret)',
      );
    });
    this.#store.on('down', (error) =>
      logger.warn({ err: error }, 'lost Redis: the cluster view is frozen until it is back'),
    );
    this.#store.on('ready', () => {
      logger.info('connected to Redis');
      // A restarted Redis is empty: write everything again at once rather than at the next sync.
      this.#lastSync = 0;
      void this.#beat();
    });
  }

  /** Connects to Redis (waiting a little for it) and reads which nodes are alive. */
  static async connect(options: ClusterOptions): Promise<Cluster> {
    const parsed = clusterConfigSchema.safeParse(options.config);
    if (!parsed.success) {
      throw new ClusterConfigInvalidError(
        parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
      );
    }
    const cluster = new Cluster({ ...options, config: parsed.data });
    if (await cluster.#store.waitUp(bootWaitMs)) {
      await cluster
        .#refreshNodes()
        .catch((error: unknown) =>
          cluster.#log.warn({ err: error }, 'could not read the nodes of the cluster'),
        );
    } else {
      cluster.#log.warn(
        "Redis does not answer: this node's processes start without leases; those another node took over meanwhile are removed here once Redis answers",
      );
    }
    return cluster;
  }

  /**
   * restream's `onStart` (see `leaseGate`): a start of a process another node holds spawns nothing.
   * The process is then removed here if it moved (marked for failover), or stopped if it is a twin
   * of another node's; a restored process's start runs while the manager is being created, so that
   * follow-up waits for `attach`.
   */
  readonly startGate: (context: StartContext) => Promise<void>;

  /** Takes charge of the node's processes, and with `media` serves other nodes' processes (edge pulls). */
  attach(manager: ProcessManager, media: ClusterMedia | undefined): void {
    const { config, logger } = this.#options;
    this.#manager = manager;
    this.#media = media;
    const ownership = new Ownership({
      store: this.#store,
      nodeId: this.nodeId,
      manager,
      leaseMs: this.#leaseMs,
      stepMs: this.#stepMs,
      isLive: (id) => this.#nodes.has(id),
      rank: () => takeoverRank(this.#nodes.values(), this.nodeId),
      logger: this.#log,
      ...(this.#options.webrtcOf ? { webrtcOf: this.#options.webrtcOf } : {}),
    });
    this.#ownership = ownership;
    if (media) {
      this.#edges = new EdgeSources({
        ports: media.ports,
        viewers: (processId) => media.viewers(processId),
        onSourceClosed: (processId) => media.sourceClosed(processId),
        resolve: (processId) => this.#resolve(processId),
        globalToken: config.webrtc.token,
        interfaces: config.webrtc.interfaces,
        idleTimeoutMs: config.cluster.edge_idle_timeout_sec * 1000,
        // Long enough for the owner to be declared gone and a failover node to start the process.
        orphanTimeoutMs: (config.cluster.node_recover_timeout_sec + 60) * 1000,
        logger: logger.child({ component: 'edge' }),
      });
    }
    this.#resolveAttached(ownership);
    this.#timer = setInterval(() => void this.#beat(), this.#stepMs);
    this.#timer.unref();
    void this.#beat();
  }

  /** This node's base URL as others reach it; undefined until the HTTP server listens. */
  advertisedUrl(): string | undefined {
    return advertisedUrl(this.#options.config, this.#options.httpAddress());
  }

  /**
   * The WHEP routes' lookup across the cluster: a process this node runs as `local` says; another
   * node's from this node's pull of it, else from its record (so an offer that cannot be served yet
   * is a 409 or 503 with `Retry-After`, not a 404).
   */
  whepLookup(local: WhepLookup): WhepLookup {
    const manager = this.#requireManager();
    return {
      lookup: (processId) =>
        manager.has(processId) ? local.lookup(processId) : this.#remoteEntry(processId),
      concealProcessIds: () => local.concealProcessIds() || this.#tokensInUse,
    };
  }

  /** Middleware for `${basePath}/:id/whep`, mounted before the WHEP routes. */
  whep(): MiddlewareHandler {
    const { config, logger } = this.#options;
    return whepPlacement({
      nodeId: this.nodeId,
      advertisedUrl: () => this.advertisedUrl(),
      target: (processId) => this.#placementTarget(processId),
      isLocal: (processId) => this.#manager?.has(processId) ?? false,
      pull: (processId, waitMs) => this.#edges?.ensure(processId, waitMs) ?? Promise.resolve(undefined),
      liveNodes: () => [...this.#nodes.values()],
      load: () => ({ viewers: this.#media?.viewers() ?? 0, maxViewers: config.webrtc.max_viewers }),
      globalToken: config.webrtc.token,
      margin: config.cluster.balance_margin,
      logger: logger.child({ component: 'placement' }),
    });
  }

  /** The process API across nodes; mount on the v3 group before the local process routes. */
  processApi(): Hono {
    const manager = this.#requireManager();
    return clusterProcessApi({
      nodeId: this.nodeId,
      manager,
      records: () => this.#storeCall(() => this.#store.processes()),
      record: (processId) => this.#storeCall(() => this.#store.process(processId)),
      node: (nodeId) => this.#liveNode(nodeId),
      nodeHeaders: (request) => this.#auth.headers(request),
      changed: async (processId) => {
        await this.#ownership
          ?.claimNow(processId)
          .catch((error: unknown) =>
            this.#log.warn({ processId, err: error }, 'could not claim the process in Redis yet'),
          );
      },
      forget: (processId, nodeId) => this.#storeCall(() => this.#store.deleteProcess(processId, nodeId)),
      logger: this.#log,
    });
  }

  /**
   * `GET /cluster`: the nodes, their load, and which process runs (and is pulled) where; its
   * declaration (`@dragon/http-routes`) beside it, for the app's API description.
   */
  routes(): DeclaredRoutes {
    return clusterViewRoutes({
      nodeId: this.nodeId,
      read: () => this.#storeCall(() => Promise.all([this.#store.nodes(), this.#store.processes()])),
    });
  }

  /** `userGuard`, except for the requests another node of this cluster signed for this node. */
  guard(userGuard: MiddlewareHandler): MiddlewareHandler {
    return this.#auth.guard(userGuard, (reason) => {
      const heldBack = this.#strangerLog.admit('refused');
      if (heldBack === undefined) return;
      this.#log.warn({ reason, heldBack }, 'refused a node token: the request is left to the login');
    });
  }

  /** Stops heartbeats and pulls and leaves the cluster view; leases run out (see docs/scale-out.md). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#ownership?.close();
    await this.#beating;
    await this.#edges?.close();
    if (this.#store.up) {
      await this.#store
        .deleteNode(this.nodeId)
        .catch((error: unknown) => this.#log.warn({ err: error }, 'could not remove the node record'));
    }
    await this.#store.close();
  }

  #requireManager(): ProcessManager {
    if (!this.#manager) throw new Error('Cluster.attach(manager) must come first');
    return this.#manager;
  }

  async #storeCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new ClusterUnavailableError({ cause: error });
    }
  }

  #remoteEntry(processId: string): WhepProcessEntry<RtpSource> | undefined {
    const remote = {
      source: this.#edges?.source(processId),
      pullToken: this.#edges?.token(processId),
      record: this.#records.get(processId),
    };
    const maxViewers = this.#options.config.webrtc.max_viewers_per_process;
    return remoteWhepEntry(remote, (nodeId) => this.#nodes.has(nodeId), maxViewers);
  }

  #egressBytes(): number {
    const manager = this.#manager;
    const media = this.#media;
    let bytes = this.#edges?.bytesSent ?? 0;
    if (manager && media) {
      for (const id of manager.list()) bytes += media.source(id)?.sentStats().bytesSent ?? 0;
    }
    return bytes;
  }

  #nodeRecord(url: string): NodeRecord {
    const { config, version } = this.#options;
    return nodeRecord(
      { config, version, startedAt: this.#startedAt, url },
      {
        viewers: this.#media?.viewers() ?? 0,
        processes: this.#manager?.list().length ?? 0,
        pulling: this.#edges?.ids() ?? [],
        rates: this.#sampler.sample(this.#egressBytes()),
      },
    );
  }

  async #placementTarget(processId: string): Promise<PlacementTarget | undefined> {
    const manager = this.#manager;
    if (manager?.has(processId)) {
      const webrtc = (this.#options.webrtcOf ?? ownWebRtc)(processId, manager.getConfig(processId))?.config;
      if (manager.getState(processId).order !== 'start' || !webrtc) return undefined;
      return { owner: this.nodeId, token: webrtc.token };
    }
    const record = await this.#store.process(processId).catch(() => this.#records.get(processId));
    if (record?.order !== 'start' || !record.webrtc.enabled) return undefined;
    return { owner: record.node, token: record.webrtc.token };
  }

  /** A live node, from the heartbeat's view, else from Redis now (it may have joined since). */
  async #liveNode(nodeId: string): Promise<NodeRecord | undefined> {
    const known = this.#nodes.get(nodeId);
    if (known) return known;
    await this.#refreshNodes().catch((error: unknown) => this.#log.debug({ err: error }, 'nodes not read'));
    return this.#nodes.get(nodeId);
  }

  async #refreshNodes(): Promise<void> {
    const nodes = await this.#store.nodes();
    this.#nodes = new Map(nodes.map((node) => [node.id, node]));
  }

  async #resolve(processId: string): Promise<PullTarget | undefined> {
    const [record] = await Promise.all([this.#store.process(processId), this.#refreshNodes()]);
    if (!record) return undefined;
    // The owner may be this node (it took the process over): the pull then goes over loopback, and
    // the viewers already on this edge source stay connected.
    return { record, origin: this.#nodes.get(record.node) };
  }

  /** One heartbeat: this node's record, the live nodes, lease renewal; every sync also records and failover. */
  #beat(): Promise<void> {
    if (this.#closed || !this.#ownership) return Promise.resolve();
    this.#beating ??= this.#heartbeat().finally(() => {
      this.#beating = undefined;
    });
    return this.#beating;
  }

  async #heartbeat(): Promise<void> {
    const { config } = this.#options;
    const logger = this.#log;
    const ownership = this.#ownership!;
    const url = this.advertisedUrl();
    // Not listening yet: look again soon, so the node is in the cluster as soon as it can be reached.
    if (!url) setTimeout(() => void this.#beat(), 100).unref();
    try {
      if (url) await this.#store.writeNode(this.#nodeRecord(url), config.cluster.node_timeout_sec * 1000);
      await this.#refreshNodes();
    } catch (error) {
      logger.debug({ err: error }, 'heartbeat not written');
    }
    await ownership.renew().catch((error: unknown) => logger.warn({ err: error }, 'lease renewal failed'));
    if (!this.#store.up) return;
    try {
      if (Date.now() - this.#lastSync >= config.cluster.sync_interval_sec * 1000) {
        this.#lastSync = Date.now();
        await ownership.publish(true);
        const [records, owners] = await Promise.all([this.#store.processes(), this.#store.owners()]);
        this.#records = new Map(records.map((record) => [record.id, record]));
        this.#tokensInUse = records.some((record) => record.webrtc.token !== '');
        await ownership.reconcile(records, owners);
      }
      // Every heartbeat, not every sync: an expired lease is taken over a heartbeat later at most.
      // Records change rarely and are read at the sync; the leases are read now.
      await ownership.failover([...this.#records.values()], await this.#store.owners());
    } catch (error) {
      logger.warn({ err: error }, 'cluster sync failed; retried at the next heartbeat');
    }
  }
}
