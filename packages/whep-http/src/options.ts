import type { Context } from 'hono';
import { z } from 'zod';
import { InvalidWhepOptionsError } from './errors.js';

/** What the routes need to know of a media source (structurally satisfied by `@dragon/webrtc`'s Source). */
export interface WhepSource {
  /** False until the source has received media; a POST then answers 409 + Retry-After. */
  readonly hasMedia: boolean;
  readonly peerCount: number;
}

/** ICE credentials and candidates of one side of an ICE session (used for ICE restarts). */
export interface WhepIceParameters {
  ufrag: string;
  pwd: string;
  /** Candidate lines without the `a=` prefix (`candidate:1 1 UDP …`). */
  candidates: string[];
}

/** One viewer's peer connection (structurally satisfied by `@dragon/webrtc`'s Peer). */
export interface WhepPeer {
  readonly id: string;
  readonly state: string;
  /** Closes the peer; safe to call twice. Emits `closed`. */
  close(): void;
  /** Adds one remote candidate, given as `candidate:…` (the `a=` prefix removed). */
  addRemoteCandidate(candidateLine: string): Promise<void>;
  on(event: 'closed', listener: (reason: string) => void): unknown;
  off(event: 'closed', listener: (reason: string) => void): unknown;
  /**
   * Optional: performs an ICE restart with the viewer's new credentials and returns the
   * server's new ones. Without it, ICE restart PATCHes answer 422 and the session is kept.
   */
  restartIce?(remote: WhepIceParameters): Promise<WhepIceParameters>;
}

/** What `lookup(processId)` tells the routes about one process. */
export interface WhepProcessEntry<S extends WhepSource> {
  /** Absent while the process is not running. */
  source?: S | undefined;
  /** WebRTC enabled for this process; false → 404. */
  enabled: boolean;
  /** Per-process bearer token; either it or the global token is accepted. */
  token?: string | undefined;
  /** Per-process viewer limit; reached → 503 + Retry-After. */
  maxViewers?: number | undefined;
}

/** A pino-like logger (pino itself fits). */
export interface WhepLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** One ICE server, advertised to viewers in a `Link: <…>; rel="ice-server"` header (RFC 9725 §4.6). */
export interface WhepIceServer {
  urls: string | string[];
  username?: string | undefined;
  credential?: string | undefined;
}

export interface WhepRoutesOptions<S extends WhepSource> {
  /** Maps a process id to its WebRTC state; `undefined` or `enabled: false` → 404. */
  lookup(processId: string): WhepProcessEntry<S> | undefined;
  /**
   * Creates a peer for an offer, given as the request's text: the engine alone decides whether it
   * is acceptable SDP. Rejections carrying `code` map to statuses:
   * `INVALID_SDP` → 400, `NO_USABLE_CODEC` → 422, `ICE_PORTS_EXHAUSTED` → 503; anything else → 500.
   */
  createPeer(source: S, offerSdp: string): Promise<{ peer: WhepPeer; answerSdp: string }>;
  /**
   * The engine's check of an offer's SDP, run before the process state and viewer limits, so that
   * a malformed offer is a 400 whatever state the process is in. Throws like `createPeer`
   * (`INVALID_SDP` → 400). @default undefined (`createPeer` alone judges the offer)
   * @example checkOffer // from @dragon/webrtc
   */
  checkOffer?: ((offerSdp: string) => void) | undefined;
  /** @default [] @example [{ urls: 'turn:turn.example.net:3478', username: 'u', credential: 'p' }] */
  iceServers?: WhepIceServer[] | undefined;
  /** Global bearer token. @default undefined (no token needed unless the process has one) */
  token?: string | undefined;
  /** Server-wide viewer limit. @default undefined (unlimited) */
  maxViewers?: number | undefined;
  /** Largest accepted request body. @default 65536 */
  maxBodyBytes?: number | undefined;
  /** Offers (POSTs) allowed per client address per window. @default undefined (no limit) */
  rateLimit?: { windowMs: number; maxOffers: number } | undefined;
  /**
   * The client address used by `rateLimit`. The default reads the socket's remote address from
   * `@hono/node-server` (`c.env.incoming.socket.remoteAddress`), else `'unknown'`. Behind a reverse
   * proxy, pass a function that reads the header your proxy sets.
   * @example (c) => c.req.header('x-real-ip') ?? 'unknown'
   */
  clientAddress?: ((c: Context) => string) | undefined;
  /** `Retry-After` seconds for 409 (no media yet) and 503 (viewer or port limit). @default 5 */
  retryAfterSeconds?: number | undefined;
  /** `Access-Control-Allow-Origin`: `'*'`, one origin, or a list (the request's Origin is echoed when listed). @default '*' */
  corsOrigin?: string | string[] | undefined;
  /**
   * Answer trickle PATCHes without `If-Match` with 428. Off by default because the reference
   * client (medooze whip-whep-js) only sends `If-Match` after an ICE restart. ICE restarts
   * always need `If-Match`. @default false
   */
  requireIfMatchForTrickle?: boolean | undefined;
  /** Where the routes live: `${basePath}/:id/whep[/:sessionId]`. @default '/api/v3/process' */
  basePath?: string | undefined;
  /** @default a logger that drops everything */
  logger?: WhepLogger | undefined;
}

