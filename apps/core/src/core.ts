import { readFileSync } from 'node:fs';
import { type AddressInfo, isIPv4 } from 'node:net';
import { PortAllocator } from '@dragon/portalloc';
import { ProcessManager } from '@dragon/restream';
import { IceTcpMux, PeerFactory, UdpMux } from '@dragon/webrtc';
import { createWhepRoutes } from '@dragon/whep-http';
import { getConnInfo } from '@hono/node-server/conninfo';
import { type Context, Hono } from 'hono';
import type { Logger } from 'pino';
import { createAboutRoute } from './api/about-route.js';
import { ApiError, errorResponse } from './api/api-error.js';
import { apiBodyLimitBytes, apiCors, limitBody, loginBodyLimitBytes } from './api/api-middleware.js';
import { createAuth } from './api/auth.js';
import { createConfigRoutes } from './api/config-routes.js';
import { createProcessRoutes } from './api/process-routes.js';
import { Cluster } from './cluster/cluster.js';
import type { Config } from './config/config-schema.js';
import type { ConfigStore } from './config/config-store.js';
import { collectMetrics } from './ops/collect-metrics.js';
import { renderMetrics, withoutProcessSamples } from './ops/metrics.js';
import { openApiDocument, swaggerAsset, swaggerPage } from './ops/openapi.js';
import { playerPage } from './ops/player-page.js';
import { WebRtcSubsystem } from './webrtc/webrtc-subsystem.js';

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
  /** Where the HTTP server listens, once it does: cluster mode advertises it. */
  listenAddress?: () => AddressInfo | undefined;
}

export interface Core {
  readonly app: Hono;
  readonly manager: ProcessManager;
  readonly webrtc: WebRtcSubsystem | undefined;
  readonly config: Config;
  close(): Promise<void>;
}

