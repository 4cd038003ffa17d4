import type { FilesystemsConfig } from '@dragon/filesystems';
import type { RtmpServerOptions, SrtServerOptions } from '@dragon/ingest';
import type { CollectorOptions } from '@dragon/sessions';
import type { Config } from './config/config-schema.js';
import type { MetricsHistoryOptions } from './ops/metrics-history.js';

const mebibyte = 1024 * 1024;

/**
 * The sections of the server's config that datarhei's services read. Every key and default is the
 * config schema's (`config/sections/`): these services take the parsed config as it is and only
 * map it into each package's options here — a key declared a second time would drift from it.
 */
export type DatarheiServicesConfig = Pick<
  Config,
  'db' | 'storage' | 'rtmp' | 'srt' | 'tls' | 'sessions' | 'metrics' | 'log'
>;

/** The memfs write credentials (`storage.memory.auth`), or none when writes are open. */
export function memfsWriteAuth(
  config: DatarheiServicesConfig,
): { username: string; password: string } | undefined {
  const { enable, username, password } = config.storage.memory.auth;
  return enable ? { username, password } : undefined;
}

/** `storage.*` as `@dragon/filesystems` takes it. */
export function filesystemsConfigOf(config: DatarheiServicesConfig): FilesystemsConfig {
  const { disk, memory, cors } = config.storage;
  return {
    disk: { dir: disk.dir, maxBytes: disk.max_size_mbytes * mebibyte },
    memory: {
      maxBytes: memory.max_size_mbytes * mebibyte,
      purge: memory.purge,
      writeAuth: memfsWriteAuth(config),
    },
    corsOrigins: cors.origins,
  };
}

/** `rtmp.*`, with `tls.cert_file`/`tls.key_file` for RTMPS, as `@dragon/ingest`'s RTMP server takes them. */
export function rtmpServerOptionsOf(config: DatarheiServicesConfig): RtmpServerOptions {
  const { rtmp, tls } = config;
  return {
    address: rtmp.address,
    app: rtmp.app,
    token: rtmp.token,
    ...(rtmp.enable_tls && tls.cert_file && tls.key_file
      ? { tls: { address: rtmp.address_tls, certFile: tls.cert_file, keyFile: tls.key_file } }
      : {}),
    maxConnections: rtmp.max_connections,
    maxConnectionsPerAddress: rtmp.max_connections_per_address,
    handshakeTimeoutMs: rtmp.handshake_timeout_sec * 1000,
    startTimeoutMs: rtmp.start_timeout_sec * 1000,
  };
}

/** `srt.*` as `@dragon/ingest`'s SRT server takes it. */
export function srtServerOptionsOf(config: DatarheiServicesConfig): SrtServerOptions {
  const { address, token, passphrase } = config.srt;
  return { address, token, passphrase };
}

/**
 * `sessions.*` as every session collector of `@dragon/sessions` takes it. The config checks
 * `session_timeout_sec` only with `sessions.enable` (datarhei's rule), so without it the collectors
 * that still count RTMP, SRT and WebRTC clients keep their package's timeout.
 */
export function sessionCollectorOptionsOf(config: DatarheiServicesConfig): CollectorOptions {
  const { sessions } = config;
  return {
    ...(sessions.enable ? { sessionTimeoutSec: sessions.session_timeout_sec } : {}),
    ipIgnoreList: sessions.ip_ignorelist,
    maxSessions: sessions.max_sessions,
    maxTxBitrate: sessions.max_bitrate_mbit * mebibyte,
  };
}

/**
 * `metrics.*` as the metrics history takes it. The config checks the range and the interval only
 * with `metrics.enable` (datarhei's rule); a history that keeps nothing needs neither.
 */
export function metricsHistoryOptionsOf(config: DatarheiServicesConfig): MetricsHistoryOptions {
  const { enable, range_sec, interval_sec } = config.metrics;
  return enable ? { enable, rangeSec: range_sec, intervalSec: interval_sec } : { enable };
}
