import { isIPv4, isIPv6 } from 'node:net';
import { ipv6Groups } from '@dragon/portalloc';

export interface AttemptLimiterOptions {
  /** Attempts one client (an IPv4 address, an IPv6 /64) may make per window. @default 10 */
  maxAttempts?: number;
  /** Attempts all clients of one network (an IPv4 /24, an IPv6 /56) may make per window. @default 50 */
  maxAttemptsPerNetwork?: number;
  /** @default 300_000 (5 minutes) */
  windowMs?: number;
  /**
   * Clients (and networks) remembered at once, so memory stays bounded. A window is never dropped
   * before it ends; past this many, clients not yet remembered share one window. @default 10_000
   */
  maxClients?: number;
  /** @default Date.now */
  now?: () => number;
}

interface Window {
  startedAt: number;
  attempts: number;
}

/**
 * Fixed windows per key, at most `max` of them. The bound is kept by dropping windows that have
 * ended, never one that runs: otherwise whoever can make `max` other keys appear (10,000 addresses
 * are cheap in IPv6) would wipe out the count of a client that is blocked. While the table is full,
 * keys it does not hold share one window: a flood of new clients is limited as one client.
 */
class WindowTable {
  readonly #max: number;
  readonly #windowMs: number;
  /** Insertion order is window-start order: the first entry is the oldest. */
  readonly #windows = new Map<string, Window>();
  #shared: Window = { startedAt: Number.NEGATIVE_INFINITY, attempts: 0 };

  constructor(max: number, windowMs: number) {
    this.#max = max;
    this.#windowMs = windowMs;
  }

  /** The running window of `key`, opened now if it has none (or the shared one when full). */
  window(key: string, now: number): Window {
    const known = this.#windows.get(key);
    if (known && now - known.startedAt < this.#windowMs) return known;
    if (known) this.#windows.delete(key);
    for (const [oldest, window] of this.#windows) {
      if (this.#windows.size < this.#max || now - window.startedAt < this.#windowMs) break;
      this.#windows.delete(oldest);
    }
    if (this.#windows.size >= this.#max) {
      if (now - this.#shared.startedAt >= this.#windowMs) this.#shared = { startedAt: now, attempts: 0 };
      return this.#shared;
    }
    const opened = { startedAt: now, attempts: 0 };
    this.#windows.set(key, opened);
    return opened;
  }

  /** The running window of `key` if it has one; nothing is opened. */
  peek(key: string, now: number): Window | undefined {
    const known = this.#windows.get(key);
    return known && now - known.startedAt < this.#windowMs ? known : undefined;
  }

  /** Seconds until `window` ends. */
  retryAfter(window: Window, now: number): number {
    return Math.max(1, Math.ceil((window.startedAt + this.#windowMs - now) / 1000));
  }
}

/**
 * Counts password guesses in fixed windows, per client and per network: an IPv4 address and its /24,
 * an IPv6 /64 (what one host is usually given, so one key however many addresses it uses) and its
 * /56. An attempt is counted when it arrives, before its body is read or its password compared, so
 * parallel guesses cannot slip past the count; a successful login gives its attempt back.
 */
export class AttemptLimiter {
  readonly #maxAttempts: number;
  readonly #maxPerNetwork: number;
  readonly #now: () => number;
  readonly #clients: WindowTable;
  readonly #networks: WindowTable;

  constructor(options: AttemptLimiterOptions = {}) {
    const windowMs = options.windowMs ?? 300_000;
    const maxClients = options.maxClients ?? 10_000;
    this.#maxAttempts = options.maxAttempts ?? 10;
    this.#maxPerNetwork = options.maxAttemptsPerNetwork ?? 50;
    this.#now = options.now ?? Date.now;
    this.#clients = new WindowTable(maxClients, windowMs);
    this.#networks = new WindowTable(maxClients, windowMs);
  }

  /** Counts an attempt from `address`; returns 0 when it may go ahead, else the seconds until it may retry. */
  take(address: string): number {
    const now = this.#now();
    const { client, network } = addressBuckets(address);
    const own = this.#clients.window(client, now);
    const shared = this.#networks.window(network, now);
    let retryAfter = 0;
    if (own.attempts >= this.#maxAttempts) retryAfter = this.#clients.retryAfter(own, now);
    if (shared.attempts >= this.#maxPerNetwork) {
      retryAfter = Math.max(retryAfter, this.#networks.retryAfter(shared, now));
    }
    if (retryAfter > 0) return retryAfter;
    own.attempts++;
    shared.attempts++;
    return 0;
  }

  /** Gives back the attempt of a client that turned out to know the password. */
  forgive(address: string): void {
    const now = this.#now();
    const { client, network } = addressBuckets(address);
    for (const window of [this.#clients.peek(client, now), this.#networks.peek(network, now)]) {
      if (window && window.attempts > 0) window.attempts--;
    }
  }
}

/**
 * The keys an address is counted under: the client (an IPv4 address; an IPv6 /64) and its network
 * (IPv4 /24, IPv6 /56). IPv4-mapped IPv6 addresses count as IPv4. Anything else counts as itself.
 */
export function addressBuckets(address: string): { client: string; network: string } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const v4 = mapped ?? (isIPv4(address) ? address : undefined);
  if (v4 !== undefined) {
    return { client: v4, network: `${v4.slice(0, v4.lastIndexOf('.'))}.0/24` };
  }
  if (!isIPv6(address)) return { client: address, network: address };
  const groups = ipv6Groups(address);
  const hex = (group: number) => group.toString(16);
  const client = `${groups.slice(0, 4).map(hex).join(':')}::/64`;
  const network = `${groups.slice(0, 3).map(hex).join(':')}:${hex(groups[3]! & 0xff00)}::/56`;
  return { client, network };
}
