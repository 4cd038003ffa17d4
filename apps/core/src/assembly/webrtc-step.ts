import { isIPv4 } from 'node:net';
import type { Cluster } from '@dragon/cluster';
import { PortAllocator } from '@dragon/portalloc';
import { defaultFFmpegEnvironment, type ProcessConfig, type ProcessManager } from '@dragon/restream';
import {
  checkOffer,
  IceTcpMux,
  PeerFactory,
  type PublisherFactoryOptions,
  type RtpSource,
  UdpMux,
} from '@dragon/webrtc';
import { createWhepRoutes, type WhepRoutes, type WhepRoutesOptions } from '@dragon/whep-http';
import type { Context } from 'hono';
import type { Logger } from 'pino';
import { clientAddress } from '../api/client-address.js';
import type { Config } from '../config/config-schema.js';
import { LoopbackFeeds } from '../webrtc/loopback-feeds.js';
import { type ProcessWebRtc, WebRtcPolicy } from '../webrtc/webrtc-policy.js';
import { WebRtcSubsystem } from '../webrtc/webrtc-subsystem.js';
import { createWhepLookup } from '../webrtc/whep-lookup.js';

/**
 * The WHEP viewers. The routes that hold them are made last (they need the process manager); the
 * parts made before — the subsystem, the sessions API, the cluster, the metrics — read them here.
 */
export class WhepViewers {
  routes: WhepRoutes | undefined;
  list() {
    return this.routes?.sessions.list() ?? [];
  }
  count(processId?: string): number {
    return this.routes?.sessions.count(processId) ?? 0;
  }
  closeAll(processId?: string): void {
    this.routes?.sessions.closeAll(processId);
  }
}

/** What WebRTC needs before any process starts. */
export interface WebRtcParts {
  readonly ports: PortAllocator;
  /** Which processes send WebRTC: their own `webrtc` block, else `webrtc.auto_enable`. */
  readonly webrtcOf: (id: string, config: ProcessConfig) => ProcessWebRtc | undefined;
  /** With `webrtc.enable`. */
  readonly subsystem: WebRtcSubsystem | undefined;
  readonly udpMux: UdpMux | undefined;
  readonly tcpMux: IceTcpMux | undefined;
  readonly viewers: WhepViewers;
  /**
   * With `webrtc.enable`: the loopback RTSP feed FFmpeg reads data-plane sources from (a WHIP
   * publication as a process input, a process's picture for its VP8 made on demand).
   */
  readonly feeds: LoopbackFeeds | undefined;
  /** Closes the shared ports and the RTP port range. */
  closePorts(): void;
}

/**
 * Step one: the RTP port range, the WebRTC subsystem (its hooks go into the manager at creation, so
 * processes restored from the store start with their WebRTC legs) and the shared ICE ports. The
 * shared ports open before anything starts FFmpeg: a port in use fails the boot with nothing left
 * running (restored processes start inside `ProcessManager.create`).
 */
export async function openWebRtc(config: Config, logger: Logger): Promise<WebRtcParts> {
  const ports = new PortAllocator(
    config.webrtc.rtp_port_max > 0
      ? { range: { min: config.webrtc.rtp_port_min, max: config.webrtc.rtp_port_max } }
      : {},
  );
  const policy = new WebRtcPolicy(config.webrtc);
  const viewers = new WhepViewers();
  let subsystem: WebRtcSubsystem | undefined;
  const feeds = config.webrtc.enable
    ? await LoopbackFeeds.open((processId) => subsystem?.source(processId))
    : undefined;
  subsystem = feeds
    ? new WebRtcSubsystem({
        ports,
        logger: logger.child({ component: 'webrtc' }),
        policy,
        ffmpegBinary: config.ffmpeg.binary,
        // ffprobe reads an input as FFmpeg will: same scrubbed environment, same working directory.
        probeEnvironment: Object.fromEntries(
          defaultFFmpegEnvironment.flatMap((name) => {
            const value = process.env[name];
            return value === undefined ? [] : [[name, value]];
          }),
        ),
        probeCwd: process.cwd(),
        onSourceClosed: (processId) => viewers.closeAll(processId),
        pictureUrl: (processId) => feeds.processUrl(processId),
      })
    : undefined;
  let udpMux: UdpMux | undefined;
  let tcpMux: IceTcpMux | undefined;
  const closePorts = () => {
    void feeds?.close();
    udpMux?.close();
    tcpMux?.close();
    ports.close();
  };
  if (subsystem) {
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
      closePorts();
      throw error;
    }
  }
  const webrtcOf = (id: string, processConfig: ProcessConfig) => policy.of(id, processConfig);
  return { ports, webrtcOf, subsystem, udpMux, tcpMux, viewers, feeds, closePorts };
}

