import { z } from 'zod';
import { count } from './shared-fields.js';

/**
 * WHIP ingest (RFC 9725): publishers (OBS, browsers, GStreamer, FFmpeg) POST an offer to
 * `/api/v3/whip/{name}`; viewers play `/api/v3/whip/{name}/whep` and `/player/whip/{name}`. Needs
 * `webrtc.enable`.
 */
export const whipSection = z
  .object({
    /** Accept publishers. Off by default: a server that takes no ingest opens no door for it. */
    enable: z.boolean().default(false),
    /** Server-wide publisher bearer token (`CORE_WHIP_TOKEN`; OBS sends it as a bearer token). */
    token: z.string().default(''),
    /** Per-stream publisher tokens; a stream's own or the server-wide one is accepted. */
    streams: z.record(z.string(), z.object({ token: z.string().default('') })).default({}),
    /** Publishing without a token where none is configured. Off: no token configured, nobody publishes. */
    allow_anonymous: z.boolean().default(false),
    /** A second publisher for a live name: `reject` (409) or `replace` the first. A stale one is always replaced. */
    on_conflict: z.enum(['reject', 'replace']).default('reject'),
    /** Publications at once; past it 503. */
    max_publications: z.number().int().min(1).default(10),
    /** Offers one client address may make per minute; 0 means no limit. */
    max_offers_per_minute: count.default(30),
    /**
     * How long a publication outlives its publisher: viewers keep their sessions and a publisher
     * that comes back within it (OBS reconnecting) continues the same stream.
     */
    reconnect_grace_seconds: z.number().int().min(0).max(300).default(15),
  })
  .prefault({});
