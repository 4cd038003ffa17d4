import { z } from 'zod';
import { configSchema } from './config-schema.js';

export interface EnvOverrides {
  /** The config JSON with every value an environment variable set written in. */
  merged: Record<string, unknown>;
  /** Dotted JSON paths the environment overrode, e.g. `webrtc.token`. */
  overrides: string[];
  /** Variables whose value could not be read as the field's type. */
  errors: string[];
}

type LeafKind = 'string' | 'number' | 'boolean' | 'string-list' | 'json';

/** Leaf paths of the config and how an environment string becomes each one's value. */
function configLeaves(): Map<string, LeafKind> {
  const leaves = new Map<string, LeafKind>();
  const walk = (value: unknown, path: string[]) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, child] of Object.entries(value)) walk(child, [...path, key]);
      return;
    }
    const dotted = path.join('.');
    if (Array.isArray(value)) leaves.set(dotted, dotted === 'webrtc.ice_servers' ? 'json' : 'string-list');
    else if (typeof value === 'boolean') leaves.set(dotted, 'boolean');
    else if (typeof value === 'number') leaves.set(dotted, 'number');
    else leaves.set(dotted, 'string');
  };
  walk(configSchema.parse({}), []);
  return leaves;
}

export function envName(path: string): string {
  return `CORE_${path.toUpperCase().replaceAll('.', '_')}`;
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
    case 'string-list':
      // datarhei separates list variables with spaces (CORE_WEBRTC_NAT_1_TO_1_IPS="1.2.3.4 5.6.7.8").
      return raw.split(/[\s,]+/).filter((item) => item.length > 0);
    case 'json':
      return z.json().parse(JSON.parse(raw));
    case 'string':
      return raw;
  }
}

/** Writes every `CORE_*` variable that names a config field into a copy of `fileConfig`. */
export function applyEnvOverrides(fileConfig: Record<string, unknown>, env: NodeJS.ProcessEnv): EnvOverrides {
  const merged = structuredClone(fileConfig);
  const overrides: string[] = [];
  const errors: string[] = [];
  for (const [path, kind] of configLeaves()) {
    const raw = env[envName(path)];
    if (raw === undefined) continue;
    try {
      setPath(merged, path.split('.'), parseEnvValue(kind, raw));
      overrides.push(path);
    } catch (error) {
      errors.push(`${envName(path)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { merged, overrides, errors };
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}