/**
 * The ICE transport of every peer, viewers' and publishers': servers, the shared ports, public and
 * interface addresses, port range.
 */
function iceTransport(config: Config, parts: WebRtcParts): PublisherFactoryOptions {
  const { udpMux, tcpMux } = parts;
  const publicIps = [config.webrtc.public_ip, ...config.webrtc.nat_1_to_1_ips].filter((ip) => ip !== '');
  return {
    iceServers: config.webrtc.ice_servers.map(({ urls, username, credential }) => ({
      urls,
      ...(username ? { username } : {}),
      ...(credential ? { credential } : {}),
    })),
    ...(udpMux ? { udpMux } : {}),
    ...(tcpMux ? { tcpMux } : {}),
    ...(publicIps.length > 0 ? { publicIps } : {}),
    ...(config.webrtc.interfaces.length > 0 ? { interfaceAddresses: config.webrtc.interfaces } : {}),
    ...(config.webrtc.ice_port_max > 0
      ? { icePortRange: [config.webrtc.ice_port_min, config.webrtc.ice_port_max] as [number, number] }
      : {}),
  };
}

/** The WHEP routes and the peer factory behind them. */
export interface Whep {
  readonly routes: WhepRoutes;
  readonly subsystem: WebRtcSubsystem;
  readonly peerFactory: PeerFactory;
  /** The ICE transport the viewers use: WHIP publishers use the same. */
  readonly transport: PublisherFactoryOptions;
  /** The server's viewer rules (engine, tokens, limits): every WHEP mount applies them. */
  readonly viewerRules: WhepViewerRules;
}

/** What every WHEP mount of the server shares: processes' viewers and WHIP publications' alike. */
export type WhepViewerRules = Omit<WhepRoutesOptions<RtpSource>, 'lookup' | 'basePath' | 'logger'> & {
  clientAddress: (c: Context) => string;
};

/**
 * WHEP over the processes of `manager` (in a cluster, other nodes' too: served from this node's pull
 * of them). Hands the routes' viewers to `parts.viewers`.
 */
export function createWhep(
  config: Config,
  logger: Logger,
  parts: WebRtcParts & { subsystem: WebRtcSubsystem },
  manager: ProcessManager,
  cluster: Cluster | undefined,
): Whep {
  const { subsystem } = parts;
  const transport = iceTransport(config, parts);
  const peerFactory = new PeerFactory({
    ...transport,
    disconnectTimeoutMs: config.webrtc.disconnect_timeout_seconds * 1000,
  });
  // In the background: the first viewer after a start then waits no longer than the next ones.
  peerFactory.warmUp().catch((error: unknown) => logger.warn({ err: error }, 'WebRTC warm-up failed'));
  const local = createWhepLookup({
    manager,
    webrtcOf: parts.webrtcOf,
    source: (processId) => subsystem.source(processId),
    maxViewersPerProcess: config.webrtc.max_viewers_per_process,
  });
  const { lookup, concealProcessIds } = cluster ? cluster.whepLookup(local) : local;
  const viewerRules: WhepViewerRules = {
    createPeer: (source, offerSdp) => peerFactory.createPeer(source, offerSdp),
    checkOffer,
    iceServers: config.webrtc.ice_servers,
    ...(config.webrtc.token ? { token: config.webrtc.token } : {}),
    ...(config.webrtc.max_viewers > 0 ? { maxViewers: config.webrtc.max_viewers } : {}),
    ...(config.webrtc.max_offers_per_minute > 0
      ? { rateLimit: { windowMs: 60_000, maxOffers: config.webrtc.max_offers_per_minute } }
      : {}),
    clientAddress: (c) => clientAddress(c) ?? 'unknown',
  };
  const routes = createWhepRoutes({
    lookup,
    concealProcessIds,
    ...viewerRules,
    logger: logger.child({ component: 'whep' }),
  });
  parts.viewers.routes = routes;
  return { routes, subsystem, peerFactory, transport, viewerRules };
}
