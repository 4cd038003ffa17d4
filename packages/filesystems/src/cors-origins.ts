import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

/**
 * Whether `origin` is one `storage.cors.origins` accepts as datarhei validates it
 * (`http/cors.Validate`): it contains a `*`, or starts with `http://` or `https://`.
 */
export function isValidCorsOrigin(origin: string): boolean {
  return origin.includes('*') || origin.startsWith('http://') || origin.startsWith('https://');
}

/** Origins longer than a host name can be (253) plus a scheme and a port are never matched against patterns. */
const maxPatternOriginLength = 253 + 3 + 5;

/**
 * The `Access-Control-Allow-Origin` rule of a list of origins, as datarhei's CORS middleware (Echo's)
 * applies `storage.cors.origins`: an entry `*` allows every origin and is answered `*`; an entry with
 * `*` or `?` in it is a pattern (`https://*.example.com`); anything else must match exactly, and the
 * request's origin is echoed. Hono's `cors()` takes an array as exact origins only, so `['*']` would
 * allow none: this is what is handed to it instead.
 */
export function corsOriginRule(origins: readonly string[]): string | ((origin: string) => string | null) {
  if (origins.includes('*')) return '*';
  const exact = new Set(origins.filter((origin) => !/[*?]/.test(origin)));
  const patterns = origins
    .filter((origin) => /[*?]/.test(origin))
    .map(
      (origin) =>
        new RegExp(
          `^${origin
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replaceAll('*', '.*')
            .replaceAll('?', '.')}$`,
        ),
    );
  return (origin) => {
    if (origin === '') return null;
    if (exact.has(origin)) return origin;
    if (origin.length > maxPatternOriginLength || !origin.includes('://')) return null;
    return patterns.some((pattern) => pattern.test(origin)) ? origin : null;
  };
}

/** CORS for files (the filesystem mounts, the UI): `storage.cors.origins`, read-mostly methods. */
export function fileCors(origins: readonly string[]): MiddlewareHandler {
  return cors({
    origin: corsOriginRule(origins),
    allowMethods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS'],
    exposeHeaders: ['Content-Length', 'Content-Location', 'Last-Modified'],
    maxAge: 24 * 60 * 60,
  });
}
