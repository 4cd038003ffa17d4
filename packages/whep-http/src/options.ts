import type { IceRestartAnswer, IceRestartRequest } from '@dragon/webrtc';
import type { Context } from 'hono';
import { z } from 'zod';
import { InvalidWhepOptionsError } from './errors.js';

/** What the routes need to know of a media source (`@dragon/webrtc`'s `RtpSource` fits). */
export interface WhepSource {
  /** False until the source has received media; a POST then answers 409 + Retry-After. */
  readonly hasMedia: boolean;
}

/** One viewer's peer connection (`@dragon/webrtc`'s `Peer` fits). */
/** A WHEP or WHIP session an ICE restart changes: the remote peer's credentials and the ETag. */
export interface RestartableSession {
  readonly id: string;
  etag: string;
  remoteUfrag: string | undefined;
  remotePwd: string | undefined;
}

/** The engine's side of a session that may restart ICE (`@dragon/webrtc`'s peers fit). */
export interface RestartablePeer {
  readonly id: string;
  /**
   * Restarts ICE with the remote peer's new credentials and candidates and returns the server's
   * new ones. Optional: without it a restart is answered 422 and the session kept. Rejections with
   * `InvalidSdpError` are answered 400.
   */
  restartIce?(request: IceRestartRequest): Promise<IceRestartAnswer>;
}

export interface WhepPeer extends RestartablePeer {
  readonly id: string;
  readonly state: string;
  /** Closes the peer; safe to call twice. Emits `closed`. */
  close(): void;
  /** Adds one remote candidate, given as `candidate:…` (the `a=` prefix removed). */
  addRemoteCandidate(candidateLine: string): Promise<void>;
  on(event: 'closed', listener: (reason: string) => void): unknown;
  off(event: 'closed', listener: (reason: string) => void): unknown;
  /** What the peer has sent so far; reported by `WhepSessions.list()`. */
  stats?(): { bytesSent: number };
  /**
   * Where an adaptive viewer stands (its rendition, `'audio'` while its video is paused; its
   * link's estimate in bit/s; the fraction of its video lost over the last second; switches so
   * far); undefined for a viewer of one rendition. Reported by `WhepSessions.list()` and `get()`.
   */
  adaptation?(): { rendition: string; estimateBps: number; loss?: number; switches: number } | undefined;
}

/**
 * Where a process stands, as the server tells it: `running` (FFmpeg runs; viewers are answered once
 * the source has media), `starting` (409, short Retry-After), `failing` (ordered to run, but the
 * input keeps failing: 503, longer Retry-After), `stopped` (409, no Retry-After).
 */
export type WhepProcessState = 'running' | 'starting' | 'failing' | 'stopped';

/** What `lookup(processId)` tells the routes about a process that has WebRTC enabled. */
export interface WhepProcessEntry<S extends WhepSource> {
  state: WhepProcessState;
  /** The process's media source, while it has one. */
  source?: S | undefined;
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

const silentLogger: WhepLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Reads `@hono/node-server`'s `env.incoming.socket.remoteAddress` without depending on it. */
export function nodeRemoteAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: unknown } } } | undefined;
  const address = env?.incoming?.socket?.remoteAddress;
  return typeof address === 'string' && address.length > 0 ? address : 'unknown';
}

const isFunction = (value: unknown) => typeof value === 'function';
const fn = <F>() => z.custom<F>(isFunction, { message: 'must be a function' });
const iceUrl = z
  .string()
  .regex(/^(stun|stuns|turn|turns):[^\s<>]+$/, 'must be a stun:, stuns:, turn: or turns: URL');
