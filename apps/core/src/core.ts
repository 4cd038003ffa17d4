import type { ProcessManager } from '@dragon/restream';
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import { createAuth } from './api/auth.js';
import { clientAddress } from './api/client-address.js';
import { createApi } from './assembly/api-step.js';
import { startServices } from './assembly/services-step.js';
import { createWhep, openWebRtc } from './assembly/webrtc-step.js';
import type { Config } from './config/config-schema.js';
import type { ConfigStore } from './config/config-store.js';
import type { DatarheiServices } from './datarhei-services.js';
import type { LogRing } from './ops/log-ring.js';
import type { WebRtcSubsystem } from './webrtc/webrtc-subsystem.js';
import { createWhip } from './whip/whip-mount.js';

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

/**
 * Assembles one configuration in three steps: WebRTC's ports and subsystem (before any process
 * starts), the services and the process manager, then WHEP, WHIP (with `whip.enable`) and the HTTP
 * API over them. A failing step leaves nothing open.
 */
export async function createCore(options: CoreOptions): Promise<Core> {
  const { configStore, logger } = options;
  const config = options.config ?? configStore.config;
  const startedAt = new Date();
  const webrtc = await openWebRtc(config, logger);
  const auth = createAuth({
    enable: config.api.auth.enable,
    username: config.api.auth.username,
    password: config.api.auth.password,
    jwtSecret: config.api.auth.jwt.secret,
    disableLocalhost: config.api.auth.disable_localhost,
    clientAddress,
  });
  const services = await startServices({
    config,
    configFile: configStore.file,
    logger,
    startedAt,
    httpAddress: options.httpAddress ?? (() => config.address),
    logRing: options.logRing,
    auth,
    webrtc,
  }).catch((error: unknown) => {
    webrtc.closePorts();
    throw error;
  });
  const { subsystem } = webrtc;
  const whep = subsystem
    ? createWhep(config, logger, { ...webrtc, subsystem }, services.manager, services.cluster)
    : undefined;
  const whip =
    whep && config.whip.enable
      ? createWhip({
          config,
          plane: whep.subsystem.plane,
          transport: whep.transport,
          viewerRules: whep.viewerRules,
          logger: logger.child({ component: 'whip' }),
        })
      : undefined;
  // `{whip,name=…}` inputs read the publications from the loopback feed.
  if (webrtc.feeds && whip) webrtc.feeds.publications = (name) => whip.source(name);
  const app = createApi({
    config,
    configStore,
    logger,
    startedAt,
    requestReload: options.requestReload,
    auth,
    webrtc,
    whep,
    whip,
    services,
  });

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      webrtc.viewers.closeAll();
      await whip?.close();
      await services.cluster?.close();
      await subsystem?.close();
      await services.manager.close();
      await services.datarhei.close();
      await whep?.peerFactory.close();
      webrtc.closePorts();
    })();
    return closed;
  };
  return { app, manager: services.manager, webrtc: subsystem, config, services: services.datarhei, close };
}
