import {
  CleanupManager,
  createFilesystems,
  type DiskFilesystem,
  FsPathInvalidError,
  type LocateFile,
  MasterPlaylistIndex,
  type MemFilesystem,
  normalizeFsPath,
  unpublishableReason,
} from '@dragon/filesystems';
import { DeclaredRoutes } from '@dragon/http-routes';
import { type IngestLogger, RtmpServer, SrtServer } from '@dragon/ingest';
import {
  createPlaceholderResolver,
  type PlaceholderTemplates,
  type ProcessManager,
  replacePlaceholders,
} from '@dragon/restream';
import { createHlsSessions, SessionRegistry, type WebRtcSessionInfo } from '@dragon/sessions';
import type { Context, MiddlewareHandler } from 'hono';
import { createIngestRoutes } from './api/ingest-routes.js';
import { createOpsRoutes } from './api/ops-routes.js';
import { createSessionRoutes } from './api/session-routes.js';
import { createWidgetRoutes } from './api/widget-routes.js';
import { DirectoryUnsafeError } from './config/errors.js';
import {
  type DatarheiServicesConfig,
  filesystemsConfigOf,
  memfsWriteAuth,
  metricsHistoryOptionsOf,
  rtmpServerOptionsOf,
  sessionCollectorOptionsOf,
  srtServerOptionsOf,
} from './datarhei-service-options.js';
import { LogRing } from './ops/log-ring.js';
import { filesystemMetrics, restreamMetrics, sessionMetrics, systemMetrics } from './ops/metric-sources.js';
import { MetricsHistory } from './ops/metrics-history.js';
import { cleanupRulesOf, memfsBaseUrl, placeholderTemplates } from './placeholders/placeholder-templates.js';

export interface DatarheiServicesOptions {
  /** The server's parsed config: these services declare no key and no default of their own. */
  config: DatarheiServicesConfig;
  logger: IngestLogger;
  startedAt: Date;
  /** The HTTP address actually listened on (`host:port`), for `{memfs}` URLs. */
  httpAddress: () => string;
  clientAddress: (c: Context) => string | undefined;
  /** The API's JWT guard, for `/api/v3/fs`. */
  guard: MiddlewareHandler;
  /** Recent log lines for `/api/v3/log`; one is made when the caller has none. */
  logRing?: LogRing | undefined;
  /** The current WebRTC viewers, for the `webrtc` session collector. */
  webrtcSessions?: (() => WebRtcSessionInfo[]) | undefined;
  /** With WHIP: a publication's loopback feed URL, `{name}` left in it (`{whip,name=…}`). */
  whipUrl?: (() => string) | undefined;
}

/**
 * datarhei Core's services around the process API: disk and memory filesystems (over HTTP and
 * `/api/v3/fs`), cleanup rules, the RTMP and SRT servers, session collectors, log, metrics and the
 * widget.
 */
export class DatarheiServices {
  readonly disk: DiskFilesystem;
  readonly mem: MemFilesystem;
  readonly cleanup: CleanupManager;
  readonly sessions: SessionRegistry;
  readonly metrics: MetricsHistory;
  readonly logRing: LogRing;
  readonly rtmp: RtmpServer | undefined;
  readonly srt: SrtServer | undefined;
  /** `{diskfs}`, `{memfs}`, `{fs:…}`, `{rtmp,…}`, `{srt,…}` for the process manager; read at each start. */
  readonly placeholders: PlaceholderTemplates;
  /** The memfs base URL with its write credentials (what `{memfs}` expands to). */
  readonly memfsUrl: () => string;
  /** `/memfs/…` and `/…` file routes; mount after every other route (disk falls through to them). */
  readonly fileRoutes: DeclaredRoutes;
  /** `/fs…` with its own guard; mount at `/api/v3` before the JSON API (no 1 MiB body limit). */
  readonly fsApiRoutes: DeclaredRoutes;
  /** `/session…`, `/log`, `/metrics`, `/rtmp`, `/srt`; mount inside the guarded `/api/v3` group. */
  readonly apiRoutes: DeclaredRoutes;
  /** Which variants each master playlist has, from the HLS outputs of the processes writing them. */
  readonly masterPlaylists = new MasterPlaylistIndex();
  readonly #logger: DatarheiServicesOptions['logger'];
  #detach: (() => void) | undefined;
  #closed: Promise<void> | undefined;

