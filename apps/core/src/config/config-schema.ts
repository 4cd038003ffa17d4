import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { vp8ModeSchema } from '@dragon/ffmpeg-args';
import { isValidCorsOrigin } from '@dragon/filesystems';
import { listenAddressSchema, rtmpServerDefaults } from '@dragon/ingest';
import { z } from 'zod';

/**
 * The server configuration: datarhei Core v16's config document (layout version 3, `config/data.go`)
 * key for key with its defaults, plus Dragon's `webrtc` block. The environment variable of a field is
 * `CORE_` + its JSON path upper-cased with dots as `_` (see `env-overrides.ts` for datarhei's
 * other names).
 */

const port = z.number().int().min(0).max(65535);
const count = z.number().int().min(0);
const stringList = z.array(z.string());

/** An IP range in CIDR notation (`10.0.0.0/8`, `::1/128`). */
const cidr = z.string().refine(
  (value) => {
    const [address, bits, ...rest] = value.split('/');
    if (rest.length > 0 || !address || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
    const family = isIP(address);
    return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
  },
  { message: 'must be an IP range in CIDR notation' },
);

const allowBlock = z.object({ allow: stringList.default([]), block: stringList.default([]) });

/** datarhei's haikunator-style instance name: readable, unique enough, generated once. */
const adjectives = ['autumn', 'bold', 'calm', 'dawn', 'ember', 'frosty', 'golden', 'hidden', 'misty'];
const nouns = ['river', 'meadow', 'cloud', 'forest', 'glade', 'harbor', 'peak', 'sun', 'wave'];
function instanceName(): string {
  const pick = (words: string[]) => words[randomInt(words.length)];
  return `${pick(adjectives)}-${pick(nouns)}-${randomInt(1000, 10000)}`;
}

/** Alphanumeric secret, as datarhei generates the JWT secret and the memfs password. */
function randomSecret(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join('');
}

const auth0TenantSchema = z.object({
  domain: z.string().default(''),
  audience: z.string().default(''),
  clientid: z.string().default(''),
  users: stringList.default([]),
});

const s3StorageSchema = z.object({
  name: z.string().min(1),
  mountpoint: z.string().default(''),
  auth: z
    .object({
      enable: z.boolean().default(false),
      username: z.string().default(''),
      password: z.string().default(''),
    })
    .prefault({}),
  endpoint: z.string().default(''),
  access_key_id: z.string().default(''),
  secret_access_key: z.string().default(''),
  bucket: z.string().default(''),
  region: z.string().default(''),
  use_ssl: z.boolean().default(false),
});

const iceServerSchema = z.object({
  urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

const webrtcSchema = z
  .object({
    enable: z.boolean().default(true),
    public_ip: z.string().default(''),
    nat_1_to_1_ips: z.array(z.string().min(1)).default([]),
    /** One UDP port for every viewer's ICE/DTLS/SRTP; 0 gives each viewer its own ephemeral port. */
    udp_mux_port: port.default(0),
    /** Passive ICE-TCP on this port for networks that block UDP; 0 disables ICE-TCP. */
    tcp_mux_port: port.default(0),
    /** Bearer token viewers must present for WHEP; empty means open. */
    token: z.string().default(''),
    ice_servers: z.array(iceServerSchema).default([]),
    /** Interfaces ICE gathers host candidates on; empty means all. */
    interfaces: z.array(z.string().min(1)).default([]),
    ice_port_min: port.default(0),
    ice_port_max: port.default(0),
    /** Loopback UDP range for FFmpeg's RTP legs; 0/0 lets the OS choose. */
    rtp_port_min: port.default(0),
    rtp_port_max: port.default(0),
    /**
     * Viewers over all processes; 0 means no limit. 100 viewers of a 2 Mbit/s stream are 200 Mbit/s of
     * upload and about 60 % of one desktop core (docs/performance.md) — already more than a NAS or a
     * home uplink carries.
     */
    max_viewers: count.default(100),
    /** 0 means only `max_viewers` applies. */
    max_viewers_per_process: count.default(0),
    /** Offers one client address may make per minute; 0 means no limit. */
    max_offers_per_minute: count.default(120),
    /** How long a disconnected viewer is kept before it is dropped (RFC 7675 consent expiry is 30 s). */
    disconnect_timeout_seconds: z.number().int().min(8).max(30).default(15),
    /**
     * The nice value the media data plane's threads ask for, where the process may set it
     * (CAP_SYS_NICE, or RLIMIT_NICE: systemd `LimitNICE=`, docker `--ulimit nice=`): negative puts a
     * frame's fan-out ahead of FFmpeg, the API and every other program at nice 0. Where it may not,
     * the data plane runs at the server's own value; the log says which at start, and why. Nothing
     * else is lowered for it. 0 leaves it alone. Read at start.
     */
    data_plane_nice: z.number().int().min(-20).max(0).default(-10),
    /**
     * Opt-in: the nice value of everything but the media data plane's threads (API, signalling,
     * V8's helpers, and the FFmpeg processes they start). They then yield to every other program
     * on the machine too, the stream with them. 0 leaves priorities alone. Read at start.
     */
    control_plane_nice: z.number().int().min(0).max(19).default(0),
    /**
     * Opt-in, for a machine that runs nothing else: everything but the media data plane's threads
     * under SCHED_IDLE, the FFmpeg processes they start included, so the data plane preempts them
     * the moment a packet arrives. Where other programs keep the cores busy, FFmpeg and the API then
     * get almost no CPU: the stream stops and the API takes seconds (docs/performance.md).
     * `control_plane_nice` applies where the kernel refuses, and to V8's helper threads. Read at start.
     */
    control_plane_idle: z.boolean().default(false),
    /**
     * Renditions for processes whose `webrtc` block does not say (`renditions`): `auto` gives each
     * one a ladder below its top video (720p: 480p, 360p, 240p) within `renditions_cpu_budget`;
     * `off` sends the top only. Off by default: a ladder costs about a third of a core per 720p
     * process (docs/media-plan.md), which a NAS with a few cameras does not have to spare unasked.
     */
    renditions: z.enum(['off', 'auto']).default('off'),
    /**
     * The share of the machine's cores (the cgroup's CPU quota where one is set: docker `--cpus`)
     * that the renditions of all processes may take together, by the media plan's estimates; a
     * rendition that does not fit is not made and the plan says why.
     */
    renditions_cpu_budget: z.number().min(0.1).max(1).default(0.5),
    /**
     * VP8 for processes whose `webrtc` block does not say (`vp8`), for viewers whose browser has no
     * H.264: `always` encodes a VP8 rendition with the ladder, `on-demand` only while such a viewer
     * watches, `off` never.
     */
    vp8: vp8ModeSchema.default('on-demand'),
    /**
     * WebRTC for processes whose config has no `webrtc` block (an explicit one, even
     * `{"enabled": false}`, wins). By default the Restreamer UI's channel ingests, so a user who
     * points the UI at Dragon gets `/player/<id>` and WHEP for every channel.
     */
    auto_enable: z
      .object({
        /**
         * Process id globs (`*`, `?`, as `idpattern`); empty for none. The default is the UI's ingest
         * id `restreamer-ui:ingest:<uuid>` exactly: not its `…_snapshot` and `…_probe` processes.
         */
        processes: z
          .array(z.string().min(1))
          .default(['restreamer-ui:ingest:????????-????-????-????-????????????']),
        /** Reference globs; a process matching either list is covered. */
        references: z.array(z.string().min(1)).default([]),
        /**
         * CPU cores the transcodes of these processes may take together, by the media plan's
         * estimates; a transcode that does not fit, or that the machine has no idle cores for, is
         * left off and the plan says why. 0: copy only.
         */
        transcode_cores: z.number().min(0).max(1024).default(1),
      })
      .prefault({}),
  })
  .prefault({});

/**
 * WHIP ingest (RFC 9725): publishers (OBS, browsers, GStreamer, FFmpeg) POST an offer to
 * `/api/v3/whip/{name}`; viewers play `/api/v3/whip/{name}/whep` and `/player/whip/{name}`. Needs
 * `webrtc.enable`.
 */
const whipSchema = z
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

/**
 * Cluster mode. datarhei's `cluster` section names what fits (`enable`, `sync_interval_sec`,
 * `node_recover_timeout_sec`); its raft keys (`address`, `peers`, `emergency_leader_timeout_sec`) have
 * no meaning here, because nodes coordinate through Redis instead of a consensus log
 * (docs/scale-out.md). The rest is Dragon's.
 */
const clusterSchema = z
  .object({
    /** Join the cluster through `redis_url`. Setting `CORE_CLUSTER_REDIS_URL` turns this on. */
    enable: z.boolean().default(false),
    /** `redis://[user:password@]host:port[/db]` or `rediss://` (TLS). */
    redis_url: z
      .union([z.literal(''), z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL')])
      .default(''),
    /** Every key this cluster writes starts with it, so clusters can share one Redis. */
    key_prefix: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, "_", "." or "-"')
      .default('dragon'),
    /**
     * Shared by every node, required in cluster mode (16+ characters): signs what nodes write to Redis
     * and the requests they make of each other (forwarded API calls).
     */
    secret: z.string().default(''),
    /** The base URL other nodes and redirected viewers reach this node at; empty: derived from `address`. */
    advertise_url: z
      .union([
        z.literal(''),
        z.string().regex(/^https?:\/\/[^/\s?#]+$/, 'must be http(s)://host[:port] without a path'),
      ])
      .default(''),
    /** Seconds between writes of this node's process records to Redis (they are also written on change). */
    sync_interval_sec: z.number().int().min(1).default(5),
    /** A node whose heartbeat is this old has left the cluster. */
    node_timeout_sec: z.number().int().min(2).default(6),
    /**
     * How long the processes of a node that left wait for it before another node takes over the ones
     * marked for failover. datarhei waits 120 s for its raft cluster; a Redis lease expires exactly.
     */
    node_recover_timeout_sec: z.number().int().min(2).default(15),
    /** An edge keeps pulling a stream this long after its last viewer left. */
    edge_idle_timeout_sec: z.number().int().min(0).default(30),
    /**
     * An offer is redirected to a node whose share of its viewer capacity is lower by more than this
     * (0–1); a full node always redirects. 1 turns balancing off.
     */
    balance_margin: z.number().min(0).max(1).default(0.2),
  })
  .prefault({});

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

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
  log: z
    .object({
      level: z.enum(logLevels).default('info'),
      topics: stringList.default([]),
      max_lines: count.default(1000),
    })
    .prefault({}),
  db: z
    .object({ dir: z.string().trim().min(1, 'path name must not be empty').default('./config') })
    .prefault({}),
  host: z.object({ name: stringList.default([]), auto: z.boolean().default(true) }).prefault({}),
  api: z
    .object({
      read_only: z.boolean().default(false),
      access: z
        .object({
          http: z.object({ allow: z.array(cidr).default([]), block: z.array(cidr).default([]) }).prefault({}),
          https: z
            .object({ allow: z.array(cidr).default([]), block: z.array(cidr).default([]) })
            .prefault({}),
        })
        .prefault({}),
      auth: z
        .object({
          enable: z.boolean().default(false),
          disable_localhost: z.boolean().default(false),
          username: z.string().default(''),
          password: z.string().default(''),
          jwt: z.object({ secret: z.string().default(() => randomSecret(32)) }).prefault({}),
          auth0: z
            .object({ enable: z.boolean().default(false), tenants: z.array(auth0TenantSchema).default([]) })
            .prefault({}),
        })
        .prefault({}),
    })
    .prefault({}),
  tls: z
    .object({
      address: listenAddressSchema.default(':8181'),
      enable: z.boolean().default(false),
      auto: z.boolean().default(false),
      email: z.union([z.literal(''), z.email()]).default('cert@datarhei.com'),
      cert_file: z.string().default(''),
      key_file: z.string().default(''),
    })
    .prefault({}),
  storage: z
    .object({
      disk: z
        .object({
          dir: z.string().trim().min(1, 'path name must not be empty').default('./data'),
          max_size_mbytes: count.default(0),
          cache: z
            .object({
              enable: z.boolean().default(true),
              max_size_mbytes: count.default(0),
              ttl_seconds: z.number().int().min(0, 'must be equal or greater than 0').default(300),
              max_file_size_mbytes: count.default(1),
              types: z
                .object({ allow: stringList.default([]), block: stringList.default(['.m3u8', '.mpd']) })
                .prefault({}),
            })
            .prefault({}),
        })
        .prefault({}),
      memory: z
        .object({
          auth: z
            .object({
              enable: z.boolean().default(true),
              username: z.string().default('admin'),
              password: z.string().default(() => randomSecret(18)),
            })
            .prefault({}),
          max_size_mbytes: count.default(0),
          purge: z.boolean().default(false),
        })
        .prefault({}),
      s3: z.array(s3StorageSchema).default([]),
      cors: z
        .object({
          /** Origins the filesystems answer: `*` for any, `https://*.example.com` patterns, exact origins. */
          origins: z
            .array(z.string().refine(isValidCorsOrigin, "must contain '*' or start with http:// or https://"))
            .default(['*']),
        })
        .prefault({}),
      mimetypes_file: z.string().default('./mime.types'),
    })
    .prefault({}),
  rtmp: z
    .object({
      enable: z.boolean().default(false),
      enable_tls: z.boolean().default(false),
      address: listenAddressSchema.default(':1935'),
      address_tls: listenAddressSchema.default(':1936'),
      app: z.string().startsWith('/', 'must be an absolute path').default('/'),
      token: z.string().default(''),
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
    .prefault({}),
  srt: z
    .object({
      enable: z.boolean().default(false),
      address: listenAddressSchema.default(':6000'),
      // SRT's key derivation takes 10 to 79 characters (libsrt's and datarhei's SRT library's check).
      passphrase: z
        .union([z.literal(''), z.string().min(10).max(79)], {
          error: 'must be empty or 10 to 79 characters',
        })
        .default(''),
      token: z.string().default(''),
      log: z.object({ enable: z.boolean().default(false), topics: stringList.default([]) }).prefault({}),
    })
    .prefault({}),
  ffmpeg: z
    .object({
      binary: z.string().min(1, 'a value is required').default('ffmpeg'),
      max_processes: count.default(0),
      access: z
        .object({
          input: allowBlock.prefault({}),
          output: allowBlock
            .extend({
              /**
               * Dragon's: directories file outputs may write into besides `storage.disk.dir` (datarhei
               * allows only that one). `/dev/null` is always allowed.
               */
              directories: z.array(z.string().trim().min(1, 'path name must not be empty')).default([]),
            })
            .prefault({}),
        })
        .prefault({}),
      log: z
        .object({
          max_lines: z.number().int().min(1).max(10000).default(50),
          max_history: z.number().int().min(0).max(100).default(3),
        })
        .prefault({}),
    })
    .prefault({}),
  playout: z
    .object({ enable: z.boolean().default(false), min_port: port.default(0), max_port: port.default(0) })
    .prefault({}),
  debug: z
    .object({
      profiling: z.boolean().default(false),
      force_gc: count.default(0),
      memory_limit_mbytes: count.default(0),
    })
    .prefault({}),
  metrics: z
    .object({
      enable: z.boolean().default(false),
      enable_prometheus: z.boolean().default(false),
      range_sec: count.default(300),
      interval_sec: count.default(2),
    })
    .prefault({}),
  sessions: z
    .object({
      enable: z.boolean().default(true),
      ip_ignorelist: z.array(cidr).default(['127.0.0.1/32', '::1/128']),
      session_timeout_sec: z.number().int().default(30),
      persist: z.boolean().default(false),
      persist_interval_sec: z.number().int().default(300),
      max_bitrate_mbit: count.default(0),
      max_sessions: count.default(0),
    })
    .prefault({}),
  service: z
    .object({
      enable: z.boolean().default(false),
      token: z.string().default(''),
      url: z.union([z.literal(''), z.url()]).default('https://service.datarhei.com'),
    })
    .prefault({}),
  router: z
    .object({
      blocked_prefixes: stringList.default(['/api']),
      routes: z.record(z.string(), z.string()).default({}),
      ui_path: z.string().default(''),
    })
    .prefault({}),
  webrtc: webrtcSchema,
  whip: whipSchema,
  cluster: clusterSchema,
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
