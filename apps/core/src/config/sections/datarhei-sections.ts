import { listenAddressSchema } from '@dragon/ingest';
import { z } from 'zod';
import { logRingOptionsSchema } from '../../ops/log-ring.js';
import { cidr, count, port, stringList } from './shared-fields.js';

// datarhei's smaller sections, a few keys each, with datarhei's defaults.

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const logSection = z
  .object({
    level: z.enum(logLevels).default('info'),
    topics: stringList.default([]),
    /** Recent lines `GET /api/v3/log` shows; the log ring owns the bounds and the default. Read at start. */
    max_lines: logRingOptionsSchema.shape.maxLines,
  })
  .prefault({});

export const dbSection = z
  .object({ dir: z.string().trim().min(1, 'path name must not be empty').default('./config') })
  .prefault({});

export const hostSection = z
  .object({ name: stringList.default([]), auto: z.boolean().default(true) })
  .prefault({});

export const tlsSection = z
  .object({
    address: listenAddressSchema.default(':8181'),
    enable: z.boolean().default(false),
    auto: z.boolean().default(false),
    email: z.union([z.literal(''), z.email()]).default('cert@datarhei.com'),
    cert_file: z.string().default(''),
    key_file: z.string().default(''),
  })
  .prefault({});

export const playoutSection = z
  .object({ enable: z.boolean().default(false), min_port: port.default(0), max_port: port.default(0) })
  .prefault({});

export const debugSection = z
  .object({
    profiling: z.boolean().default(false),
    force_gc: count.default(0),
    memory_limit_mbytes: count.default(0),
  })
  .prefault({});

export const metricsSection = z
  .object({
    enable: z.boolean().default(false),
    enable_prometheus: z.boolean().default(false),
    range_sec: count.default(300),
    interval_sec: count.default(2),
  })
  .prefault({});

export const sessionsSection = z
  .object({
    enable: z.boolean().default(true),
    ip_ignorelist: z.array(cidr).default(['127.0.0.1/32', '::1/128']),
    session_timeout_sec: z.number().int().default(30),
    persist: z.boolean().default(false),
    persist_interval_sec: z.number().int().default(300),
    max_bitrate_mbit: count.default(0),
    max_sessions: count.default(0),
  })
  .prefault({});

export const serviceSection = z
  .object({
    enable: z.boolean().default(false),
    token: z.string().default(''),
    url: z.union([z.literal(''), z.url()]).default('https://service.datarhei.com'),
  })
  .prefault({});

export const routerSection = z
  .object({
    blocked_prefixes: stringList.default(['/api']),
    routes: z.record(z.string(), z.string()).default({}),
    ui_path: z.string().default(''),
  })
  .prefault({});
