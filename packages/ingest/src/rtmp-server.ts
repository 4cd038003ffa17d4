import { readFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { LogThrottle } from '@dragon/log-throttle';
import { z } from 'zod';
import {
  IngestListenError,
  RtmpLimitError,
  RtmpProtocolError,
  RtmpRefusedError,
  RtmpTimeoutError,
} from './errors.js';
import { RtmpChannel } from './rtmp-channel.js';
import { type RtmpAction, RtmpConnection, type RtmpStreamRequest } from './rtmp-connection.js';
import { type RtmpServerOptions, rtmpServerOptionsSchema } from './rtmp-options.js';
import { splitToken, streamPath, streamReference } from './rtmp-url.js';
import type { IngestAccounting, IngestLogger } from './seams.js';

/** `GET /api/v3/rtmp`: the published channels, datarhei's `[]api.RTMPChannel`. */
export const rtmpChannelsSchema = z.array(z.object({ name: z.string() }));

type Role =
  | { kind: 'publisher'; channel: RtmpChannel }
  | { kind: 'player'; channel: RtmpChannel; id: string }
  | undefined;

function hostPort(address: string): { host: string | undefined; port: number } {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  return { host: host || undefined, port: Number(address.slice(separator + 1)) };
}

function listen(
  server: Server,
  address: string,
  protocol: 'rtmp' | 'rtmps',
  logger: IngestLogger,
): Promise<void> {
  const { host, port } = hostPort(address);
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => reject(new IngestListenError(protocol, address, { cause: error }));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      // Node ends the process for an 'error' nobody listens to; none is expected once listening,
      // but the server must not die of one.
      server.on('error', (error) => {
        logger.warn({ component: 'rtmp', protocol, err: error }, 'accepting a connection failed');
      });
      resolve();
    });
  });
}

/**
 * datarhei's RTMP server: publish to `rtmp://host:1935/<app>/<name>` (token as `?token=` or as the
 * last path element), play the same path; `/api/v3/rtmp` lists what is published. One publisher per
 * path; a player joins with the stream's headers and the cached GOP, then gets live messages.
 *
 * No peer can take the server down or make it hold much: connections are capped overall and per
 * address, must finish the handshake and then publish or play within deadlines, and are bounded in
 * what they may send before (`RtmpConnection`). Everything a connection's bytes cause runs inside
 * one guard: a malformed message, a broken bound or a bug ends that connection with one log line.
 */
export class RtmpServer {
  readonly #options: z.infer<typeof rtmpServerOptionsSchema>;
  readonly #servers: Server[] = [];
  readonly #channels = new Map<string, RtmpChannel>();
  /** Every admitted socket (the TCP socket under RTMPS) and its protocol state once it has one. */
  readonly #sockets = new Map<Socket, RtmpConnection | undefined>();
  readonly #perAddress = new Map<string, number>();
  readonly #accounting: IngestAccounting;
  readonly #logger: IngestLogger;
  readonly #peerLog = new LogThrottle();
  #closed: Promise<void> | undefined;

  private constructor(
    options: z.infer<typeof rtmpServerOptionsSchema>,
    accounting: IngestAccounting,
    logger: IngestLogger,
  ) {
    this.#options = options;
    this.#accounting = accounting;
    this.#logger = logger;
  }

