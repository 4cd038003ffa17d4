import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { PortAllocator } from '@dragon/portalloc';
import { ProcessManager } from '@dragon/restream';
import { IceTcpMux, PeerFactory, UdpMux } from '@dragon/webrtc';
import { createWhepRoutes } from '@dragon/whep-http';
import { getConnInfo } from '@hono/node-server/conninfo';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { ApiError, errorResponse, readJson } from './api/api-error.js';
import { createAuth } from './api/auth.js';
import { createProcessRoutes } from './api/process-routes.js';
import type { Config } from './config/config-schema.js';
import type { ConfigStore } from './config/config-store.js';
import { collectMetrics } from './ops/collect-metrics.js';
import { renderMetrics } from './ops/metrics.js';
import { openApiDocument, swaggerAsset, swaggerPage } from './ops/openapi.js';
import { playerPage } from './ops/player-page.js';
import { WebRtcSubsystem } from './webrtc/webrtc-subsystem.js';

export const coreVersion: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

/** Largest management request body (a process config with many inputs is a few KiB). */
const apiBodyLimitBytes = 1024 * 1024;

export interface CoreOptions {
  configStore: ConfigStore;
  logger: Logger;
  /** Asks the owner to apply the saved config (datarhei's `GET /api/v3/config/reload`). */
  requestReload?: () => void;
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
  const config = configStore.config;
  const startedAt = new Date();
  const ports = new PortAllocator(
    config.webrtc.rtp_port_max > 0
      ? { range: { min: config.webrtc.rtp_port_min, max: config.webrtc.rtp_port_max } }
      : {},
  );
  let whep: ReturnType<typeof createWhepRoutes> | undefined;
  // The hooks go in at creation, so processes restored from the store start with their WebRTC legs.
  const webrtc = config.webrtc.enable
    ? new WebRtcSubsystem({
        ports,
        logger: logger.child({ component: 'webrtc' }),
        onSourceClosed: (processId) => whep?.sessions.closeAll(processId),
      })
    : undefined;
  const manager = await ProcessManager.create({
    dataDir: config.db.dir,
    ffmpegBinary: config.ffmpeg.binary,
    logLines: config.ffmpeg.log.max_lines,
    historyRuns: config.ffmpeg.log.max_history,
    logger: logger.child({ component: 'restream' }),
    placeholders: { diskfs: config.db.dir },
    access: { protectedPaths: [configStore.file] },
    ...(webrtc ? { hooks: webrtc.hooks } : {}),
  });

  const app = new Hono();
  app.onError((error, c) => {
    if (!(error instanceof ApiError) && !(error as { code?: unknown }).code) {
      logger.error({ err: error, path: c.req.path }, 'request failed');
    }
    return errorResponse(error, c);
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

  let peerFactory: PeerFactory | undefined;
  let udpMux: UdpMux | undefined;
  let tcpMux: IceTcpMux | undefined;
  if (webrtc) {
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
    const subsystem = webrtc;
    const factory = peerFactory;
    whep = createWhepRoutes({
      lookup: (processId) => {
        // A stopped process has no stream to offer (404); one ordered to run without media yet is a 409.
        if (!manager.has(processId) || manager.getState(processId).order !== 'start') return undefined;
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
    // WHEP has its own token rule, so it is mounted before the admin guard.
    app.route('/', whep.routes);
  }

  app.get('/ping', (c) => c.text('pong'));
  app.get('/player/:id', (c) => c.html(playerPage(c.req.param('id'))));
  app.get('/', (c) => c.redirect('/api/swagger'));
  app.get('/metrics', (c) =>
    c.text(renderMetrics(collectMetrics(manager, webrtc)), 200, {
      'Content-Type': 'text/plain; version=0.0.4',
    }),
  );
  app.route('/', auth.routes);
  app.get('/api', async (c) => {
    const about = {
      app: 'dragon-core',
      name: 'dragon',
      created_at: startedAt.toISOString(),
      uptime_seconds: Math.floor((Date.now() - startedAt.getTime()) / 1000),
      auths: config.api.auth.enable ? ['localjwt'] : [],
      version: { number: coreVersion, api: 'v3' },
    };
    return c.json(
      (await auth.isAuthorized(c)) ? { ...about, webrtc: { enabled: config.webrtc.enable } } : about,
    );
  });
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
  v3.use(
    bodyLimit({
      maxSize: apiBodyLimitBytes,
      onError: () => {
        throw new ApiError(413, 'Request body too large', [`the limit is ${apiBodyLimitBytes} bytes`]);
      },
    }),
  );
  v3.use(auth.guard);
  v3.route('/', createProcessRoutes(manager));
  v3.get('/config', (c) => c.json(configStore.view()));
  v3.put('/config', async (c) => {
    configStore.save(await readJson(c));
    return c.json(configStore.view());
  });
  v3.get('/config/reload', (c) => {
    if (!options.requestReload) throw new ApiError(501, 'Reload is not available');
    setImmediate(options.requestReload);
    return c.json('OK');
  });
  app.route('/api/v3', v3);

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      whep?.sessions.closeAll();
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
