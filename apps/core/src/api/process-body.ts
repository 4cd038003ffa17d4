import { HttpError } from '@dragon/http-error';

/** Keys that would reach an object's prototype if assigned: never part of a config. */
const unsafeKeys = new Set(['__proto__', 'constructor', 'prototype']);

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * `patch` decoded onto `base` the way Go's `encoding/json` decodes a body into a prefilled struct,
 * which is how datarhei Core's `PUT /process/{id}` merges: object fields present in the patch
 * replace or (objects) merge into the base; an array replaces the base array, but its elements
 * merge into the base elements at the same index; `null` empties an array and leaves anything
 * else as it was.
 */
export function overlayJson(base: unknown, patch: unknown): unknown {
  if (patch === null) return Array.isArray(base) ? [] : base;
  if (Array.isArray(patch)) {
    const current = Array.isArray(base) ? base : [];
    return patch.map((element, index) =>
      index < current.length ? overlayJson(current[index], element) : element,
    );
  }
  if (isObject(patch) && isObject(base)) {
    const merged: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (unsafeKeys.has(key)) continue;
      merged[key] = overlayJson(base[key], value);
    }
    return merged;
  }
  return patch;
}

/**
 * A process config body bound onto `base` as datarhei's handler binds it, with its checks that
 * answer `400 Invalid JSON`: a JSON object, `type` "ffmpeg" or "", `input` and `output` present
 * (`output` may be left out when `webrtc.enabled`, Dragon's own output). Everything else is the
 * config schema's to judge.
 */
export function bindProcessConfig(body: unknown, base: Record<string, unknown>): Record<string, unknown> {
  if (body !== null && !isObject(body)) {
    throw new HttpError(400, 'Invalid JSON', ['the body must be a JSON object (api.ProcessConfig)']);
  }
  const merged = overlayJson(base, body) as Record<string, unknown>;
  if (merged.type !== undefined && merged.type !== 'ffmpeg' && merged.type !== '') {
    throw new HttpError(400, 'Invalid JSON', ['type: must be "ffmpeg" or ""']);
  }
  const webRtcOnly = isObject(merged.webrtc) && merged.webrtc.enabled === true;
  const required = webRtcOnly ? ['input'] : ['input', 'output'];
  const problems = required.flatMap((field) => {
    const value = merged[field];
    if (value === undefined || value === null) return [`${field}: required`];
    return Array.isArray(value) ? [] : [`${field}: must be a list`];
  });
  if (problems.length > 0) throw new HttpError(400, 'Invalid JSON', problems);
  return merged;
}
