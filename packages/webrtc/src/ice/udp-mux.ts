import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { UdpTransport } from 'werift';
import { UdpMuxError } from '../errors.js';
import { iceUsername, readStun, StunClass, verifyStunIntegrity } from './stun.js';

/**
 * One UDP socket for every viewer's ICE, DTLS and SRTP traffic (what users publish from a container).
 *
 * werift opens one socket per peer and has no option to share one. The seam is its
 * `UdpTransport.init` factory: we wrap it once, and only calls whose ICE options carry a
 * {@link UdpMuxBinding} (passed inside `iceInterfaceAddresses`, which werift hands through
 * untouched) get a virtual transport on the shared socket; every other call is werift's own.
 * This keeps werift unpatched, so the package works the same when installed from the registry.
 *
 * Demultiplexing: a STUN binding request is routed by its USERNAME (`serverUfrag:viewerUfrag`,
 * unique per peer) and, once its MESSAGE-INTEGRITY proves the sender knows the peer's ICE password,
 * teaches the mux the viewer's address; STUN responses to our own checks are routed by transaction
 * id; everything else (DTLS, SRTP, RTCP, binding indications) by the sender's address. Datagrams
 * that match nothing, and requests that do not authenticate, are dropped and counted: the USERNAME
 * travels in plaintext, so it alone must never move a viewer's traffic (RFC 8445 §7.3).
 */
export interface UdpMuxOptions {
  /** UDP port to listen on; 0 lets the OS choose (tests). */
  port: number;
  /** IPv4 address to bind. @default '0.0.0.0' */
  address?: string;
}

export interface UdpMuxStats {
  /** Datagrams handed to a peer. */
  delivered: number;
  /** Datagrams from unknown senders or with unknown credentials (including `unauthenticated`). */
  dropped: number;
  /** STUN requests for a known peer without a valid MESSAGE-INTEGRITY and FINGERPRINT. */
  unauthenticated: number;
}

const bindingKey = Symbol.for('@dragon/webrtc.udpMuxBinding');
/** Outstanding STUN transactions we remember; werift retries a check at most a few times. */
const maxPendingTransactions = 10_000;

type DataHandler = (data: Buffer, addr: [string, number]) => void;

/** Quacks like werift's `UdpTransport`, but sends and receives through the mux socket. */
class MuxedTransport {
  readonly type = 'udp';
  readonly socketType = 'udp4';
  readonly addressFamily = 4;
  closed = false;
  onData: DataHandler = () => undefined;
  rinfo: RemoteInfo | undefined;

  constructor(
    readonly binding: UdpMuxBinding,
    private readonly mux: UdpMux,
  ) {}

  get address(): { address: string; port: number; family: string } {
    return { address: this.mux.address, port: this.mux.port, family: 'IPv4' };
  }
  get host(): string {
    return this.mux.address;
  }
  /** The shared socket: the data plane sends a viewer's SRTP on it directly (fanout/). */
  get socket(): Socket {
    return this.mux.socket;
  }
  get port(): number {
    return this.mux.port;
  }

  send = async (data: Buffer, addr?: [string, number]): Promise<void> => {
    if (this.closed) return;
    const target = addr ?? (this.rinfo ? [this.rinfo.address, this.rinfo.port] : undefined);
    if (!target) return;
    this.mux.sendFrom(this, data, target[0], target[1]);
  };

  close = async (): Promise<void> => {
    if (this.closed) return;
    this.closed = true;
    this.mux.forget(this);
    this.binding.transportClosed();
  };

  deliver(data: Buffer, rinfo: RemoteInfo): void {
    this.rinfo = rinfo;
    this.onData(data, [rinfo.address, rinfo.port]);
  }
}

/** One peer's place on the mux: the transports werift opens while gathering, and its ICE credentials. */
export class UdpMuxBinding {
  readonly transports: MuxedTransport[] = [];
  #username: string | undefined;
  #password: string | undefined;
  #released = false;

  constructor(private readonly mux: UdpMux) {}

  /** Marks werift ICE options so that their UDP transports land on this binding. */
  tag<T extends object>(interfaceAddresses: T): T {
    return Object.assign(interfaceAddresses, { [bindingKey]: this });
  }

