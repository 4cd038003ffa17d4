import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { z } from 'zod';
import { IngestListenError, SrtSocketError } from './errors.js';
import {
  decodeSockaddr,
  encodeSockaddr,
  type LibSrt,
  libsrt,
  SrtEpoll,
  SrtOption,
  srtInvalidSocket,
  srtWouldBlock,
} from './libsrt.js';
import { listenAddressSchema } from './listen-address.js';
import type { IngestAccounting, IngestLogger } from './seams.js';
import { type SrtChannelsJson, srtStatistics } from './srt-channels.js';
import { parseStreamId } from './srt-streamid.js';

/** datarhei's `srt.*` config, as the SRT server needs it. */
export const srtServerOptionsSchema = z.object({
  /** `srt.address`: one UDP port for every stream. @default ':6000' */
  address: listenAddressSchema.default(':6000'),
  /**
   * `srt.passphrase`: callers must encrypt with it; empty: no encryption. SRT's key derivation
   * takes 10 to 79 characters (libsrt's and datarhei's SRT library's check).
   */
  passphrase: z
    .union([z.literal(''), z.string().min(10).max(79)], { error: 'must be empty or 10 to 79 characters' })
    .default(''),
  /** `srt.token`: required in the streamid of publishers and players when set. */
  token: z.string().default(''),
  /**
   * How long one wait for socket events may last: the longest a `close()` waits for libsrt's
   * worker thread to come back. @default 100
   */
  pollTimeoutMs: z.number().int().min(10).max(1000).default(100),
});
export type SrtServerOptions = z.input<typeof srtServerOptionsSchema>;

/** Live-mode payloads are at most 1456 bytes (`SRT_LIVE_MAX_PLSIZE`); FFmpeg sends 1316. */
const maxPayloadBytes = 1500;
const maxEventsPerWait = 64;
const int32 = (value: number) => {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32LE(value);
  return buffer;
};

interface Connection {
  socket: number;
  remote: string;
  /** The session id when the accounting counts this client. */
  sessionId: string | undefined;
}

interface Channel {
  name: string;
  publisher: Connection;
  /** In join order; an array, so relaying a message allocates no iterator. */
  players: Connection[];
}

/**
 * datarhei's SRT server: every stream on one UDP port, told apart by the caller's streamid
 * (`name,mode:publish,token:…` or `#!:m=publish,r=name,token=…`); a publisher per name, any number of
 * players (`mode:request`) get its packets as they come. libsrt does the protocol (handshake,
 * retransmission, encryption with `srt.passphrase`); its sockets are non-blocking, and one
 * `srt_epoll_uwait` at a time runs on a koffi worker thread so the event loop never blocks.
 */
export class SrtServer {
  readonly #options: z.infer<typeof srtServerOptionsSchema>;
  readonly #srt: LibSrt;
  readonly #accounting: IngestAccounting;
  readonly #logger: IngestLogger;
  readonly #channels = new Map<string, Channel>();
  /** Every open socket but the listener, to its channel (undefined before its streamid is read). */
  readonly #sockets = new Map<number, Channel | undefined>();
  readonly #events = Buffer.alloc(8 * maxEventsPerWait);
  readonly #payload = Buffer.alloc(maxPayloadBytes);
  #listener = srtInvalidSocket;
  #epoll = -1;
  #port = 0;
  /** Resolves the promise `close()` waits on, once no wait runs on libsrt's epoll any more. */
  #stopped: (() => void) | undefined;
  /** The wait loop was started; it ends at the first turn after `close()`. */
  #waiting = false;
  #closed: Promise<void> | undefined;

  private constructor(
    options: z.infer<typeof srtServerOptionsSchema>,
    srt: LibSrt,
    accounting: IngestAccounting,
    logger: IngestLogger,
  ) {
    this.#options = options;
    this.#srt = srt;
    this.#accounting = accounting;
    this.#logger = logger;
  }

  /** Listens on `srt.address`; rejects with `IngestListenError` (or `SrtUnavailableError` without libsrt). */
  static async start(
    options: SrtServerOptions,
    accounting: IngestAccounting,
    logger: IngestLogger,
  ): Promise<SrtServer> {
    const parsed = srtServerOptionsSchema.parse(options);
    const server = new SrtServer(parsed, libsrt(), accounting, logger);
    try {
      await server.#listen();
    } catch (error) {
      await server.close();
      throw new IngestListenError('srt', parsed.address, { cause: error });
    }
    server.#waiting = true;
    server.#wait();
    return server;
  }

  /** The bound UDP port (useful when `srt.address` asked for port 0). */
  get port(): number {
    return this.#port;
  }

  /** The listen address with the bound port, for `{srt}` URLs. */
  get address(): string {
    const host = this.#host();
    return `${host.includes(':') ? `[${host}]` : host}:${this.#port}`;
  }

