import type { Cluster, ClusterConfig } from '@dragon/cluster';
import type { DeclaredRoutes } from '@dragon/http-routes';
import { type FFmpegAccessOptions, type ProcessHooks, ProcessManager } from '@dragon/restream';
import type { Logger } from 'pino';
import type { Auth } from '../api/auth.js';
import { clientAddress } from '../api/client-address.js';
import type { Config } from '../config/config-schema.js';
import { DatarheiServices } from '../datarhei-services.js';
import type { LogRing } from '../ops/log-ring.js';
import { coreVersion } from '../version.js';
import type { WebRtcSubsystem } from '../webrtc/webrtc-subsystem.js';
import type { WebRtcParts } from './webrtc-step.js';

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

/** The cluster's settings (`@dragon/cluster`'s `clusterConfigSchema`) from the server's config. */
function clusterConfigOf(config: Config): ClusterConfig {
  const { enable: _enable, ...cluster } = config.cluster;
  const { token, interfaces, max_viewers, max_viewers_per_process } = config.webrtc;
  return {
    id: config.id,
    name: config.name,
    host: { name: config.host.name },
    webrtc: { token, interfaces, max_viewers, max_viewers_per_process },
    cluster,
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

export interface ServicesStepOptions {
  config: Config;
  /** The config file, which FFmpeg may never touch. */
  configFile: string;
  logger: Logger;
  startedAt: Date;
  httpAddress: () => string;
  logRing: LogRing | undefined;
  auth: Auth;
  webrtc: WebRtcParts;
}

/** The processes and datarhei's services around them. */
export interface Services {
  /** datarhei's services around the processes: filesystems, RTMP/SRT, sessions, log, metrics. */
  readonly datarhei: DatarheiServices;
  readonly cluster: Cluster | undefined;
  readonly manager: ProcessManager;
  /** The widget route, which needs no token: mount at `/api/v3` before the guard. */
  readonly publicRoutes: DeclaredRoutes;
}

/**
 * Step two: datarhei's services (filesystems, RTMP and SRT servers, sessions, metrics), the cluster
 * (connected before the manager exists, since its start gate runs for restored processes; loaded
 * only then, so a single node never loads the Redis client) and the process manager. A failure
 * closes what this step opened; the caller closes the WebRTC ports.
 */
export async function startServices(options: ServicesStepOptions): Promise<Services> {
  const { config, logger, httpAddress, webrtc } = options;
  const services = await DatarheiServices.create({
    config,
    logger,
    startedAt: options.startedAt,
    httpAddress,
    clientAddress,
    guard: options.auth.guard,
    logRing: options.logRing,
    // WHEP viewers in `/api/v3/session` (collector `webrtc`); the routes are made in the API step.
    webrtcSessions: () => webrtc.viewers.list(),
    whipUrl: webrtc.feeds && config.whip.enable ? () => webrtc.feeds!.whipUrlTemplate() : undefined,
  });
  const cluster = config.cluster.enable
    ? await import('@dragon/cluster')
        .then(({ Cluster }) =>
          Cluster.connect({
            config: clusterConfigOf(config),
            logger,
            version: coreVersion,
            httpAddress,
            webrtcOf: webrtc.webrtcOf,
          }),
        )
        .catch(async (error: unknown) => {
          await services.close();
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
    access: ffmpegAccessOf(config, options.configFile),
    hooks: processHooks(cluster, webrtc.subsystem),
  }).catch(async (error: unknown) => {
    await cluster?.close();
    await services.close();
    throw error;
  });
  const subsystem = webrtc.subsystem;
  cluster?.attach(
    manager,
    subsystem && {
      ports: webrtc.ports,
      viewers: (processId) => webrtc.viewers.count(processId),
      source: (processId) => subsystem.source(processId),
      sourceClosed: (processId) => webrtc.viewers.closeAll(processId),
    },
  );
  const { publicRoutes } = services.attachProcesses(manager);
  return { datarhei: services, cluster, manager, publicRoutes };
}
