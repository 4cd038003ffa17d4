import { createSocket, type Socket } from 'node:dgram';
import {
  PortAllocationFailedError,
  PortAllocatorClosedError,
  PortLeaseStateError,
  PortRangeExhaustedError,
} from './errors.js';

export interface PortRange {
  /** Lowest port handed out (inclusive). */
  min: number;
  /** Highest port handed out (inclusive). */
  max: number;
}

export interface PortAllocatorOptions {
  /**
   * Address the sockets are bound to. Only loopback makes sense for RTP legs from a local FFmpeg.
   * @default '127.0.0.1'
   */
  host?: string;
  /** Hand out ports from this range; without it the OS picks (ephemeral range). */
  range?: PortRange;
  /**
   * How many times to retry when the OS hands out a port whose neighbours are busy.
   * @default 64
   */
  maxAttempts?: number;
}

/** One bound UDP socket of a lease. */
export interface LeasedPort {
  readonly port: number;
  /**
   * Hands the bound socket to the caller, who then owns and closes it. The port stays reserved
   * in-process until the lease is released, so nothing else gets it while the socket is in use.
   */
  takeSocket(): Socket;
}

/** A block of adjacent ports, each held by a bound socket until taken over or released. */
export interface PortLease {
  readonly ports: readonly LeasedPort[];
  /** The first port of the block. */
  readonly port: number;
  /** Closes sockets not taken over and frees the ports for reuse. Safe to call twice. */
  release(): void;
}

/** Video on an even port P, audio on P + 1 (see the README for why). */
export interface RtpPortPair {
  readonly video: LeasedPort;
  readonly audio: LeasedPort;
  release(): void;
}

/** A process's RTP ports: the pair, then one port per video rendition FFmpeg makes beside the top. */
export interface RtpPortSet extends RtpPortPair {
  /** P + 2, P + 3…: one per rendition, in the order the legs take them. */
  readonly renditions: readonly LeasedPort[];
}

const defaultHost = '127.0.0.1';

/**
 * Hands out loopback UDP ports that are bound at the moment they are handed out, so there is no
 * window between "found free" and "in use" for another program to take them.
 */
export class PortAllocator {
  readonly #host: string;
  readonly #range: PortRange | undefined;
  readonly #maxAttempts: number;
  readonly #reserved = new Set<number>();
  #cursor: number;
  #closed = false;
  readonly #leases = new Set<PortLease>();