  /** The names being published. */
  channels(): string[] {
    return [...this.#channels.keys()];
  }

  /** datarhei's `/api/v3/srt` body: publishers, subscribers and each connection's statistics. */
  channelsJson(): SrtChannelsJson {
    const json: SrtChannelsJson = { publisher: {}, subscriber: {}, connections: {}, log: {} };
    for (const channel of this.#channels.values()) {
      json.publisher[channel.name] = channel.publisher.socket;
      json.subscriber[channel.name] = channel.players.map((player) => player.socket);
      for (const connection of [channel.publisher, ...channel.players]) {
        const stats = {} as Parameters<typeof srtStatistics>[0];
        if (this.#srt.bstats(connection.socket, stats, 0) < 0) continue;
        json.connections[String(connection.socket)] = { log: {}, stats: srtStatistics(stats) };
      }
    }
    return json;
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      for (const socket of this.#sockets.keys()) this.#drop(socket);
      if (this.#listener !== srtInvalidSocket) this.#srt.close(this.#listener);
      // The epoll may be released only once no thread waits on it.
      if (this.#waiting) await new Promise<void>((resolve) => (this.#stopped = resolve));
      if (this.#epoll >= 0) this.#srt.epollRelease(this.#epoll);
    })();
    return this.#closed;
  }

  #host(): string {
    const separator = this.#options.address.lastIndexOf(':');
    return this.#options.address.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  }

  #check(result: number, operation: string): number {
    if (result < 0) throw new SrtSocketError(operation, this.#srt.getlasterrorStr());
    return result;
  }

  async #listen(): Promise<void> {
    const srt = this.#srt;
    const wanted = this.#host();
    const port = Number(this.#options.address.slice(this.#options.address.lastIndexOf(':') + 1));
    // An empty host listens on every interface, IPv6 and IPv4 alike, as Go's ":6000" does.
    const host = wanted === '' ? '::' : isIP(wanted) ? wanted : (await lookup(wanted)).address;
    this.#listener = this.#check(srt.createSocket(), 'create_socket');
    const set = (option: number, value: Buffer) =>
      this.#check(srt.setsockflag(this.#listener, option, value, value.length), 'setsockflag');
    // Accepted sockets inherit these: nothing ever blocks the event loop.
    set(SrtOption.rcvsyn, int32(0));
    set(SrtOption.sndsyn, int32(0));
    if (host === '::') set(SrtOption.ipv6only, int32(0));
    if (this.#options.passphrase) set(SrtOption.passphrase, Buffer.from(this.#options.passphrase));
    const address = encodeSockaddr(host, port);
    this.#check(srt.bind(this.#listener, address, address.length), 'bind');
    this.#check(srt.listen(this.#listener, 64), 'listen');
    const bound = Buffer.alloc(28);
    const length = int32(bound.length);
    this.#check(srt.getsockname(this.#listener, bound, length), 'getsockname');
    this.#port = decodeSockaddr(bound).port;
    this.#epoll = this.#check(srt.epollCreate(), 'epoll_create');
    this.#check(srt.epollAdd(this.#epoll, this.#listener, int32(SrtEpoll.in | SrtEpoll.err)), 'epoll_add');
  }

  /** Waits for socket events off the event loop (one wait at a time on a koffi worker thread). */
  #wait(): void {
    if (this.#closed) {
      this.#stopped?.();
      return;
    }
    this.#srt.epollUwait.async(
      this.#epoll,
      this.#events,
      maxEventsPerWait,
      this.#options.pollTimeoutMs,
      this.#onWait,
    );
  }

  /** Handles what a wait reported on the event loop, then waits again until closed. */
  readonly #onWait = (error: unknown, count: number): void => {
    if (error && !this.#closed) {
      // Only koffi's own queue can fail here; back off instead of spinning.
      this.#logger.warn({ component: 'srt', err: error }, 'waiting for SRT events failed');
      setTimeout(() => this.#wait(), this.#options.pollTimeoutMs).unref();
      return;
    }
    for (let index = 0; !this.#closed && index < count; index++) {
      const socket = this.#events.readInt32LE(index * 8);
      const events = this.#events.readInt32LE(index * 8 + 4);
      // One connection's failure ends that connection; the loop, and every other stream, go on.
      try {
        if (socket === this.#listener) this.#acceptOne();
        else this.#onEvents(socket, events);
      } catch (error) {
        this.#logger.error({ component: 'srt', socket, err: error }, 'connection failed');
        if (socket !== this.#listener) this.#dropQuietly(socket);
      }
    }
    this.#wait();
  };

  /** `#drop` for a connection that failed: a second failure there must not stop the loop. */
  #dropQuietly(socket: number): void {
    try {
      this.#drop(socket);
    } catch (error) {
      this.#logger.error({ component: 'srt', socket, err: error }, 'closing a failed connection failed');
      this.#sockets.delete(socket);
      this.#srt.close(socket);
    }
  }

  /** One caller per event: the epoll is level-triggered, so the next wait reports any other at once. */
  #acceptOne(): void {
    const peer = Buffer.alloc(28);
    const socket = this.#srt.accept(this.#listener, peer, int32(peer.length));
    if (socket === srtInvalidSocket) return;
    try {
      const { host, port } = decodeSockaddr(peer);
      this.#admit(socket, host, `${host.includes(':') ? `[${host}]` : host}:${port}`);
    } catch (error) {
      // Admitted or not, the socket is this server's to close.
      this.#logger.error({ component: 'srt', socket, err: error }, 'connection failed');
      if (this.#sockets.has(socket)) this.#dropQuietly(socket);
      else this.#srt.close(socket);
    }
  }

  /** Reads the caller's streamid and lets it publish or play, or closes it (datarhei's rules). */
  #admit(socket: number, ip: string, remote: string): void {
    const raw = Buffer.alloc(512);
    const length = int32(raw.length);
    const streamId =
      this.#srt.getsockflag(socket, SrtOption.streamid, raw, length) < 0
        ? ''
        : raw.toString('utf8', 0, length.readInt32LE());
    const info = parseStreamId(streamId);
    const refuse = (reason: string) => {
      this.#logger.warn({ component: 'srt', resource: info.resource, client: remote }, reason);
      this.#srt.close(socket);
    };
    if (info.resource === '') {
      refuse('connect refused: no stream name in the streamid');
      return;
    }
    if (info.mode !== 'publish' && info.mode !== 'request') {
      refuse('connect refused: invalid connection mode');
      return;
    }
    if (this.#options.token && info.token !== this.#options.token) {
      refuse('connect refused: invalid token');
      return;
    }

    const collectable = this.#accounting.isCollectableIp(ip);
    const connection: Connection = { socket, remote, sessionId: collectable ? remote : undefined };
    const name = info.resource;
    if (info.mode === 'publish') {
      if (this.#channels.has(name)) {
        refuse('publish refused: already publishing');
        return;
      }
      const channel: Channel = { name, publisher: connection, players: [] };
      this.#channels.set(name, channel);
      this.#sockets.set(socket, channel);
      this.#srt.epollAdd(this.#epoll, socket, int32(SrtEpoll.in | SrtEpoll.err));
      if (connection.sessionId)
        this.#accounting.registerAndActivate(connection.sessionId, name, `publish:${name}`, remote);
      this.#logger.info({ component: 'srt', resource: name, client: remote }, 'publish started');
      return;
    }
    const channel = this.#channels.get(name);
    if (!channel) {
      refuse('play refused: nothing is published there');
      return;
    }
    channel.players.push(connection);
    this.#sockets.set(socket, channel);
    // A player sends nothing; its socket is watched for breaking only.
    this.#srt.epollAdd(this.#epoll, socket, int32(SrtEpoll.err));
    if (connection.sessionId)
      this.#accounting.registerAndActivate(connection.sessionId, name, `play:${name}`, remote);
    this.#logger.info({ component: 'srt', resource: name, client: remote }, 'play started');
  }

  #onEvents(socket: number, events: number): void {
    const channel = this.#sockets.get(socket);
    if (!channel) return;
    if (channel.publisher.socket === socket && events & SrtEpoll.in) this.#relay(channel);
    if (events & SrtEpoll.err) this.#drop(socket);
  }

  /** Hot path: every message the publisher has is read and sent on to every player. */
  #relay(channel: Channel): void {
    const srt = this.#srt;
    const payload = this.#payload;
    const publisher = channel.publisher;
    for (;;) {
      const size = srt.recvmsg(publisher.socket, payload, maxPayloadBytes);
      if (size <= 0) {
        if (size < 0 && srt.getlasterror(null) !== srtWouldBlock.receive) this.#drop(publisher.socket);
        return;
      }
      if (publisher.sessionId) this.#accounting.ingress(publisher.sessionId, size);
      const players = channel.players;
      for (let index = 0; index < players.length; index++) {
        const player = players[index]!;
        // A player that cannot take the message loses it, as a live SRT receiver would.
        const sent = srt.sendmsg(player.socket, payload, size, -1, 0);
        if (sent > 0 && player.sessionId) this.#accounting.egress(player.sessionId, sent);
      }
    }
  }

  /** Closes a connection; a publisher's end closes its players (datarhei does the same). */
  #drop(socket: number): void {
    if (!this.#sockets.has(socket)) return;
    const channel = this.#sockets.get(socket);
    this.#sockets.delete(socket);
    if (this.#epoll >= 0) this.#srt.epollRemove(this.#epoll, socket);
    this.#srt.close(socket);
    if (!channel) return;
    if (channel.publisher.socket === socket) {
      this.#channels.delete(channel.name);
      if (channel.publisher.sessionId) this.#accounting.unregister(channel.publisher.sessionId);
      this.#logger.info(
        { component: 'srt', resource: channel.name, client: channel.publisher.remote },
        'publish stopped',
      );
      for (const player of [...channel.players]) this.#drop(player.socket);
      return;
    }
    const at = channel.players.findIndex((candidate) => candidate.socket === socket);
    const [player] = at < 0 ? [] : channel.players.splice(at, 1);
    if (player?.sessionId) this.#accounting.unregister(player.sessionId);
    this.#logger.info({ component: 'srt', resource: channel.name, client: player?.remote }, 'play stopped');
  }
}
