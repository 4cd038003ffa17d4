import { readFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { z } from 'zod';
import type { SessionCollector } from '../sessions/session-collector.js';
import { IngestListenError } from './errors.js';
import { type NmsConnectRequest, type NmsPacket, NmsRtmpProtocol } from './nms-protocol.js';
import { splitToken, streamPath, streamReference } from './rtmp-url.js';

const listenAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]*):\d{1,5}$/, 'must be host:port or :port');

/** datarhei's `rtmp.*` config, as the RTMP server needs it. */
/** `GET /api/v3/rtmp`: the published channels, datarhei's `[]api.RTMPChannel`. */
export const rtmpChannelsSchema = z.array(z.object({ name: z.string() }));

export const rtmpServerOptionsSchema = z.object({
  /** `rtmp.address`. @default ':1935' */
  address: listenAddress.default(':1935'),
  /** `rtmp.app`: publishing is only allowed below this path. @default '/' */
  app: z.string().startsWith('/').default('/'),
  /** `rtmp.token`: required from publishers and players when set. */
  token: z.string().default(''),
  /** RTMPS (`rtmp.enable_tls`) on `rtmp.address_tls` with `tls.cert_file`/`tls.key_file`. */
  tls: z
    .object({ address: listenAddress, certFile: z.string().min(1), keyFile: z.string().min(1) })
    .optional(),
  /** A connection silent this long is closed (datarhei: 10 s). @default 10000 */
  idleTimeoutMs: z.number().int().min(100).default(10_000),
  /** A player whose socket buffers more than this is too slow to follow and is dropped. @default 16 MiB */
  maxPlayerBufferBytes: z
    .number()
    .int()
    .min(65_536)
    .default(16 * 1024 * 1024),
});
export type RtmpServerOptions = z.input<typeof rtmpServerOptionsSchema>;

/** pino-compatible. */
export interface IngestLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  debug(object: object, message: string): void;
}

/** Cached messages a late player needs before live packets: bounded, a GOP can be long. */
const maxGopMessages = 4096;

interface Channel {
  path: string;
  reference: string;
  publisher: Socket;
  metadata: Buffer | undefined;
  audioHeader: Buffer | undefined;
  videoHeader: Buffer | undefined;
  gop: Buffer[];
  /** Each player with its session id when it is counted. */
  players: Map<Socket, string | undefined>;
}

function hostPort(address: string): { host: string | undefined; port: number } {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  return { host: host || undefined, port: Number(address.slice(separator + 1)) };
}

function listen(server: Server, address: string, protocol: 'rtmp' | 'rtmps'): Promise<void> {
  const { host, port } = hostPort(address);
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => reject(new IngestListenError(protocol, address, { cause: error }));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
}

/**
 * datarhei's RTMP server: publish to `rtmp://host:1935/<app>/<name>` (token as `?token=` or as the
 * last path element), play the same path; `/api/v3/rtmp` lists what is published. One publisher per
 * path; a player joins with the stream's headers and the cached GOP, then gets live messages.
 */
export class RtmpServer {
  readonly #options: z.infer<typeof rtmpServerOptionsSchema>;
  readonly #servers: Server[] = [];
  readonly #channels = new Map<string, Channel>();
  readonly #sockets = new Set<Socket>();
  readonly #collector: SessionCollector;
  readonly #logger: IngestLogger;
  #closed: Promise<void> | undefined;

  private constructor(
    options: z.infer<typeof rtmpServerOptionsSchema>,
    collector: SessionCollector,
    logger: IngestLogger,
  ) {
    this.#options = options;
    this.#collector = collector;
    this.#logger = logger;
  }

