import {
  listenAddressSchema,
  rtmpServerDefaults,
  rtmpServerOptionsSchema,
  srtServerOptionsSchema,
} from '@dragon/ingest';
import { z } from 'zod';
import { count, stringList } from './shared-fields.js';

// The keys a server of `@dragon/ingest` takes as they are come from its options schema, so the
// package owns their pattern, default and message; the config adds datarhei's switches and the
// limits in datarhei's units.

const rtmp = rtmpServerOptionsSchema.shape;
const srt = srtServerOptionsSchema.shape;

/** `rtmp`: datarhei's RTMP/RTMPS server (`@dragon/ingest`), with Dragon's bounds on clients. */
export const rtmpSection = z
  .object({
    enable: z.boolean().default(false),
    enable_tls: z.boolean().default(false),
    address: rtmp.address,
    address_tls: listenAddressSchema.default(':1936'),
    app: rtmp.app,
    token: rtmp.token,
    // Dragon's bounds on what any client may hold (docs/security.md); datarhei has none.
    /** Connections at once, RTMP and RTMPS together (Dragon's own FFmpeg readers too); 0: no limit. */
    max_connections: count.default(rtmpServerDefaults.maxConnections),
    /** Connections at once from one IP address, loopback included; 0: no limit. */
    max_connections_per_address: count.default(rtmpServerDefaults.maxConnectionsPerAddress),
    /** A client must finish the RTMP (and TLS) handshake this soon after connecting. */
    handshake_timeout_sec: z
      .number()
      .int()
      .min(1)
      .default(rtmpServerDefaults.handshakeTimeoutMs / 1000),
    /** A client must publish or play this soon after connecting. */
    start_timeout_sec: z
      .number()
      .int()
      .min(1)
      .default(rtmpServerDefaults.startTimeoutMs / 1000),
  })
  .prefault({});

/** `srt`: datarhei's SRT server (`@dragon/ingest`). */
export const srtSection = z
  .object({
    enable: z.boolean().default(false),
    address: srt.address,
    passphrase: srt.passphrase,
    token: srt.token,
    log: z.object({ enable: z.boolean().default(false), topics: stringList.default([]) }).prefault({}),
  })
  .prefault({});