  constructor(options: PortAllocatorOptions = {}) {
    this.#host = options.host ?? defaultHost;
    this.#range = options.range;
    this.#maxAttempts = options.maxAttempts ?? 64;
    if (this.#range) {
      const { min, max } = this.#range;
      if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
        throw new RangeError(`invalid port range ${min}-${max}`);
      }
    }
    this.#cursor = this.#range?.min ?? 0;
  }

  /** Ports currently held by live leases in this allocator. */
  get reservedCount(): number {
    return this.#reserved.size;
  }

  /**
   * Allocates `count` adjacent ports (default 1). With `alignEven`, the first port is even,
   * as RTP conventions expect.
   */
  async allocate(count = 1, options: { alignEven?: boolean } = {}): Promise<PortLease> {
    if (this.#closed) throw new PortAllocatorClosedError();
    if (!Number.isInteger(count) || count < 1 || count > 16)
      throw new RangeError(`invalid port count ${count}`);
    return this.#range
      ? this.#allocateFromRange(this.#range, count, options.alignEven ?? false)
      : this.#allocateFromOs(count, options.alignEven ?? false);
  }

  /** Allocates the two RTP ports of one process: video on even P, audio on P + 1. */
  async allocateRtpPair(): Promise<RtpPortPair> {
    return this.allocateRtpPorts(0);
  }

  /**
   * Allocates a process's RTP ports in one adjacent block: video on even P, audio on P + 1, and
   * `renditions` more for the video renditions (at most 14, the block's bound).
   */
  async allocateRtpPorts(renditions: number): Promise<RtpPortSet> {
    if (!Number.isInteger(renditions) || renditions < 0 || renditions > 14)
      throw new RangeError(`invalid rendition count ${renditions}`);
    const lease = await this.allocate(2 + renditions, { alignEven: true });
    const [video, audio, ...rest] = lease.ports as [LeasedPort, LeasedPort, ...LeasedPort[]];
    return { video, audio, renditions: rest, release: () => lease.release() };
  }

  /** Releases every live lease and refuses further allocations. */
  close(): void {
    this.#closed = true;
    for (const lease of [...this.#leases]) lease.release();
  }

  async #allocateFromRange(range: PortRange, count: number, alignEven: boolean): Promise<PortLease> {
    const span = range.max - range.min + 1;
    // Each candidate base is tried at most once per call; ports are reserved synchronously before
    // any await, so concurrent calls never pick the same port.
    for (let tried = 0; tried < span; tried++) {
      const base = this.#nextCandidate(range);
      if (alignEven && base % 2 !== 0) continue;
      if (base + count - 1 > range.max) continue;
      if (!this.#reserveBlock(base, count)) continue;
      const sockets = await this.#bindBlock(base, count);
      if (sockets) return this.#lease(base, sockets);
      this.#unreserveBlock(base, count);
    }
    throw new PortRangeExhaustedError(range.min, range.max, count);
  }

  #nextCandidate(range: PortRange): number {
    const port = this.#cursor;
    this.#cursor = port >= range.max ? range.min : port + 1;
    return port;
  }

  async #allocateFromOs(count: number, alignEven: boolean): Promise<PortLease> {
    let lastError: unknown;
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      const first = await bindUdp(this.#host, 0).catch((error: unknown) => {
        lastError = error;
        return undefined;
      });
      if (!first) continue;
      const base = first.address().port;
      if ((alignEven && base % 2 !== 0) || base + count - 1 > 65535 || !this.#reserveBlock(base, count)) {
        first.close();
        continue;
      }
      const rest = count > 1 ? await this.#bindBlock(base + 1, count - 1) : [];
      if (rest) return this.#lease(base, [first, ...rest]);
      first.close();
      this.#unreserveBlock(base, count);
    }
    throw new PortAllocationFailedError(this.#maxAttempts, { cause: lastError });
  }

  #reserveBlock(base: number, count: number): boolean {
    for (let port = base; port < base + count; port++) if (this.#reserved.has(port)) return false;
    for (let port = base; port < base + count; port++) this.#reserved.add(port);
    return true;
  }

  #unreserveBlock(base: number, count: number): void {
    for (let port = base; port < base + count; port++) this.#reserved.delete(port);
  }

  /** Binds every port of the block, or none: a partial block is closed again. */
  async #bindBlock(base: number, count: number): Promise<Socket[] | undefined> {
    const results = await Promise.allSettled(
      Array.from({ length: count }, (_, offset) => bindUdp(this.#host, base + offset)),
    );
    const sockets = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    if (sockets.length === count) return sockets;
    for (const socket of sockets) socket.close();
    return undefined;
  }

  #lease(base: number, sockets: Socket[]): PortLease {
    let released = false;
    const entries = sockets.map((socket, offset) => createLeasedPort(base + offset, socket, () => released));
    const lease: PortLease = {
      ports: entries.map((entry) => entry.port),
      port: base,
      release: () => {
        if (released) return;
        released = true;
        for (const entry of entries) entry.closeIfHeld();
        this.#unreserveBlock(base, sockets.length);
        this.#leases.delete(lease);
      },
    };
    this.#leases.add(lease);
    if (this.#closed) lease.release();
    return lease;
  }
}

function createLeasedPort(port: number, socket: Socket, isReleased: () => boolean) {
  let taken = false;
  const leased: LeasedPort = {
    port,
    takeSocket: () => {
      if (isReleased()) throw new PortLeaseStateError(port, 'released');
      if (taken) throw new PortLeaseStateError(port, 'taken');
      taken = true;
      return socket;
    },
  };
  return {
    port: leased,
    closeIfHeld: () => {
      if (!taken) socket.close();
    },
  };
}

function bindUdp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    const onError = (error: Error) => {
      socket.close();
      reject(error);
    };
    socket.once('error', onError);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