  /** Listens on `rtmp.address` (and `rtmp.address_tls`); rejects with `IngestListenError`. */
  static async start(
    options: RtmpServerOptions,
    collector: SessionCollector,
    logger: IngestLogger,
  ): Promise<RtmpServer> {
    const parsed = rtmpServerOptionsSchema.parse(options);
    const server = new RtmpServer(parsed, collector, logger);
    try {
      const plain = createServer((socket) => server.#accept(socket));
      server.#servers.push(plain);
      await listen(plain, parsed.address, 'rtmp');
      if (parsed.tls) {
        const [cert, key] = await Promise.all([
          readFile(parsed.tls.certFile),
          readFile(parsed.tls.keyFile),
        ]).catch((error: unknown) => {
          throw new IngestListenError('rtmps', parsed.tls!.address, { cause: error });
        });
        const secure = createTlsServer({ cert, key }, (socket) => server.#accept(socket));
        server.#servers.push(secure);
        await listen(secure, parsed.tls.address, 'rtmps');
      }
    } catch (error) {
      await server.close();
      throw error;
    }
    return server;
  }

  /** The bound RTMP port (useful when `rtmp.address` asked for port 0). */
  get port(): number {
    return (this.#servers[0]?.address() as AddressInfo | null)?.port ?? 0;
  }

  /** The listen address with the bound port, for `{rtmp}` URLs. */
  get address(): string {
    const { host } = hostPort(this.#options.address);
    return `${host?.includes(':') ? `[${host}]` : (host ?? '')}:${this.port}`;
  }

  /** The paths being published, datarhei's `/api/v3/rtmp` names. */
  channels(): string[] {
    return [...this.#channels.keys()];
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      for (const socket of this.#sockets) socket.destroy();
      await Promise.all(
        this.#servers.map(
          (server) =>
            new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
        ),
      );
    })();
    return this.#closed;
  }

  #accept(socket: Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    const remote = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`;
    const ip = socket.remoteAddress ?? '';
    const collectable = this.#collector.isCollectableIp(ip);
    const protocol = new NmsRtmpProtocol();
    let request: NmsConnectRequest | undefined;
    let role:
      | { kind: 'publisher'; channel: Channel }
      | { kind: 'player'; channel: Channel; id: string }
      | undefined;

    const refuse = (path: string, reason: string) => {
      this.#logger.warn({ component: 'rtmp', path, client: remote }, reason);
      socket.destroy();
    };
    const authorize = (action: 'publish' | 'play'): string | undefined => {
      if (!request) return undefined;
      let path = streamPath(request.app, request.name);
      if (this.#options.token) {
        const split = splitToken(path, request.query);
        if (!split.token) return void refuse(path, `${action} refused: no token`);
        if (split.token !== this.#options.token)
          return void refuse(split.path, `${action} refused: invalid token`);
        path = split.path;
      }
      return path;
    };

    protocol.onConnectCallback = (connect) => {
      request = connect;
    };
    protocol.onOutputCallback = (buffer) => {
      if (!socket.destroyed) socket.write(buffer);
    };
    protocol.onPushCallback = () => {
      const path = authorize('publish');
      if (path === undefined) return;
      if (!path.startsWith(this.#options.app)) return refuse(path, 'publish refused: invalid app');
      if (this.#channels.has(path)) return refuse(path, 'publish refused: already publishing');
      const channel: Channel = {
        path,
        reference: streamReference(path, this.#options.app),
        publisher: socket,
        metadata: undefined,
        audioHeader: undefined,
        videoHeader: undefined,
        gop: [],
        players: new Map(),
      };
      this.#channels.set(path, channel);
      role = { kind: 'publisher', channel };
      if (collectable)
        this.#collector.registerAndActivate(path, channel.reference, `publish:${path}`, remote);
      this.#logger.info({ component: 'rtmp', path, client: remote }, 'publish started');
    };
    protocol.onPlayCallback = () => {
      const path = authorize('play');
      if (path === undefined) return;
      const channel = this.#channels.get(path);
      if (!channel) return refuse(path, 'play refused: nothing is published there');
      for (const buffer of [channel.metadata, channel.audioHeader, channel.videoHeader, ...channel.gop]) {
        if (buffer) socket.write(buffer);
      }
      channel.players.set(socket, collectable ? remote : undefined);
      role = { kind: 'player', channel, id: remote };
      if (collectable) this.#collector.registerAndActivate(remote, channel.reference, `play:${path}`, remote);
      this.#logger.info({ component: 'rtmp', path, client: remote }, 'play started');
    };
    protocol.onPacketCallback = (packet) => {
      if (role?.kind === 'publisher') this.#relay(role.channel, packet);
    };

    socket.setNoDelay(true);
    socket.setTimeout(this.#options.idleTimeoutMs, () => socket.destroy());
    socket.on('data', (data: Buffer) => {
      if (collectable && role?.kind === 'publisher') this.#collector.ingress(role.channel.path, data.length);
      const error = protocol.parserData(data);
      if (error) {
        this.#logger.debug({ component: 'rtmp', client: remote, error }, 'protocol error');
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.#sockets.delete(socket);
      if (role?.kind === 'publisher') {
        const { channel } = role;
        this.#channels.delete(channel.path);
        // Players of a stream that ended have nothing more to get (datarhei closes them too).
        for (const player of channel.players.keys()) player.destroy();
        if (collectable) this.#collector.unregister(channel.path);
        this.#logger.info({ component: 'rtmp', path: channel.path, client: remote }, 'publish stopped');
      } else if (role?.kind === 'player') {
        role.channel.players.delete(socket);
        if (collectable) this.#collector.unregister(role.id);
        this.#logger.info({ component: 'rtmp', path: role.channel.path, client: remote }, 'play stopped');
      }
    });
  }

  #relay(channel: Channel, packet: NmsPacket): void {
    const message = NmsRtmpProtocol.createMessage(packet);
    switch (packet.flags) {
      case 0:
        channel.audioHeader = message;
        break;
      case 2:
        channel.videoHeader = message;
        break;
      case 5:
        channel.metadata = message;
        break;
      case 3:
        channel.gop = [message];
        break;
      default:
        // Audio before the first keyframe is useless to a late player; after it, it belongs to the GOP.
        if (channel.gop.length > 0 && channel.gop.length < maxGopMessages) channel.gop.push(message);
    }
    for (const [player, sessionId] of channel.players) {
      if (player.writableLength > this.#options.maxPlayerBufferBytes) {
        this.#logger.warn({ component: 'rtmp', path: channel.path }, 'player too slow; dropped');
        player.destroy();
        continue;
      }
      player.write(message);
      if (sessionId) this.#collector.egress(sessionId, message.length);
    }
  }
}