const quotable = z.string().regex(/^[^\r\n"\\]*$/, 'must not contain quotes, backslashes or newlines');
const seconds = z.number().int().positive();

const iceServerSchema = z.object({
  urls: z.union([iceUrl, z.array(iceUrl).min(1)]),
  username: quotable.optional(),
  credential: quotable.optional(),
});

/** One ICE server, advertised to viewers in a `Link: <…>; rel="ice-server"` header (RFC 9725 §4.6). */
export type WhepIceServer = z.input<typeof iceServerSchema>;

/**
 * The options every WebRTC HTTP endpoint takes (WHEP here, WHIP in `@dragon/whip-http`), declared
 * once: the ICE servers advertised in `Link` headers, how the client address is read, CORS, where
 * the routes live and the logger. Spread into each endpoint's option schema.
 */
export function endpointOptionFields(defaultBasePath: string) {
  return {
    /**
     * Advertised in `Link: <…>; rel="ice-server"` headers (RFC 9725 §4.6). @default []
     * @example [{ urls: 'turn:turn.example.net:3478', username: 'u', credential: 'p' }]
     */
    iceServers: z.array(iceServerSchema).default([]),
    /**
     * The client address the limits count by. The default reads the socket's remote address from
     * `@hono/node-server` (`c.env.incoming.socket.remoteAddress`), else `'unknown'`. Behind a
     * reverse proxy, pass a function that reads the header your proxy sets.
     * @example (c) => c.req.header('x-real-ip') ?? 'unknown'
     */
    clientAddress: fn<(c: Context) => string>().default(() => nodeRemoteAddress),
    /** `Access-Control-Allow-Origin`: `'*'`, one origin, or a list (the request's Origin is echoed when listed; a list naming `'*'` allows any). @default '*' */
    corsOrigin: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).default('*'),
    /** Where the routes live under the server's root. */
    basePath: z
      .string()
      .regex(/^(\/[^/:*?#]+)*$/, 'must be empty or start with "/" and have no trailing "/"')
      .default(defaultBasePath),
    /** @default a logger that drops everything */
    logger: z
      .custom<WhepLogger>((value) => typeof value === 'object' && value !== null, {
        message: 'must be a logger',
      })
      .default(silentLogger),
  };
}

/**
 * The options of `createWhepRoutes`, declared once: validated with zod at creation, the TypeScript
 * types (`WhepRoutesOptions`, `ResolvedWhepOptions`) inferred from it. A function of the source type
 * so that `createPeer` receives the `source` your `lookup` returned.
 */
function optionsSchema<S extends WhepSource>() {
  return z.object({
    /**
     * Tells where a process stands. `undefined` for an unknown process or one without WebRTC (404,
     * or 401 to a client without a valid token while `concealProcessIds` is on).
     */
    lookup: fn<(processId: string) => WhepProcessEntry<S> | undefined>(),
    /**
     * Creates a peer for an offer. Rejections with `@dragon/webrtc`'s `InvalidSdpError` (400),
     * `NoUsableCodecError` (422), `IcePortsExhaustedError` (503) and `SourceClosedError` (answered by
     * the process's state) are answered; anything else is a 500 without details.
     */
    createPeer: fn<(source: S, offerSdp: string) => Promise<{ peer: WhepPeer; answerSdp: string }>>(),
    /**
     * The engine's check of an offer's SDP, run before the process state and viewer limits, so that
     * a malformed offer is a 400 whatever state the process is in; throws like `createPeer`.
     * @default undefined (`createPeer` alone judges the offer)
     * @example checkOffer // from @dragon/webrtc
     */
    checkOffer: fn<(offerSdp: string) => void>().optional(),
    /** Global bearer token. @default undefined (no token needed unless the process has one) */
    token: z.string().min(1).optional(),
    /**
     * Answer 401 rather than 404 for an unknown process to a client without the global token, so
     * that per-process tokens do not reveal which ids exist. Pass a function when it depends on
     * whether any process has a token. With a global `token` this is always the case. @default false
     * @example () => processes.some((p) => p.token !== undefined)
     */
    concealProcessIds: z.union([z.boolean(), fn<() => boolean>()]).default(false),
    /** Server-wide viewer limit (open sessions plus offers being answered). @default undefined (unlimited) */
    maxViewers: z.number().int().nonnegative().optional(),
    /** Largest accepted request body. @default 65536 */
    maxBodyBytes: z.number().int().positive().default(65536),
    /** Offers (POSTs) allowed per client address per window. @default undefined (no limit) */
    rateLimit: z
      .object({ windowMs: z.number().int().positive(), maxOffers: z.number().int().positive() })
      .optional(),
    /**
     * Refused tokens (401s) allowed per client address per window, on every route; past it the
     * address gets 429 + Retry-After until the window ends. `false` turns it off.
     * @default { windowMs: 60000, maxFailures: 20 }
     */
    tokenFailureLimit: z
      .union([
        z.literal(false),
        z.object({ windowMs: z.number().int().positive(), maxFailures: z.number().int().positive() }),
      ])
      .default({ windowMs: 60_000, maxFailures: 20 }),
    /** `Retry-After` seconds while a process starts (409) and when a limit is reached (503). @default 5 */
    retryAfterSeconds: seconds.default(5),
    /** `Retry-After` seconds while a process's input is failing (503). @default 15 */
    failingRetryAfterSeconds: seconds.default(15),
    /**
     * Answer trickle PATCHes without `If-Match` with 428. Off by default because the reference
     * client (medooze whip-whep-js) only sends `If-Match` after an ICE restart. @default false
     */
    requireIfMatchForTrickle: z.boolean().default(false),
    /** Where the routes live: `${basePath}/:id/whep[/:sessionId]`. @default '/api/v3/process' */
    ...endpointOptionFields('/api/v3/process'),
  });
}

/** What `createWhepRoutes` accepts. */
export type WhepRoutesOptions<S extends WhepSource = WhepSource> = z.input<
  ReturnType<typeof optionsSchema<S>>
>;
/** The options after validation, with their defaults. */
export type ResolvedWhepOptions<S extends WhepSource = WhepSource> = z.output<
  ReturnType<typeof optionsSchema<S>>
>;

/**
 * Validates the options once (zod) and fills in the defaults.
 * @throws InvalidWhepOptionsError
 */
export function resolveOptions<S extends WhepSource>(options: WhepRoutesOptions<S>): ResolvedWhepOptions<S> {
  const result = optionsSchema<S>().safeParse(options);
  if (!result.success) {
    const issues = result.error.issues.map(
      (issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`,
    );
    throw new InvalidWhepOptionsError(issues, { cause: result.error });
  }
  return result.data;
}
