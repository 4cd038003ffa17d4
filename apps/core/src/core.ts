import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { createStaticSiteRoutes } from '@dragon/filesystems';
import { HttpError } from '@dragon/http-error';
import { PortAllocator } from '@dragon/portalloc';
import {
  defaultFFmpegEnvironment,
  type FFmpegAccessOptions,
  type ProcessConfig,
  type ProcessHooks,
  ProcessManager,
} from '@dragon/restream';
import { checkOffer, IceTcpMux, PeerFactory, UdpMux } from '@dragon/webrtc';
import { createWhepRoutes, ProcessNotFoundError, WhepError } from '@dragon/whep-http';
import { getConnInfo } from '@hono/node-server/conninfo';
import { type Context, Hono } from 'hono';
import type { Logger } from 'pino';
import { createAboutRoute } from './api/about-route.js';
import { renderError } from './api/api-error.js';
import { apiBodyLimitBytes, apiCors, limitBody, loginBodyLimitBytes } from './api/api-middleware.js';
import { createAuth } from './api/auth.js';
import { createConfigRoutes } from './api/config-routes.js';
import { createProcessRoutes } from './api/process-routes.js';
import type { Cluster } from './cluster/cluster.js';
import type { Config } from './config/config-schema.js';
import type { ConfigStore } from './config/config-store.js';
import { DatarheiServices, datarheiServicesConfigSchema } from './datarhei-services.js';
import { createMetrics } from './ops/collect-metrics.js';
import type { LogRing } from './ops/log-ring.js';
import { openApiDocument, swaggerAsset, swaggerPage } from './ops/openapi.js';
import { playerPage } from './ops/player-page.js';
import { dataPlaneStatus } from './webrtc/data-plane.js';
import { WebRtcPolicy } from './webrtc/webrtc-policy.js';
import { viewerStatus } from './webrtc/webrtc-status.js';
import { WebRtcSubsystem } from './webrtc/webrtc-subsystem.js';
import { createWhepLookup } from './webrtc/whep-lookup.js';

export const coreVersion: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

export interface CoreOptions {
  configStore: ConfigStore;
  /** The config to build from. @default configStore.config (the running one) */
  config?: Config;
  logger: Logger;
  /** Asks the owner to apply the saved config (datarhei's `GET /api/v3/config/reload`). */
  requestReload?: () => void;
  /** The address the HTTP server listens on once bound (`{memfs}` URLs need the real port). */
  httpAddress?: () => string;
  /** The logger's recent lines, for `GET /api/v3/log`. */
  logRing?: LogRing;
}

export interface Core {
  readonly app: Hono;
  readonly manager: ProcessManager;
  readonly webrtc: WebRtcSubsystem | undefined;
  readonly config: Config;
  readonly services: DatarheiServices;
  close(): Promise<void>;
}

export function clientAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/**
 * What FFmpeg may touch: datarhei's `ffmpeg.access` lists; file outputs only into the disk filesystem
 * and `ffmpeg.access.output.directories`; never the config file or the TLS key (the process store,
 * `/proc` and `/sys` are restream's own rule); the environment restream hands FFmpeg by default.
 */
export function ffmpegAccessOf(config: Config, configFile: string): FFmpegAccessOptions {
  const { input, output } = config.ffmpeg.access;
  return {
    input: { allow: input.allow, block: input.block },
    output: { allow: output.allow, block: output.block },
    outputDirectories: [config.storage.disk.dir, ...output.directories],
    protectedPaths: [configFile, ...(config.tls.key_file ? [config.tls.key_file] : [])],
  };
}

/**
 * restream's hooks for every start: the cluster's lease first (a start another node holds spawns
 * nothing, and gets no RTP legs), then WebRTC's legs.
 */
function processHooks(cluster: Cluster | undefined, webrtc: WebRtcSubsystem | undefined): ProcessHooks {
  return {
    onStart: async (context) => {
      await cluster?.startGate(context);
      await webrtc?.hooks.onStart?.(context);
    },
    onStop: (context) => webrtc?.hooks.onStop?.(context),
  };
}