  private constructor(
    options: DatarheiServicesOptions,
    ingest: { rtmp: RtmpServer | undefined; srt: SrtServer | undefined },
    sessions: SessionRegistry,
  ) {
    const { config, logger } = options;
    const { rtmp, srt } = ingest;
    this.#logger = logger;
    this.rtmp = rtmp;
    this.srt = srt;
    this.sessions = sessions;
    const filesystems = createFilesystems(filesystemsConfigOf(config), {
      guard: options.guard,
      clientAddress: options.clientAddress,
      hls: config.sessions.enable
        ? createHlsSessions(sessions.collector('hls'), sessions.collector('hlsingress'))
        : undefined,
      variantsOf: (filesystem, path) => this.masterPlaylists.variantsOf(filesystem, path),
    });
    this.disk = filesystems.disk;
    this.mem = filesystems.mem;
    this.fileRoutes = filesystems.fileRoutes;
    this.fsApiRoutes = filesystems.apiRoutes;
    this.mem.on('purged', (paths) =>
      logger.warn({ component: 'memfs', files: paths.length }, 'memfs full: oldest files purged'),
    );
    const writeAuth = memfsWriteAuth(config);
    const memfsUrl = () => memfsBaseUrl(options.httpAddress(), writeAuth);
    this.memfsUrl = memfsUrl;
    this.placeholders = placeholderTemplates({
      diskfsDir: this.disk.root,
      memfsUrl,
      rtmp: rtmp
        ? { address: () => rtmp.address, app: config.rtmp.app, token: config.rtmp.token }
        : undefined,
      srt: srt
        ? { address: () => srt.address, token: config.srt.token, passphrase: config.srt.passphrase }
        : undefined,
      whip: options.whipUrl ? { url: options.whipUrl } : undefined,
    });

    this.cleanup = new CleanupManager([this.disk, this.mem], {
      warn: (object, message) => logger.warn({ component: 'cleanup', ...object }, message),
      debug: (object, message) => logger.debug({ component: 'cleanup', ...object }, message),
    });
    this.logRing = options.logRing ?? new LogRing({ maxLines: config.log.max_lines });
    this.metrics = new MetricsHistory(
      [
        systemMetrics(options.startedAt),
        filesystemMetrics([this.disk, this.mem], this.disk),
        sessionMetrics(sessions),
      ],
      metricsHistoryOptionsOf(config),
    );

    this.apiRoutes = new DeclaredRoutes()
      .mount('/', createSessionRoutes(sessions))
      .mount('/', createOpsRoutes(this.logRing, this.metrics))
      .mount('/', createIngestRoutes(rtmp, srt));
  }

  /**
   * Connects the process manager: cleanup rules are set at each start and purged on delete,
   * processes join the metrics, and the widget route is made. Returns the public routes
   * (`/widget/process/:id`) to mount at `/api/v3` before the guard.
   */
  attachProcesses(manager: ProcessManager): { publicRoutes: DeclaredRoutes } {
    const expand = createPlaceholderResolver(this.placeholders);
    const onStarted = (id: string) => {
      const config = manager.getConfig(id);
      this.cleanup.add(id, cleanupRulesOf(config));
      // The outputs as FFmpeg got them: the master playlists it writes and their variants. The
      // manager expanded the same config to start it; should that ever fail here, only the
      // completion of this process's master playlists is lost, so it is logged, not thrown.
      try {
        this.masterPlaylists.set(id, replacePlaceholders(config, expand).output, this.#locate);
      } catch (error) {
        this.#logger.error({ component: 'memfs', processId: id, err: error }, 'master playlist index failed');
      }
    };
    const onRemoved = (id: string) => {
      this.masterPlaylists.delete(id);
      this.cleanup.remove(id, { purge: true }).catch((error: unknown) => {
        this.#logger.error({ component: 'cleanup', processId: id, err: error }, 'purge on delete failed');
      });
    };
    manager.on('started', onStarted);
    manager.on('removed', onRemoved);
    this.#detach = () => {
      manager.off('started', onStarted);
      manager.off('removed', onRemoved);
    };
    // Processes that are already running got their start before this listener existed.
    for (const id of manager.list()) if (manager.getState(id).exec === 'running') onStarted(id);
    this.metrics.add(restreamMetrics(manager));
    return { publicRoutes: createWidgetRoutes(manager, this.sessions) };
  }

  /** A file address FFmpeg writes to as a path in memfs (its `{memfs}` URL) or the disk filesystem. */
  readonly #locate: LocateFile = (address) => {
    const inside = (base: string, filesystem: string, file: string) => {
      if (!file.startsWith(`${base}/`)) return undefined;
      try {
        return { filesystem, path: normalizeFsPath(file.slice(base.length).split('?')[0]!) };
      } catch (error) {
        // A name no request could address (`..` above the root): FFmpeg cannot write it there either.
        if (error instanceof FsPathInvalidError) return undefined;
        throw error;
      }
    };
    return (
      inside(this.memfsUrl(), this.mem.name, address) ??
      inside(this.disk.root, this.disk.name, address.startsWith('file:') ? address.slice(5) : address)
    );
  };

  /**
   * Builds the services; starts the RTMP server when `rtmp.enable` and the SRT server when
   * `srt.enable` (rejects if either cannot listen, or libsrt is missing).
   */
  static async create(options: DatarheiServicesOptions): Promise<DatarheiServices> {
    const { config, logger } = options;
    // The config store refuses such a config at boot and on PUT; this holds for any other caller.
    const unsafe = unpublishableReason('storage.disk.dir', config.storage.disk.dir, [
      { name: 'db.dir', path: config.db.dir },
    ]);
    if (unsafe) throw new DirectoryUnsafeError([unsafe]);
    const sessions = new SessionRegistry({
      collector: sessionCollectorOptionsOf(config),
      webrtcSessions: options.webrtcSessions,
    });
    let rtmp: RtmpServer | undefined;
    let srt: SrtServer | undefined;
    try {
      if (config.rtmp.enable) {
        const rtmpOptions = rtmpServerOptionsOf(config);
        rtmp = await RtmpServer.start(rtmpOptions, sessions.collector('rtmp'), logger);
        logger.info(
          { component: 'rtmp', address: rtmp.address, tls: Boolean(rtmpOptions.tls) },
          'RTMP server listening',
        );
      }
      if (config.srt.enable) {
        srt = await SrtServer.start(srtServerOptionsOf(config), sessions.collector('srt'), logger);
        logger.info({ component: 'srt', address: srt.address }, 'SRT server listening');
      }
      return new DatarheiServices(options, { rtmp, srt }, sessions);
    } catch (error) {
      sessions.close();
      await rtmp?.close();
      await srt?.close();
      throw error;
    }
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#detach?.();
      this.cleanup.close();
      this.metrics.close();
      this.sessions.close();
      await this.rtmp?.close();
      await this.srt?.close();
    })();
    return this.#closed;
  }
}
