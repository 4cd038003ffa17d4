import { endpointOptionFields, type RestartablePeer, type WhepIceServer } from '@dragon/whep-http';
import { z } from 'zod';
import { InvalidWhipOptionsError } from './errors.js';

/** A publisher's peer connection, as the engine made it (`@dragon/webrtc`'s `PublisherPeer` fits). */
export interface WhipPublisher extends RestartablePeer {
  readonly id: string;
  /** `new`, `connecting`, `connected`, `disconnected` or `closed`. */
  readonly state: string;
  /** When the last media packet arrived (ms since the epoch); `undefined` before the first. */
  readonly lastMediaAt: number | undefined;
  /** Closes the peer; safe to call twice. Emits `closed`. */
  close(): void;
  /** Adds one remote candidate, given as `candidate:…` (the `a=` prefix removed). */
  addRemoteCandidate(candidateLine: string): Promise<void>;
  on(event: 'closed', listener: (reason: string) => void): unknown;
  off(event: 'closed', listener: (reason: string) => void): unknown;
}

/** What the engine is told about an offer besides its SDP. */
export interface PublishRequest {
  /** The stream name of the URL. */
  name: string;
  /** The client address the limits count by. */
  remote: string;
  userAgent: string | undefined;
}

const isFunction = (value: unknown) => typeof value === 'function';
const fn = <F>() => z.custom<F>(isFunction, { message: 'must be a function' });
const window = z.object({ windowMs: z.number().int().positive(), max: z.number().int().positive() });

/** The options of `createWhipRoutes`, declared once; the types below are inferred from it. */
function optionsSchema<P extends WhipPublisher>() {
  return z.object({
    /**
     * The engine: answers a publisher's offer. Rejections with `@dragon/webrtc`'s `InvalidSdpError`
     * (400), `NoUsableCodecError` (422) and `IcePortsExhaustedError` (503) are answered; anything
     * else is a 500 without details (the app's `onError` logs it).
     */
    createPublisher:
      fn<(offerSdp: string, request: PublishRequest) => Promise<{ publisher: P; answerSdp: string }>>(),
    /**
     * The engine's cheap check of an offer's SDP, run before the conflict and limit checks.
     * @default undefined @example checkOffer // from @dragon/webrtc
     */
    checkOffer: fn<(offerSdp: string) => void>().optional(),
    /** Server-wide publisher token (`Authorization: Bearer …`). @default undefined */
    token: z.string().min(1).optional(),
    /**
     * A stream's own token; either it or the server-wide one is accepted for that stream.
     * @default () => undefined @example (name) => streams[name]?.token
     */
    streamToken: fn<(name: string) => string | undefined>().default(() => () => undefined),
    /**
     * Publishing without a token where none is configured for the stream. Off: with no token
     * configured, every offer is refused (401). @default false
     */
    allowAnonymous: z.boolean().default(false),
    /**
     * A second publisher for a live name: `reject` answers 409, `replace` closes the first. A stale
     * publisher (ICE disconnected, or no media for `staleAfterMs`) is replaced either way, so a
     * publisher that reconnects without its DELETE (OBS after a network drop) gets its name back.
     * @default 'reject'
     */
    onConflict: z.enum(['reject', 'replace']).default('reject'),
    /** @default 2000 */
    staleAfterMs: z.number().int().positive().default(2000),
    /** Publications at once (live plus offers being answered); past it 503 + Retry-After. @default 10 */
    maxPublications: z.number().int().positive().default(10),
    /** Largest accepted request body (an offer with simulcast is ~10 KiB). @default 65536 */
    maxBodyBytes: z.number().int().positive().default(65536),
    /** Offers per client address per window; past it 429. @default { windowMs: 60000, max: 30 } */
    offerLimit: z.union([z.literal(false), window]).default({ windowMs: 60_000, max: 30 }),
    /** Refused tokens per client address per window; past it 429 on every route. @default { windowMs: 60000, max: 10 } */
    tokenFailureLimit: z.union([z.literal(false), window]).default({ windowMs: 60_000, max: 10 }),
    /** `Retry-After` seconds of 503 answers. @default 5 */
    retryAfterSeconds: z.number().int().positive().default(5),
    /** Where the routes live: `${basePath}/:name[/:sessionId]`. @default '/api/v3/whip' */
    ...endpointOptionFields('/api/v3/whip'),
  });
}

/** What `createWhipRoutes` accepts. */
export type WhipRoutesOptions<P extends WhipPublisher = WhipPublisher> = z.input<
  ReturnType<typeof optionsSchema<P>>
>;
/** The options after validation, with their defaults. */
export type ResolvedWhipOptions<P extends WhipPublisher = WhipPublisher> = z.output<
  ReturnType<typeof optionsSchema<P>>
>;
export type WhipIceServer = WhepIceServer;

/**
 * Validates the options once (zod) and fills in the defaults.
 * @throws InvalidWhipOptionsError
 */
export function resolveOptions<P extends WhipPublisher>(
  options: WhipRoutesOptions<P>,
): ResolvedWhipOptions<P> {
  const result = optionsSchema<P>().safeParse(options);
  if (!result.success) {
    const issues = result.error.issues.map(
      (issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`,
    );
    throw new InvalidWhipOptionsError(issues, { cause: result.error });
  }
  return result.data;
}