/** Assembles process manager, WebRTC and HTTP API for one configuration. */
export async function createCore(options: CoreOptions): Promise<Core> {
  const { configStore, logger } = options;
  const config = options.config ?? configStore.config;
  const startedAt = new Date();
  const ports = new PortAllocator(
    config.webrtc.rtp_port_max > 0
      ? { range: { min: config.webrtc.rtp_port_min, max: config.webrtc.rtp_port_max } }
      : {},
  );
  let whep: ReturnType<typeof createWhepRoutes> | undefined;
  // Which processes send WebRTC: their own `webrtc` block, else `webrtc.auto_enable`.
  const webrtcPolicy = new WebRtcPolicy(config.webrtc);
  const webrtcOf = (id: string, processConfig: ProcessConfig) => webrtcPolicy.of(id, processConfig);
  // The hooks go in at creation, so processes restored from the store start with their WebRTC legs.
  const webrtc = config.webrtc.enable
    ? new WebRtcSubsystem({
        ports,
        logger: logger.child({ component: 'webrtc' }),
        policy: webrtcPolicy,
        ffmpegBinary: config.ffmpeg.binary,
        // ffprobe reads an input as FFmpeg will: same scrubbed environment, same working directory.
        probeEnvironment: Object.fromEntries(
          defaultFFmpegEnvironment.flatMap((name) => {
            const value = process.env[name];
            return value === undefined ? [] : [[name, value]];
          }),
        ),
        probeCwd: process.cwd(),
        onSourceClosed: (processId) => whep?.sessions.closeAll(processId),
      })
    : undefined;
  // The shared ports open before anything starts FFmpeg: a port in use fails the boot with nothing
  // left running (restored processes start inside `ProcessManager.create`).
  let udpMux: UdpMux | undefined;
  let tcpMux: IceTcpMux | undefined;
  const closeEarly = () => {
    udpMux?.close();
    tcpMux?.close();
    ports.close();
  };
  if (webrtc) {
    // The shared ports listen where ICE gathers: the first configured IPv4 interface, else all.
    const muxAddress = config.webrtc.interfaces.find((address) => isIPv4(address)) ?? '0.0.0.0';
    try {
      if (config.webrtc.udp_mux_port > 0) {
        udpMux = await UdpMux.open({ port: config.webrtc.udp_mux_port, address: muxAddress });
      }
      if (config.webrtc.tcp_mux_port > 0) {
        tcpMux = await IceTcpMux.open({ port: config.webrtc.tcp_mux_port, address: muxAddress });
      }
    } catch (error) {
      closeEarly();
      throw error;
    }
  }
  const auth = createAuth({
    enable: config.api.auth.enable,
    username: config.api.auth.username,
    password: config.api.auth.password,
    jwtSecret: config.api.auth.jwt.secret,
    disableLocalhost: config.api.auth.disable_localhost,
    clientAddress,
  });
  const httpAddress = options.httpAddress ?? (() => config.address);
  const services = await DatarheiServices.create({
    config: datarheiServicesConfigSchema.parse(config),
    dbDir: config.db.dir,
    logger,
    startedAt,
    httpAddress,
    clientAddress,
    guard: auth.guard,
    logRing: options.logRing,
    // WHEP viewers in `/api/v3/session` (collector `webrtc`); the routes are made further down.
    webrtcSessions: () => whep?.sessions.list() ?? [],
    rtmpLimits: {
      maxConnections: config.rtmp.max_connections,
      maxConnectionsPerAddress: config.rtmp.max_connections_per_address,
      handshakeTimeoutMs: config.rtmp.handshake_timeout_sec * 1000,
      startTimeoutMs: config.rtmp.start_timeout_sec * 1000,
    },
  }).catch((error: unknown) => {
    closeEarly();
    throw error;
  });
  // Cluster mode: connected before the manager exists, since its start gate runs for restored processes.
  // Loaded only then: a single node never loads the Redis client.
  const cluster = config.cluster.enable
    ? await import('./cluster/cluster.js')
        .then(({ Cluster }) =>
          Cluster.connect({ config, logger, version: coreVersion, httpAddress, webrtcOf }),
        )
        .catch(async (error: unknown) => {
          await services.close();
          closeEarly();
          throw error;
        })
    : undefined;
  const manager = await ProcessManager.create({
    dataDir: config.db.dir,
    ffmpegBinary: config.ffmpeg.binary,
    logLines: config.ffmpeg.log.max_lines,
    historyRuns: config.ffmpeg.log.max_history,
    logger: logger.child({ component: 'restream' }),
    placeholders: services.placeholders,
    access: ffmpegAccessOf(config, configStore.file),
    hooks: processHooks(cluster, webrtc),
  }).catch(async (error: unknown) => {
    await cluster?.close();
    await services.close();
    closeEarly();
    throw error;
  });
  cluster?.attach(
    manager,
    webrtc && {
      ports,
      viewers: (processId) => whep?.sessions.count(processId) ?? 0,
      source: (processId) => webrtc.source(processId),
      sourceClosed: (processId) => whep?.sessions.closeAll(processId),
    },
  );
  const { publicRoutes } = services.attachProcesses(manager);

  const app = new Hono();
  app.onError((error, c) => {
    const response = renderError(error, c);
    // A WHEP 5xx (a viewer limit, a failing input) is an answer, not a failure: the WHEP routes log
    // their refusals themselves, one short line each.
    if (response.status >= 500 && !(error instanceof WhepError)) {
      logger.error({ err: error, path: c.req.path }, 'request failed');
    }
    return response;
  });
  app.notFound((c) => c.json({ code: 404, message: 'Not Found', details: [] }, 404));

  let peerFactory: PeerFactory | undefined;
  if (webrtc) {
    const publicIps = [config.webrtc.public_ip, ...config.webrtc.nat_1_to_1_ips].filter((ip) => ip !== '');
    peerFactory = new PeerFactory({
      iceServers: config.webrtc.ice_servers.map(({ urls, username, credential }) => ({
        urls,
        ...(username ? { username } : {}),
        ...(credential ? { credential } : {}),
      })),
      disconnectTimeoutMs: config.webrtc.disconnect_timeout_seconds * 1000,
      ...(udpMux ? { udpMux } : {}),
      ...(tcpMux ? { tcpMux } : {}),
      ...(publicIps.length > 0 ? { publicIps } : {}),
      ...(config.webrtc.interfaces.length > 0 ? { interfaceAddresses: config.webrtc.interfaces } : {}),
      ...(config.webrtc.ice_port_max > 0
        ? { icePortRange: [config.webrtc.ice_port_min, config.webrtc.ice_port_max] as [number, number] }
        : {}),
    });
    const subsystem = webrtc;
    const factory = peerFactory;
    const local = createWhepLookup({
      manager,
      webrtcOf,
      source: (processId) => subsystem.source(processId),
      maxViewersPerProcess: config.webrtc.max_viewers_per_process,
    });
    // In a cluster, other nodes' processes too: served from this node's pull of them.
    const { lookup, concealProcessIds } = cluster ? cluster.whepLookup(local) : local;
    whep = createWhepRoutes({
      lookup,
      concealProcessIds,
      createPeer: (source, offerSdp) => factory.createPeer(source, offerSdp),
      checkOffer,
      iceServers: config.webrtc.ice_servers,
      ...(config.webrtc.token ? { token: config.webrtc.token } : {}),
      ...(config.webrtc.max_viewers > 0 ? { maxViewers: config.webrtc.max_viewers } : {}),
      ...(config.webrtc.max_offers_per_minute > 0
        ? { rateLimit: { windowMs: 60_000, maxOffers: config.webrtc.max_offers_per_minute } }
        : {}),
      clientAddress: (c) => clientAddress(c) ?? 'unknown',
      logger: logger.child({ component: 'whep' }),
    });
    // Cluster mode: serve here (pulling if need be) or redirect; session URLs made absolute.
    if (cluster) app.use('/api/v3/process/:id/whep', cluster.whep());
    // WHEP has its own token rule, so it is mounted before the admin guard.
    app.route('/', whep.routes);
    const routes = whep;
    // What the player tells its viewer (plan line, "not decodable" and why), under WHEP's token
    // rule: codecs and our own health words only, never the input's address or FFmpeg's log.
    app.get('/player/:id/status', (c) => {
      const processId = c.req.param('id');
      const entry = routes.authorize(c, processId);
      if (!entry) throw new ProcessNotFoundError(processId);
      c.header('Cache-Control', 'no-store');
      return c.json(viewerStatus(entry.state, subsystem.status(processId)));
    });
  }

  app.get('/ping', (c) => c.text('pong'));
  // The player is made to be embedded (an iframe on a channel's website): any page may frame it.
  app.get('/player/:id', (c) =>
    c.html(playerPage(c.req.param('id')), 200, { 'Content-Security-Policy': 'frame-ancestors *' }),
  );
  if (config.metrics.enable_prometheus) {
    const metrics = createMetrics({
      manager,
      source: (processId) => webrtc?.source(processId),
      viewers: (processId) => whep?.sessions.count(processId) ?? 0,
      dataPlane: webrtc?.plane,
    });
    app.get('/metrics', async (c) => {
      const withProcessIds = await auth.isAuthorized(c);
      return c.body(await metrics.render({ withProcessIds }), 200, { 'Content-Type': metrics.contentType });
    });
  }
  app.use('/api/login', limitBody(loginBodyLimitBytes));
  // File uploads (`/api/v3/fs/…`) are bounded by their filesystem's size, not the JSON body limit.
  const jsonBodyLimit = limitBody(apiBodyLimitBytes);
  app.use('/api/*', apiCors(), (c, next) =>
    c.req.path.startsWith('/api/v3/fs/') ? next() : jsonBodyLimit(c, next),
  );
  app.route('/', auth.routes);
  app.route(
    '/',
    createAboutRoute({
      auth,
      id: config.id,
      name: config.name,
      startedAt,
      dragonVersion: coreVersion,
      webrtcEnabled: config.webrtc.enable,
      dataPlane: config.webrtc.enable ? dataPlaneStatus : undefined,
    }),
  );
  app.get('/api/swagger', (c) => c.html(swaggerPage('/api/swagger/doc.json', '/api/swagger/ui')));
  app.get('/api/swagger/ui/:file', (c) => {
    const asset = swaggerAsset(c.req.param('file'));
    if (!asset) throw new HttpError(404, 'Not Found');
    return c.body(new Uint8Array(asset.body), 200, {
      'Content-Type': asset.type,
      'Cache-Control': 'max-age=86400',
    });
  });
  app.get('/api/swagger/doc.json', (c) => c.json(openApiDocument(coreVersion)));

  // Public (the widget) and the file API (its own guard, no JSON body limit) come before the group.
  app.route('/api/v3', publicRoutes);
  app.route('/api/v3', services.fsApiRoutes);
  const v3 = new Hono();
  v3.use(cluster ? cluster.guard(auth.guard) : auth.guard);
  if (cluster) {
    v3.route('/', cluster.routes());
    v3.route('/', cluster.processApi());
  }
  v3.route(
    '/',
    createProcessRoutes(manager, {
      stateExtras: (id) => {
        const status = webrtc?.status(id);
        return status ? { webrtc: status } : {};
      },
    }),
  );
  v3.route('/', createConfigRoutes({ configStore, requestReload: options.requestReload }));
  v3.route('/', services.apiRoutes);
  app.route('/api/v3', v3);
  // A built UI (the Restreamer UI) at `/ui`, as datarhei serves `router.ui_path`.
  if (config.router.ui_path !== '') {
    app.route(
      '/',
      createStaticSiteRoutes({ root: config.router.ui_path, corsOrigins: config.storage.cors.origins }),
    );
  }
  // The filesystems last: disk is mounted at `/` and falls through when it has no such file.
  app.route('/', services.fileRoutes);
  app.get('/', (c) => c.redirect('/api/swagger'));

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      whep?.sessions.closeAll();
      await cluster?.close();
      await webrtc?.close();
      await manager.close();
      await services.close();
      await peerFactory?.close();
      udpMux?.close();
      tcpMux?.close();
      ports.close();
    })();
    return closed;
  };
  return { app, manager, webrtc, config, services, close };
}