export function clientAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/** Assembles process manager, WebRTC and HTTP API for one configuration. */
export async function createCore(options: CoreOptions): Promise<Core> {
  const { configStore, logger } = options;
  const config = options.config ?? configStore.config;
  const startedAt = new Date();
  // Cluster mode: connected before the manager exists, to learn which processes moved away meanwhile.
  const cluster = config.cluster.enable
    ? await Cluster.connect({
        config,
        logger,
        version: coreVersion,
        listenAddress: options.listenAddress ?? (() => undefined),
      })
    : undefined;
  let manager: ProcessManager;
  try {
    manager = await ProcessManager.create({
      dataDir: config.db.dir,
      ffmpegBinary: config.ffmpeg.binary,
      logLines: config.ffmpeg.log.max_lines,
      historyRuns: config.ffmpeg.log.max_history,
      logger: logger.child({ component: 'restream' }),
      placeholders: { diskfs: config.storage.disk.dir },
    });
  } catch (error) {
    await cluster?.close();
    throw error;
  }
  // Right after the await of create() itself (no promise between): a process another node took over
  // must have its order turned to stop before its restored start gets past its first await.
  cluster?.adopt(manager);

  const app = new Hono();
  app.onError((error, c) => {
    const response = errorResponse(error, c);
    if (response.status >= 500) logger.error({ err: error, path: c.req.path }, 'request failed');
    return response;
  });
  app.notFound((c) => c.json({ code: 404, message: 'Not Found', details: [] }, 404));

  const auth = createAuth({
    enable: config.api.auth.enable,
    username: config.api.auth.username,
    password: config.api.auth.password,
    jwtSecret: config.api.auth.jwt.secret,
    disableLocalhost: config.api.auth.disable_localhost,
    clientAddress,
  });

  let webrtc: WebRtcSubsystem | undefined;
  let whep: ReturnType<typeof createWhepRoutes> | undefined;
  let peerFactory: PeerFactory | undefined;
  let udpMux: UdpMux | undefined;
  let tcpMux: IceTcpMux | undefined;
  const ports = new PortAllocator(
    config.webrtc.rtp_port_max > 0
      ? { range: { min: config.webrtc.rtp_port_min, max: config.webrtc.rtp_port_max } }
      : {},
  );
  if (config.webrtc.enable) {
    const publicIps = [config.webrtc.public_ip, ...config.webrtc.nat_1_to_1_ips].filter((ip) => ip !== '');
    // The shared ports listen where ICE gathers: the first configured IPv4 interface, else all.
    const muxAddress = config.webrtc.interfaces.find((address) => isIPv4(address)) ?? '0.0.0.0';
    if (config.webrtc.udp_mux_port > 0) {
      udpMux = await UdpMux.open({ port: config.webrtc.udp_mux_port, address: muxAddress });
    }
    if (config.webrtc.tcp_mux_port > 0) {
      tcpMux = await IceTcpMux.open({ port: config.webrtc.tcp_mux_port, address: muxAddress }).catch(
        (error) => {
          udpMux?.close();
          throw error;
        },
      );
    }
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
    const subsystem = new WebRtcSubsystem({
      manager,
      ports,
      logger: logger.child({ component: 'webrtc' }),
      onSourceClosed: (processId) => whep?.sessions.closeAll(processId),
    });
    subsystem.install();
    webrtc = subsystem;
    cluster?.serveMedia({ ports, sources: subsystem.registry });
    const factory = peerFactory;
    whep = createWhepRoutes({
      lookup: (processId) => {
        // Another node's process: served from this node's pull of it, if there is one.
        if (!manager.has(processId)) return cluster?.lookup(processId);
        // A stopped process has no stream to offer (404); one ordered to run without media yet is a 409.
        if (manager.getState(processId).order !== 'start') return undefined;
        const { webrtc: processWebRtc } = manager.getConfig(processId);
        if (!processWebRtc.enabled) return { enabled: false };
        const source = subsystem.source(processId);
        const running = manager.getState(processId).exec === 'running';
        return {
          enabled: true,
          ...(processWebRtc.token ? { token: processWebRtc.token } : {}),
          ...(source && running ? { source } : {}),
          ...(config.webrtc.max_viewers_per_process > 0
            ? { maxViewers: config.webrtc.max_viewers_per_process }
            : {}),
        };
      },
      createPeer: (source, offerSdp) => factory.createPeer(source, offerSdp),
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
  }

  app.get('/ping', (c) => c.text('pong'));
  app.get('/player/:id', (c) => c.html(playerPage(c.req.param('id'))));
  app.get('/', (c) => c.redirect('/api/swagger'));
  if (config.metrics.enable_prometheus) {
    app.get('/metrics', async (c) => {
      const metrics = collectMetrics(manager, webrtc);
      // With auth on, an anonymous scraper gets totals only: process ids are not public.
      const visible = (await auth.isAuthorized(c)) ? metrics : withoutProcessSamples(metrics);
      return c.text(renderMetrics(visible), 200, { 'Content-Type': 'text/plain; version=0.0.4' });
    });
  }
  app.use('/api/login', limitBody(loginBodyLimitBytes));
  app.use('/api/*', apiCors(), limitBody(apiBodyLimitBytes));
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
    }),
  );
  app.get('/api/swagger', (c) => c.html(swaggerPage('/api/swagger/doc.json', '/api/swagger/ui')));
  app.get('/api/swagger/ui/:file', (c) => {
    const asset = swaggerAsset(c.req.param('file'));
    if (!asset) throw new ApiError(404, 'Not Found');
    return c.body(new Uint8Array(asset.body), 200, {
      'Content-Type': asset.type,
      'Cache-Control': 'max-age=86400',
    });
  });
  app.get('/api/swagger/doc.json', (c) => c.json(openApiDocument(coreVersion)));

  const v3 = new Hono();
  v3.use(cluster ? cluster.guard(auth.guard) : auth.guard);
  if (cluster) {
    v3.route('/', cluster.routes());
    v3.route('/', cluster.processApi());
  }
  v3.route('/', createProcessRoutes(manager));
  v3.route('/', createConfigRoutes({ configStore, requestReload: options.requestReload }));
  app.route('/api/v3', v3);

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      whep?.sessions.closeAll();
      await cluster?.close();
      await webrtc?.close();
      await manager.close();
      await peerFactory?.close();
      udpMux?.close();
      tcpMux?.close();
      ports.close();
    })();
    return closed;
  };
  return { app, manager, webrtc, config, close };
}
