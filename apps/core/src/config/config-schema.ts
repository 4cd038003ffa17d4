import { z } from 'zod';

const iceServerSchema = z.object({
  urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

/** `host:port` or `:port`, as datarhei's `address`. */
const listenAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]*):\d{1,5}$/, 'must be host:port or :port');

/**
 * The server configuration. JSON paths mirror datarhei Core's config where they overlap, so
 * `CORE_` + the path upper-cased with dots as `_` is the environment variable (CORE_DB_DIR, …).
 */
export const configSchema = z.object({
  /** HTTP listen address. @default ':8080' */
  address: listenAddress.default(':8080'),
  db: z.object({ dir: z.string().min(1).default('./data') }).prefault({}),
  ffmpeg: z
    .object({
      binary: z.string().min(1).default('ffmpeg'),
      log: z
        .object({
          max_lines: z.number().int().min(1).max(10000).default(50),
          max_history: z.number().int().min(0).max(100).default(3),
        })
        .prefault({}),
    })
    .prefault({}),
  api: z
    .object({
      auth: z
        .object({
          enable: z.boolean().default(false),
          disable_localhost: z.boolean().default(false),
          username: z.string().default(''),
          password: z.string().default(''),
          jwt: z.object({ secret: z.string().default('') }).prefault({}),
        })
        .prefault({}),
    })
    .prefault({}),
  webrtc: z
    .object({
      enable: z.boolean().default(true),
      public_ip: z.string().default(''),
      nat_1_to_1_ips: z.array(z.string().min(1)).default([]),
      /** One UDP port for every viewer's ICE/DTLS/SRTP; 0 gives each viewer its own ephemeral port. */
      udp_mux_port: z.number().int().min(0).max(65535).default(0),
      /** Passive ICE-TCP on this port for networks that block UDP; 0 disables ICE-TCP. */
      tcp_mux_port: z.number().int().min(0).max(65535).default(0),
      /** Bearer token viewers must present for WHEP; empty means open. */
      token: z.string().default(''),
      ice_servers: z.array(iceServerSchema).default([]),
      /** Interfaces ICE gathers host candidates on; empty means all. */
      interfaces: z.array(z.string().min(1)).default([]),
      ice_port_min: z.number().int().min(0).max(65535).default(0),
      ice_port_max: z.number().int().min(0).max(65535).default(0),
      /** Loopback UDP range for FFmpeg's RTP legs; 0/0 lets the OS choose. */
      rtp_port_min: z.number().int().min(0).max(65535).default(0),
      rtp_port_max: z.number().int().min(0).max(65535).default(0),
      /** 0 means no limit. */
      max_viewers: z.number().int().min(0).default(0),
      max_viewers_per_process: z.number().int().min(0).default(0),
      /** Offers one client address may make per minute; 0 means no limit. */
      max_offers_per_minute: z.number().int().min(0).default(120),
      /** How long a disconnected viewer is kept before it is dropped (RFC 7675 consent expiry is 30 s). */
      disconnect_timeout_seconds: z.number().int().min(8).max(30).default(15),
    })
    .prefault({})
    .refine((webrtc) => webrtc.ice_port_min <= webrtc.ice_port_max, {
      message: 'ice_port_min must not exceed ice_port_max',
    })
    .refine((webrtc) => webrtc.rtp_port_min <= webrtc.rtp_port_max, {
      message: 'rtp_port_min must not exceed rtp_port_max',
    }),
  log: z
    .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
