import { randomUUID } from 'node:crypto';
import { listenAddressSchema } from '@dragon/ingest';
import { z } from 'zod';
import { apiSection } from './sections/api-section.js';
import { clusterSection } from './sections/cluster-section.js';
import {
  dbSection,
  debugSection,
  hostSection,
  logSection,
  metricsSection,
  playoutSection,
  routerSection,
  serviceSection,
  sessionsSection,
  tlsSection,
} from './sections/datarhei-sections.js';
import { ffmpegSection } from './sections/ffmpeg-section.js';
import { rtmpSection, srtSection } from './sections/ingest-sections.js';
import { instanceName } from './sections/shared-fields.js';
import { storageSection } from './sections/storage-section.js';
import { webrtcSection } from './sections/webrtc-section.js';
import { whipSection } from './sections/whip-section.js';

/**
 * The server configuration: datarhei Core v16's config document (layout version 3, `config/data.go`)
 * key for key with its defaults, plus Dragon's `webrtc`, `whip` and `cluster` blocks. The one
 * declaration of every key and default: each section in its own file under `sections/`, assembled
 * here with the checks that span sections. The environment variable of a field is `CORE_` + its
 * JSON path upper-cased with dots as `_` (see `env-overrides.ts` for datarhei's other names).
 */
const configObject = z.object({
  /** Config layout version; datarhei's current layout is 3. */
  version: z.literal(3).default(3),
  /** When this config was first persisted. */
  created_at: z.iso.datetime({ offset: true }).default(() => new Date().toISOString()),
  /** This instance's id, generated once and kept in the config file. */
  id: z
    .string()
    .min(1, 'a value is required')
    .default(() => randomUUID()),
  name: z.string().default(instanceName),
  /** HTTP listen address. */
  address: listenAddressSchema.default(':8080'),
  /** Kept for datarhei clients; Dragon never contacts an update service. */
  update_check: z.boolean().default(true),
  log: logSection,
  db: dbSection,
  host: hostSection,
  api: apiSection,
  tls: tlsSection,
  storage: storageSection,
  rtmp: rtmpSection,
  srt: srtSection,
  ffmpeg: ffmpegSection,
  playout: playoutSection,
  debug: debugSection,
  metrics: metricsSection,
  sessions: sessionsSection,
  service: serviceSection,
  router: routerSection,
  webrtc: webrtcSection,
  whip: whipSection,
  cluster: clusterSection,
});

type ConfigShape = z.output<typeof configObject>;
type Issue = { path: string[]; message: string };

/** datarhei's cross-field checks (`config.Validate`), with its field names and messages, plus Dragon's. */
function crossFieldIssues(config: ConfigShape): Issue[] {
  const issues: Issue[] = [];
  const add = (path: string, message: string) => issues.push({ path: path.split('.'), message });
  const { api, tls, rtmp, storage, playout, sessions, service, metrics, webrtc, cluster } = config;

  if (api.auth.enable && (api.auth.username === '' || api.auth.password === '')) {
    add('api.auth.enable', 'api.auth.username and api.auth.password must be set');
  }
  if (api.auth.auth0.enable) {
    if (api.auth.auth0.tenants.length === 0) add('api.auth.auth0.enable', 'at least one tenants must be set');
    api.auth.auth0.tenants.forEach((tenant, index) => {
      if (!tenant.domain || !tenant.audience || !tenant.clientid) {
        add('api.auth.auth0.tenants', `domain, audience, and clientid must be set (tenant ${index})`);
      }
    });
  }
  if (tls.enable && !tls.auto && (tls.cert_file === '' || tls.key_file === '')) {
    add('tls.enable', 'tls.certfile and tls.keyfile must be set');
  }
  if (tls.enable && tls.auto && config.host.name.length === 0) {
    add('host.name', 'a hostname must be set in order to get an automatic TLS certificate');
  }
  if (rtmp.enable_tls) {
    if (!rtmp.enable) add('rtmp.enable', 'RTMP server must be enabled if RTMPS server is enabled');
    if (!tls.enable) add('rtmp.enable_tls', 'RTMPS server can only be enabled if TLS is enabled');
    if (rtmp.enable && rtmp.address === rtmp.address_tls) {
      add('rtmp.address', "The RTMP and RTMPS server can't listen on the same address");
    }
  }
  if (
    storage.memory.auth.enable &&
    (storage.memory.auth.username === '' || storage.memory.auth.password === '')
  ) {
    add(
      'storage.memory.auth.enable',
      'storage.memory.auth.username and storage.memory.auth.password must be set',
    );
  }
  const names = new Set(['disk', 'mem']);
  for (const s3 of storage.s3) {
    if (names.has(s3.name)) add('storage.s3', `the name ${s3.name} is already in use or reserved`);
    names.add(s3.name);
  }
  if (playout.enable && playout.min_port >= playout.max_port) {
    add('playout.min_port', 'must be bigger than playout.max_port');
  }
  if (sessions.enable && sessions.session_timeout_sec < 1) {
    add('sessions.session_timeout_sec', 'must be equal or greater than 1');
  }
  if (sessions.enable && sessions.persist_interval_sec < 0) {
    add('sessions.persist_interval_sec', 'must be at equal or greater than 0');
  }
  if (service.enable) {
    if (service.token === '') add('service.token', 'must be non-empty');
    if (service.url === '') add('service.url', 'must be non-empty');
  }
  if (metrics.enable) {
    if (metrics.range_sec <= 0) add('metrics.range_sec', 'must be greater 0');
    if (metrics.interval_sec <= 0) add('metrics.interval_sec', 'must be greater 0');
    if (metrics.interval_sec > metrics.range_sec)
      add('metrics.interval_sec', 'must be smaller than the range');
  }
  if (webrtc.ice_port_min > webrtc.ice_port_max) add('webrtc.ice_port_min', 'must not exceed ice_port_max');
  if (webrtc.rtp_port_min > webrtc.rtp_port_max) add('webrtc.rtp_port_min', 'must not exceed rtp_port_max');
  if (cluster.enable && cluster.redis_url === '') add('cluster.redis_url', 'must be set in cluster mode');
  // Records in Redis and forwarded API calls are signed with it: without it, whoever can write to
  // Redis decides which URLs the nodes call, login or not.
  if (cluster.enable && cluster.secret.length < 16) {
    add('cluster.secret', 'must be at least 16 characters, the same on every node, in cluster mode');
  }
  if (cluster.node_recover_timeout_sec < cluster.node_timeout_sec) {
    add('cluster.node_recover_timeout_sec', 'must not be shorter than cluster.node_timeout_sec');
  }
  return issues;
}

export const configSchema = configObject.superRefine((config, context) => {
  for (const issue of crossFieldIssues(config)) context.addIssue({ code: 'custom', ...issue });
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Paths whose default is generated (an id, a name, secrets): created once, then kept in the file. */
export const generatedPaths = [
  'created_at',
  'id',
  'name',
  'api.auth.jwt.secret',
  'storage.memory.auth.password',
] as const;
