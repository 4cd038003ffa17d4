import { z } from 'zod';
import { configSchema } from './config-schema.js';
import { setAt, type Tree, valueAt } from './config-tree.js';

export interface EnvOverrides {
  /** The config JSON with every value an environment variable set written in. */
  merged: Tree;
  /** Dotted JSON paths the environment overrode, e.g. `webrtc.token`. */
  overrides: string[];
  /** Variables whose value could not be read as the field's type. */
  errors: string[];
}

type LeafKind = 'string' | 'number' | 'boolean' | 'list' | 'word-list' | 'json';

/** Fields whose value is structured: the variable holds JSON (datarhei reads its own URL formats here). */
const jsonPaths = new Set([
  'webrtc.ice_servers',
  'whip.streams',
  'storage.s3',
  'api.auth.auth0.tenants',
  'router.routes',
]);
/** Lists whose items may contain commas (regular expressions, file extensions): split on whitespace only. */
const wordListPaths = new Set([
  'ffmpeg.access.input.allow',
  'ffmpeg.access.input.block',
  'ffmpeg.access.output.allow',
  'ffmpeg.access.output.block',
  'storage.disk.cache.types.allow',
  'storage.disk.cache.types.block',
]);

/**
 * datarhei's other variable names for a field (`config/config.go`): its name where it is not
 * `CORE_` + the path, then its deprecated aliases. The `CORE_` + path name always works too.
 */
const datarheiNames: Record<string, string[]> = {
  'log.max_lines': ['CORE_LOG_MAXLINES'],
  'api.auth.username': ['RS_USERNAME'],
  'api.auth.password': ['RS_PASSWORD'],
  'tls.cert_file': ['CORE_TLS_CERTFILE'],
  'tls.key_file': ['CORE_TLS_KEYFILE'],
  'storage.mimetypes_file': ['CORE_MIMETYPES_FILE'],
  'storage.disk.max_size_mbytes': ['CORE_STORAGE_DISK_MAXSIZEMBYTES'],
  'storage.disk.cache.max_size_mbytes': ['CORE_STORAGE_DISK_CACHE_MAXSIZEMBYTES'],
  'storage.disk.cache.ttl_seconds': ['CORE_STORAGE_DISK_CACHE_TTLSECONDS'],
  'storage.disk.cache.max_file_size_mbytes': ['CORE_STORAGE_DISK_CACHE_MAXFILESIZEMBYTES'],
  'storage.disk.cache.types.allow': ['CORE_STORAGE_DISK_CACHE_TYPES'],
  'storage.memory.max_size_mbytes': ['CORE_STORAGE_MEMORY_MAXSIZEMBYTES'],
  'ffmpeg.max_processes': ['CORE_FFMPEG_MAXPROCESSES'],
  'ffmpeg.log.max_lines': ['CORE_FFMPEG_LOG_MAXLINES'],
  'ffmpeg.log.max_history': ['CORE_FFMPEG_LOG_MAXHISTORY'],
  'playout.min_port': ['CORE_PLAYOUT_MINPORT'],
  'playout.max_port': ['CORE_PLAYOUT_MAXPORT'],
  'debug.force_gc': ['CORE_DEBUG_FORCEGC'],
  'metrics.range_sec': ['CORE_METRICS_RANGE_SECONDS'],
  'metrics.interval_sec': ['CORE_METRICS_INTERVAL_SECONDS'],
  'sessions.max_bitrate_mbit': ['CORE_SESSIONS_MAXBITRATE_MBIT'],
  'sessions.max_sessions': ['CORE_SESSIONS_MAXSESSIONS'],
};

/**
 * Variables that also turn their section on when set to a non-empty value, as datarhei's
 * `CORE_STORAGE_MEMORY_AUTH_USERNAME`/`_PASSWORD` turn memfs auth on: `CORE_CLUSTER_REDIS_URL` alone
 * starts cluster mode. An explicit `CORE_CLUSTER_ENABLE` still wins.
 */
const turnsOn: Record<string, string> = { 'cluster.redis_url': 'cluster.enable' };

/** Leaf paths of the config and how an environment string becomes each one's value. */
function configLeaves(): Map<string, LeafKind> {
  const leaves = new Map<string, LeafKind>();
  const walk = (value: unknown, path: string[]) => {
    const dotted = path.join('.');
    if (jsonPaths.has(dotted)) {
      leaves.set(dotted, 'json');
      return;
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, child] of Object.entries(value)) walk(child, [...path, key]);
      return;
    }
    if (Array.isArray(value)) leaves.set(dotted, wordListPaths.has(dotted) ? 'word-list' : 'list');
    else if (typeof value === 'boolean') leaves.set(dotted, 'boolean');
    else if (typeof value === 'number') leaves.set(dotted, 'number');
    else leaves.set(dotted, 'string');
  };
  walk(configSchema.parse({}), []);
  // Written once at creation, never set from outside.
  leaves.delete('version');
  leaves.delete('created_at');
  return leaves;
}
const leaves = configLeaves();

export function envName(path: string): string {
  return `CORE_${path.toUpperCase().replaceAll('.', '_')}`;
}

/** Every variable that sets `path`, the preferred one first. */
export function envNames(path: string): string[] {
  return [envName(path), ...(datarheiNames[path] ?? [])];
}

function parseEnvValue(kind: LeafKind, raw: string): unknown {
  switch (kind) {
    case 'boolean': {
      const normalised = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(normalised)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(normalised)) return false;
      throw new Error('expected true or false');
    }
    case 'number': {
      const parsed = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(parsed)) throw new Error('expected a number');
      return parsed;
    }
    case 'list':
      // datarhei separates these with commas; spaces are accepted too (CORE_WEBRTC_NAT_1_TO_1_IPS="1.2.3.4 5.6.7.8").
      return raw.split(/[\s,]+/).filter((item) => item.length > 0);
    case 'word-list':
      return raw.split(/\s+/).filter((item) => item.length > 0);
    case 'json':
      try {
        return z.json().parse(JSON.parse(raw));
      } catch {
        throw new Error('expected JSON');
      }
    case 'string':
      return raw;
  }
}

/** Writes every `CORE_*` variable that names a config field into a copy of `fileConfig`. */
export function applyEnvOverrides(fileConfig: Tree, env: NodeJS.ProcessEnv): EnvOverrides {
  const merged = structuredClone(fileConfig);
  const overrides: string[] = [];
  const errors: string[] = [];
  for (const [path, kind] of leaves) {
    const name = envNames(path).find((candidate) => env[candidate] !== undefined);
    if (name === undefined) continue;
    try {
      setAt(merged, path, parseEnvValue(kind, env[name]!));
      overrides.push(path);
    } catch (error) {
      errors.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (const [path, switchPath] of Object.entries(turnsOn)) {
    const value = overrides.includes(path) ? valueAt(merged, path) : undefined;
    if (typeof value !== 'string' || value === '' || overrides.includes(switchPath)) continue;
    setAt(merged, switchPath, true);
    overrides.push(switchPath);
  }
  return { merged, overrides, errors };
}
