import { z } from 'zod';
import { listenAddressSchema } from './listen-address.js';

const mebibyte = 1024 * 1024;

/**
 * The RTMP server's options: datarhei's `rtmp.*` keys, Dragon's limits (the config's
 * `rtmp.max_connections`, `max_connections_per_address`, `handshake_timeout_sec`,
 * `start_timeout_sec` take their defaults from here) and bounds only code sets.
 */
export const rtmpServerOptionsSchema = z.object({
  /** `rtmp.address`. @default ':1935' */
  address: listenAddressSchema.default(':1935'),
  /** `rtmp.app`: publishing is only allowed below this path. @default '/' */
  app: z.string().startsWith('/', 'must be an absolute path').default('/'),
  /** `rtmp.token`: required from publishers and players when set. */
  token: z.string().default(''),
  /** RTMPS (`rtmp.enable_tls`) on `rtmp.address_tls` with `tls.cert_file`/`tls.key_file`. */
  tls: z
    .object({ address: listenAddressSchema, certFile: z.string().min(1), keyFile: z.string().min(1) })
    .optional(),
  /** A connection silent this long is closed (datarhei: 10 s). @default 10000 */
  idleTimeoutMs: z.number().int().min(100).default(10_000),
  /** A player whose socket buffers more than this is too slow to follow and is dropped. @default 16 MiB */
  maxPlayerBufferBytes: z
    .number()
    .int()
    .min(65_536)
    .default(16 * mebibyte),
  /**
   * Connections at once over RTMP and RTMPS; more are closed as they come. 0: no limit. Dragon's
   * own FFmpeg processes that read `{rtmp}` count too. @default 256
   */
  maxConnections: z.number().int().min(0).default(256),
  /** Connections at once from one IP address (loopback included); 0: no limit. @default 64 */
  maxConnectionsPerAddress: z.number().int().min(0).default(64),
  /** The RTMP handshake (and the TLS one on RTMPS) must be over this long after the connection. @default 10000 */
  handshakeTimeoutMs: z.number().int().min(100).default(10_000),
  /** The peer must be publishing or playing this long after the connection. @default 30000 */
  startTimeoutMs: z.number().int().min(100).default(30_000),
  /**
   * Bytes a peer may send before it publishes or plays, handshake included (FFmpeg sends 3.6 KB to
   * get there); commands are at most 16 KiB each. @default 64 KiB
   */
  maxBytesBeforeStart: z
    .number()
    .int()
    .min(8192)
    .default(64 * 1024),
  /** The longest message a publisher may send (RTMP's own limit is 16 MiB − 1). @default 16 MiB − 1 */
  maxMessageBytes: z.number().int().min(65_536).max(0xffffff).default(0xffffff),
  /** Bytes a publisher may hold in messages not yet complete, over all its chunk streams. @default 32 MiB */
  maxBufferedBytes: z
    .number()
    .int()
    .min(65_536)
    .default(32 * mebibyte),
  /** Chunk streams one connection may use (FFmpeg and OBS use 5 or 6). @default 32 */
  maxChunkStreams: z.number().int().min(4).max(65_599).default(32),
  /** The bytes a late player's GOP cache may hold per stream. @default 32 MiB */
  maxGopBytes: z
    .number()
    .int()
    .min(mebibyte)
    .default(32 * mebibyte),
});
export type RtmpServerOptions = z.input<typeof rtmpServerOptionsSchema>;

/** The defaults, for the config's keys. */
export const rtmpServerDefaults = rtmpServerOptionsSchema.parse({});