  /**
   * Routes binding requests for `serverUfrag:viewerUfrag` here, those that authenticate with
   * `serverPassword` (the server's `a=ice-pwd`), in place of any earlier pair (an ICE restart).
   * Throws when the pair is taken.
   */
  activate(serverUfrag: string, viewerUfrag: string, serverPassword: string): void {
    const username = iceUsername(serverUfrag, viewerUfrag);
    this.mux.claimUsername(username, this);
    // An ICE restart re-keys the peer: the old credentials route nowhere any more.
    if (this.#username !== undefined && this.#username !== username) {
      this.mux.releaseUsername(this.#username, this);
    }
    this.#username = username;
    this.#password = serverPassword;
  }

  /** True when a binding request proves knowledge of this peer's ICE password. */
  authenticates(request: Buffer): boolean {
    return this.#password !== undefined && verifyStunIntegrity(request, this.#password);
  }

  /** Frees the username and every remote address learnt for this peer. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const transport of this.transports) void transport.close();
    if (this.#username) this.mux.releaseUsername(this.#username, this);
  }

  /** The transport incoming datagrams go to; werift pairs them with its candidate. */
  get primary(): MuxedTransport | undefined {
    return this.transports.find((transport) => !transport.closed);
  }

  createTransport(): MuxedTransport {
    const transport = new MuxedTransport(this, this.mux);
    this.transports.push(transport);
    return transport;
  }

  transportClosed(): void {
    if (this.transports.every((transport) => transport.closed)) this.release();
  }
}

let seamInstalled = false;
function installTransportSeam(): void {
  if (seamInstalled) return;
  seamInstalled = true;
  const factory = UdpTransport as unknown as {
    init: (type: string, options?: { interfaceAddresses?: Record<PropertyKey, unknown> }) => Promise<unknown>;
  };
  const original = factory.init.bind(UdpTransport);
  factory.init = async (type, options = {}) => {
    const binding = options.interfaceAddresses?.[bindingKey];
    if (binding instanceof UdpMuxBinding) return binding.createTransport();
    return original(type, options);
  };
}

export class UdpMux {
  readonly #socket: Socket;
  readonly #byUsername = new Map<string, UdpMuxBinding>();
  readonly #byRemote = new Map<string, MuxedTransport>();
  readonly #byTransaction = new Map<string, MuxedTransport>();
  readonly #stats: UdpMuxStats = { delivered: 0, dropped: 0, unauthenticated: 0 };
  #closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('message', (data, rinfo) => {
      // Anyone can send here: whatever one datagram does wrong drops that datagram, never the socket
      // (and every viewer on it) or the process.
      try {
        this.#receive(data, rinfo);
      } catch {
        this.#stats.dropped++;
      }
    });
    // A send to a vanished viewer (ICMP unreachable) must not take the server down.
    socket.on('error', () => undefined);
  }

  static async open(options: UdpMuxOptions): Promise<UdpMux> {
    const address = options.address ?? '0.0.0.0';
    if (isIP(address) !== 4) throw new UdpMuxError(`the UDP mux binds an IPv4 address, got "${address}"`);
    installTransportSeam();
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: options.port, address, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    }).catch((error: Error) => {
      socket.close();
      throw new UdpMuxError(`cannot listen on udp ${address}:${options.port}: ${error.message}`, {
        cause: error,
      });
    });
    return new UdpMux(socket);
  }

  get port(): number {
    return this.#socket.address().port;
  }
  get address(): string {
    return this.#socket.address().address;
  }
  /** @internal The shared socket, for the data plane's sends. */
  get socket(): Socket {
    return this.#socket;
  }
  /** Peers currently routable through the mux. */
  get bindingCount(): number {
    return this.#byUsername.size;
  }
  /** Viewer addresses currently mapped to a peer. */
  get remoteCount(): number {
    return this.#byRemote.size;
  }
  get stats(): Readonly<UdpMuxStats> {
    return { ...this.#stats };
  }

  createBinding(): UdpMuxBinding {
    if (this.#closed) throw new UdpMuxError('the UDP mux is closed');
    return new UdpMuxBinding(this);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const binding of [...this.#byUsername.values()]) binding.release();
    this.#socket.close();
  }

  /** @internal */
  claimUsername(username: string, binding: UdpMuxBinding): void {
    const owner = this.#byUsername.get(username);
    if (owner && owner !== binding) throw new UdpMuxError(`ICE username ${username} is already in use`);
    this.#byUsername.set(username, binding);
  }

  /** @internal */
  releaseUsername(username: string, binding: UdpMuxBinding): void {
    if (this.#byUsername.get(username) === binding) this.#byUsername.delete(username);
  }

  /** @internal Drops every route to a closed transport. */
  forget(transport: MuxedTransport): void {
    for (const [key, owner] of this.#byRemote) if (owner === transport) this.#byRemote.delete(key);
    for (const [key, owner] of this.#byTransaction) if (owner === transport) this.#byTransaction.delete(key);
  }

  /** @internal */
  sendFrom(transport: MuxedTransport, data: Buffer, host: string, port: number): void {
    if (this.#closed) return;
    const stun = readStun(data);
    if (stun?.cls === StunClass.request) {
      if (this.#byTransaction.size >= maxPendingTransactions) {
        const oldest = this.#byTransaction.keys().next().value;
        if (oldest !== undefined) this.#byTransaction.delete(oldest);
      }
      this.#byTransaction.set(stun.transactionId, transport);
    }
    this.#socket.send(data, port, host);
  }

  #receive(data: Buffer, rinfo: RemoteInfo): void {
    const remote = `${rinfo.address}:${rinfo.port}`;
    const stun = readStun(data);
    let transport: MuxedTransport | undefined;
    if (stun?.cls === StunClass.request) {
      const binding = stun.username === undefined ? undefined : this.#byUsername.get(stun.username);
      if (binding && !binding.authenticates(data)) {
        this.#stats.unauthenticated++;
      } else {
        transport = binding?.primary;
        // Only an authenticated request may (re)map an address to a peer (a NAT rebinding).
        if (transport) this.#byRemote.set(remote, transport);
      }
    } else if (stun?.cls === StunClass.indication) {
      // Keepalives (RFC 8445 §11) carry no credentials: they go where the address already goes.
      transport = this.#byRemote.get(remote);
    } else if (stun) {
      transport = this.#byTransaction.get(stun.transactionId);
      if (transport) this.#byTransaction.delete(stun.transactionId);
      else transport = this.#byRemote.get(remote);
    } else {
      transport = this.#byRemote.get(remote);
    }
    if (!transport || transport.closed) {
      this.#stats.dropped++;
      return;
    }
    this.#stats.delivered++;
    try {
      transport.deliver(data, rinfo);
    } catch {
      // werift's own handlers log and swallow; a throw here must not stop the shared socket.
    }
  }
}