const fn = <T>() => z.custom<T>((value) => typeof value === 'function', { message: 'must be a function' });
const iceUrl = z
  .string()
  .regex(/^(stun|stuns|turn|turns):[^\s<>]+$/, 'must be a stun:, stuns:, turn: or turns: URL');
const quotable = z.string().regex(/^[^\r\n"\\]*$/, 'must not contain quotes, backslashes or newlines');

const optionsSchema = z.object({
  lookup: fn<unknown>(),
  createPeer: fn<unknown>(),
  checkOffer: fn<unknown>().optional(),
  iceServers: z
    .array(
      z.object({
        urls: z.union([iceUrl, z.array(iceUrl).min(1)]),
        username: quotable.optional(),
        credential: quotable.optional(),
      }),
    )
    .default([]),
  token: z.string().min(1).optional(),
  maxViewers: z.number().int().nonnegative().optional(),
  maxBodyBytes: z.number().int().positive().default(65536),
  rateLimit: z
    .object({ windowMs: z.number().int().positive(), maxOffers: z.number().int().positive() })
    .optional(),
  clientAddress: fn<unknown>().optional(),
  retryAfterSeconds: z.number().int().positive().default(5),
  corsOrigin: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).default('*'),
  requireIfMatchForTrickle: z.boolean().default(false),
  basePath: z
    .string()
    .regex(/^(\/[^/:*?#]+)*$/, 'must be empty or start with "/" and have no trailing "/"')
    .default('/api/v3/process'),
  logger: z.custom<WhepLogger>((v) => typeof v === 'object' && v !== null).optional(),
});

/** Options after validation and defaults. */
export interface ResolvedWhepOptions<S extends WhepSource> {
  lookup(processId: string): WhepProcessEntry<S> | undefined;
  createPeer(source: S, offerSdp: string): Promise<{ peer: WhepPeer; answerSdp: string }>;
  checkOffer: ((offerSdp: string) => void) | undefined;
  iceServers: WhepIceServer[];
  token: string | undefined;
  maxViewers: number | undefined;
  maxBodyBytes: number;
  rateLimit: { windowMs: number; maxOffers: number } | undefined;
  clientAddress: (c: Context) => string;
  retryAfterSeconds: number;
  corsOrigin: string | string[];
  requireIfMatchForTrickle: boolean;
  basePath: string;
  logger: WhepLogger;
}

const silentLogger: WhepLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Reads `@hono/node-server`'s `env.incoming.socket.remoteAddress` without depending on it. */
export function nodeRemoteAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: unknown } } } | undefined;
  const address = env?.incoming?.socket?.remoteAddress;
  return typeof address === 'string' && address.length > 0 ? address : 'unknown';
}

/** Validates the options once (zod) and fills in the defaults. */
export function resolveOptions<S extends WhepSource>(options: WhepRoutesOptions<S>): ResolvedWhepOptions<S> {
  const result = optionsSchema.safeParse(options);
  if (!result.success) {
    const issues = result.error.issues.map(
      (issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`,
    );
    throw new InvalidWhepOptionsError(issues, { cause: result.error });
  }
  const parsed = result.data;
  return {
    lookup: options.lookup,
    createPeer: options.createPeer,
    checkOffer: options.checkOffer,
    iceServers: parsed.iceServers,
    token: parsed.token,
    maxViewers: parsed.maxViewers,
    maxBodyBytes: parsed.maxBodyBytes,
    rateLimit: parsed.rateLimit,
    clientAddress: options.clientAddress ?? nodeRemoteAddress,
    retryAfterSeconds: parsed.retryAfterSeconds,
    corsOrigin: parsed.corsOrigin,
    requireIfMatchForTrickle: parsed.requireIfMatchForTrickle,
    basePath: parsed.basePath,
    logger: options.logger ?? silentLogger,
  };
}