  /** Listens on `rtmp.address` (and `rtmp.address_tls`); rejects with `IngestListenError`. */
  static async start(
    options: RtmpServerOptions,
    accounting: IngestAccounting,
    logger: IngestLogger,
  ): Promise<RtmpServer> {
    const parsed = rtmpServerOptionsSchema.parse(options);
    const server = new RtmpServer(parsed, accounting, logger);
    try {
      const plain = createServer((socket) => {
        if (server.#admit(socket)) server.#accept(socket, socket, performance.now());
      });
      server.#servers.push(plain);
      await listen(plain, parsed.address, 'rtmp', logger);
      if (parsed.tls) await server.#listenTls(parsed.tls);
    } catch (error) {
      await server.close();
      throw error;
    }
    return server;
  }

  /** RTMPS: caps count the TCP connection before any TLS work is done for it, deadlines too. */
  async #listenTls(tls: NonNullable<z.infer<typeof rtmpServerOptionsSchema>['tls']>): Promise<void> {
    const [cert, key] = await Promise.all([readFile(tls.certFile), readFile(tls.keyFile)]).catch(
      (error: unknown) => {
        throw new IngestListenError('rtmps', tls.address, { cause: error });
      },
    );
    const secure = createTlsServer({ cert, key, handshakeTimeout: this.#options.handshakeTimeoutMs });
    const handshaking = new Map<string, { tcp: Socket; acceptedAt: number }>();
    const tcpKey = (socket: Socket) => `${socket.remoteAddress}|${socket.remotePort}`;
    secure.on('connection', (socket: Socket) => {
      if (!this.#admit(socket)) return;
      const key = tcpKey(socket);
      handshaking.set(key, { tcp: socket, acceptedAt: performance.now() });
      socket.once('close', () => handshaking.delete(key));
    });
    secure.on('secureConnection', (socket) => {
      const key = tcpKey(socket);
      const accepted = handshaking.get(key);
      handshaking.delete(key);
      if (accepted) this.#accept(socket, accepted.tcp, accepted.acceptedAt);
      else socket.destroy();
    });
    secure.on('tlsClientError', () => undefined);
    this.#servers.push(secure);
    await listen(secure, tls.address, 'rtmps', this.#logger);
  }

  /** The bound RTMP port (useful when `rtmp.address` asked for port 0). */
  get port(): number {
    return (this.#servers[0]?.address() as AddressInfo | null)?.port ?? 0;
  }

  /** The bound RTMPS port; 0 without RTMPS. */
  get tlsPort(): number {
    return (this.#servers[1]?.address() as AddressInfo | null)?.port ?? 0;
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

  /** Open connections, and the bytes they hold in messages not yet complete. */
  stats(): { connections: number; bufferedBytes: number } {
    let bufferedBytes = 0;
    for (const connection of this.#sockets.values()) bufferedBytes += connection?.bufferedBytes ?? 0;
    return { connections: this.#sockets.size, bufferedBytes };
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      for (const socket of this.#sockets.keys()) socket.destroy();
      await Promise.all(
        this.#servers.map(
          (server) =>
            new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
        ),
      );
    })();
    return this.#closed;
  }

  /** Counts a new TCP connection against the caps, or closes it. */
  #admit(socket: Socket): boolean {
    const ip = socket.remoteAddress ?? '';
    const { maxConnections, maxConnectionsPerAddress } = this.#options;
    const fromAddress = this.#perAddress.get(ip) ?? 0;
    let refusal: string | undefined;
    if (this.#closed) refusal = 'the server is closing';
    else if (maxConnections > 0 && this.#sockets.size >= maxConnections)
      refusal = `${maxConnections} connections are open (rtmp.max_connections)`;
    else if (maxConnectionsPerAddress > 0 && fromAddress >= maxConnectionsPerAddress)
      refusal = `${maxConnectionsPerAddress} connections from this address are open (rtmp.max_connections_per_address)`;
    socket.on('error', () => socket.destroy());
    if (refusal) {
      socket.destroy();
      this.#peerWarn('refused', { client: ip }, `connection refused: ${refusal}`);
      return false;
    }
    this.#sockets.set(socket, undefined);
    this.#perAddress.set(ip, fromAddress + 1);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      const left = (this.#perAddress.get(ip) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(ip, left);
      else this.#perAddress.delete(ip);
    });
    return true;
  }

  /** One line about a misbehaving peer, throttled so that a flood of them cannot fill the log. */
  #peerWarn(kind: string, object: object, message: string): void {
    const suppressed = this.#peerLog.admit(kind);
    if (suppressed === undefined) return;
    this.#logger.warn({ component: 'rtmp', ...object, ...(suppressed > 0 ? { suppressed } : {}) }, message);
  }

  /**
   * Runs RTMP on `socket` (a TLS socket under RTMPS); `tcp` is what `#admit` counted, `acceptedAt`
   * when: the deadlines count from there, so TLS's handshake is inside the RTMP handshake's.
   */
  #accept(socket: Socket, tcp: Socket, acceptedAt: number): void {
    if (this.#closed || !this.#sockets.has(tcp)) {
      socket.destroy();
      return;
    }
    const remote = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`;
    const collectable = this.#accounting.isCollectableIp(socket.remoteAddress ?? '');
    let role: Role;
    let authorized: string | undefined;
    let ended = false;

    const end = (error: unknown) => {
      if (ended) return;
      ended = true;
      clearTimeout(handshakeDeadline);
      clearTimeout(startDeadline);
      if (error instanceof RtmpRefusedError) {
        this.#logger.warn({ component: 'rtmp', path: error.path, client: remote }, error.message);
        // The peer has been told why (onStatus); let that reach it, then close.
        socket.end();
        socket.setTimeout(1000, () => socket.destroy());
        return;
      }
      if (
        error instanceof RtmpProtocolError ||
        error instanceof RtmpLimitError ||
        error instanceof RtmpTimeoutError
      ) {
        const kind =
          error instanceof RtmpLimitError
            ? `limit:${error.limit}`
            : error instanceof RtmpTimeoutError
              ? `timeout:${error.stage}`
              : 'protocol';
        this.#peerWarn(kind, { client: remote, code: error.code }, `connection closed: ${error.message}`);
      } else {
        this.#logger.error({ component: 'rtmp', client: remote, err: error }, 'connection failed');
      }
      socket.destroy();
    };

    const connection = new RtmpConnection(this.#options, {
      send: (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
      authorize: (action, request) => {
        authorized = this.#authorize(action, request);
      },
      started: (action) => {
        clearTimeout(startDeadline);
        role = this.#start(action, authorized!, socket, remote, collectable);
      },
      media: (message, kind) => {
        if (role?.kind === 'publisher') role.channel.relay(message, kind);
      },
    });
    this.#sockets.set(tcp, connection);

    const { handshakeTimeoutMs, startTimeoutMs } = this.#options;
    const elapsed = performance.now() - acceptedAt;
    const handshakeDeadline = setTimeout(
      () => end(new RtmpTimeoutError('handshake', handshakeTimeoutMs)),
      handshakeTimeoutMs - elapsed,
    );
    const startDeadline = setTimeout(
      () => end(new RtmpTimeoutError('publish or play', startTimeoutMs)),
      startTimeoutMs - elapsed,
    );

    socket.setNoDelay(true);
    socket.setTimeout(this.#options.idleTimeoutMs, () => socket.destroy());
    socket.on('data', (data: Buffer) => {
      if (ended) return;
      try {
        if (collectable && role?.kind === 'publisher')
          this.#accounting.ingress(role.channel.path, data.length);
        connection.push(data);
        if (connection.handshaken) clearTimeout(handshakeDeadline);
      } catch (error) {
        end(error);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      ended = true;
      clearTimeout(handshakeDeadline);
      clearTimeout(startDeadline);
      try {
        this.#stop(role, socket, remote, collectable);
      } catch (error) {
        this.#logger.error({ component: 'rtmp', client: remote, err: error }, 'closing a connection failed');
      }
    });
  }

  /** The stream path a `publish` or `play` may use; throws `RtmpRefusedError` otherwise. */
  #authorize(action: RtmpAction, request: RtmpStreamRequest): string {
    let path = streamPath(request.app, request.name);
    const { token, app } = this.#options;
    if (token) {
      const split = splitToken(path, request.query);
      if (!split.token) throw new RtmpRefusedError(action, path, 'no token');
      if (split.token !== token) throw new RtmpRefusedError(action, split.path, 'invalid token');
      path = split.path;
    }
    if (action === 'publish') {
      if (!path.startsWith(app)) throw new RtmpRefusedError(action, path, 'invalid app');
      if (this.#channels.has(path)) throw new RtmpRefusedError(action, path, 'already publishing');
    } else if (!this.#channels.has(path)) {
      throw new RtmpRefusedError(action, path, 'nothing is published there');
    }
    return path;
  }

  #start(action: RtmpAction, path: string, socket: Socket, remote: string, collectable: boolean): Role {
    if (action === 'publish') {
      const channel = new RtmpChannel(path, streamReference(path, this.#options.app), {
        maxGopBytes: this.#options.maxGopBytes,
        maxPlayerBufferBytes: this.#options.maxPlayerBufferBytes,
        egress: (sessionId, bytes) => this.#accounting.egress(sessionId, bytes),
        droppedSlowPlayer: () => this.#logger.warn({ component: 'rtmp', path }, 'player too slow; dropped'),
      });
      this.#channels.set(path, channel);
      if (collectable)
        this.#accounting.registerAndActivate(path, channel.reference, `publish:${path}`, remote);
      this.#logger.info({ component: 'rtmp', path, client: remote }, 'publish started');
      return { kind: 'publisher', channel };
    }
    const channel = this.#channels.get(path)!;
    channel.join(socket, collectable ? remote : undefined);
    if (collectable) this.#accounting.registerAndActivate(remote, channel.reference, `play:${path}`, remote);
    this.#logger.info({ component: 'rtmp', path, client: remote }, 'play started');
    return { kind: 'player', channel, id: remote };
  }

  #stop(role: Role, socket: Socket, remote: string, collectable: boolean): void {
    if (role?.kind === 'publisher') {
      const { channel } = role;
      this.#channels.delete(channel.path);
      // Players of a stream that ended have nothing more to get (datarhei closes them too).
      for (const player of channel.players.keys()) player.destroy();
      if (collectable) this.#accounting.unregister(channel.path);
      this.#logger.info({ component: 'rtmp', path: channel.path, client: remote }, 'publish stopped');
    } else if (role?.kind === 'player') {
      role.channel.players.delete(socket);
      if (collectable) this.#accounting.unregister(role.id);
      this.#logger.info({ component: 'rtmp', path: role.channel.path, client: remote }, 'play stopped');
    }
  }
}
