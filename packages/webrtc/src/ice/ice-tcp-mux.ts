import { createServer, isIP, type Server, type Socket } from 'node:net';
import { UdpMuxError } from '../errors.js';
import { iceUsername, readStun, StunClass, verifyStunIntegrity } from './stun.js';

/** What the mux needs of werift's passive ICE-TCP protocol: to hand it an accepted connection. */
export interface PassiveTcpProtocol {
  registerSocket(socket: Socket, remoteAddr: [string, number]): unknown;
}

export interface IceTcpMuxOptions {
  /** TCP port to listen on; 0 lets the OS choose (tests). */
  port: number;
  /** IPv4 address to bind. @default '0.0.0.0' */
  address?: string;
  /** A connection must present its first STUN request within this time. @default 10000 */
  handshakeTimeoutMs?: number;
}

/** RFC 4571 frames STUN in a 2-byte length; a binding request is far below this. */
const maxFirstFrameBytes = 4096;

/**
 * ICE-TCP (RFC 6544, passive) on one TCP port for every viewer, the fallback for networks that
 * block UDP. werift listens on one port per peer; here a single listener reads the first framed
 * STUN binding request of each connection, finds the peer by its ICE USERNAME
 * (`serverUfrag:viewerUfrag`), checks its MESSAGE-INTEGRITY against the peer's ICE password (the
 * USERNAME is plaintext on the wire, RFC 8445 §7.3) and hands the connection to that peer's werift
 * protocol, which then sees the request as if it had accepted the connection itself.
 */
export class IceTcpMux {
  readonly #server: Server;
  readonly #byUsername = new Map<string, { protocol: PassiveTcpProtocol; password: string }>();
  readonly #pending = new Set<Socket>();
  readonly #handshakeTimeoutMs: number;
  readonly #stats = { accepted: 0, rejected: 0 };
  #closed = false;

  private constructor(server: Server, handshakeTimeoutMs: number) {
    this.#server = server;
    this.#handshakeTimeoutMs = handshakeTimeoutMs;
    server.on('connection', (socket) => this.#accept(socket));
    server.on('error', () => undefined);
  }

  static async open(options: IceTcpMuxOptions): Promise<IceTcpMux> {
    const address = options.address ?? '0.0.0.0';
    if (isIP(address) !== 4)
      throw new UdpMuxError(`the ICE-TCP listener binds an IPv4 address, got "${address}"`);
    const server = createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: options.port, host: address, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((error: Error) => {
      server.close();
      throw new UdpMuxError(`cannot listen on tcp ${address}:${options.port}: ${error.message}`, {
        cause: error,
      });
    });
    return new IceTcpMux(server, options.handshakeTimeoutMs ?? 10_000);
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }
  /** Peers that can currently be reached over TCP. */
  get bindingCount(): number {
    return this.#byUsername.size;
  }
  /** Connections handed to a peer, and those closed for unknown, missing or wrong credentials. */
  get stats(): Readonly<{ accepted: number; rejected: number }> {
    return { ...this.#stats };
  }

  /**
   * Routes connections for `serverUfrag:viewerUfrag` whose first request authenticates with
   * `serverPassword` (the server's `a=ice-pwd`) to `protocol`; returns the release function.
   */
  register(
    serverUfrag: string,
    viewerUfrag: string,
    serverPassword: string,
    protocol: PassiveTcpProtocol,
  ): () => void {
    if (this.#closed) throw new UdpMuxError('the ICE-TCP listener is closed');
    const username = iceUsername(serverUfrag, viewerUfrag);
    if (this.#byUsername.has(username)) throw new UdpMuxError(`ICE username ${username} is already in use`);
    const route = { protocol, password: serverPassword };
    this.#byUsername.set(username, route);
    return () => {
      if (this.#byUsername.get(username) === route) this.#byUsername.delete(username);
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#byUsername.clear();
    for (const socket of this.#pending) socket.destroy();
    this.#server.close();
  }

  #accept(socket: Socket): void {
    this.#pending.add(socket);
    let buffered = Buffer.alloc(0);
    const reject = () => {
      this.#stats.rejected++;
      finish();
      socket.destroy();
    };
    const finish = () => {
      this.#pending.delete(socket);
      socket.off('data', onData);
      socket.setTimeout(0);
    };
    const onData = (chunk: Buffer) => {
      // A connection's first bytes are anyone's: whatever goes wrong reading them, or handing the
      // connection to werift, ends this connection only.
      try {
        readFirstFrame(chunk);
      } catch {
        reject();
      }
    };
    const readFirstFrame = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2) return;
      const frameLength = buffered.readUInt16BE(0);
      if (2 + frameLength > maxFirstFrameBytes) return reject();
      if (buffered.length < 2 + frameLength) return;
      const frame = buffered.subarray(2, 2 + frameLength);
      const stun = readStun(frame);
      const route =
        stun?.cls === StunClass.request && stun.username ? this.#byUsername.get(stun.username) : undefined;
      const protocol = route && verifyStunIntegrity(frame, route.password) ? route.protocol : undefined;
      if (!protocol || !socket.remoteAddress || !socket.remotePort) return reject();
      finish();
      this.#stats.accepted++;
      // Give werift the bytes we read, in order, before anything else the viewer sends.
      socket.pause();
      socket.unshift(buffered);
      protocol.registerSocket(socket, [socket.remoteAddress, socket.remotePort]);
      socket.resume();
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
    socket.on('close', () => this.#pending.delete(socket));
    socket.setTimeout(this.#handshakeTimeoutMs, reject);
  }
}
