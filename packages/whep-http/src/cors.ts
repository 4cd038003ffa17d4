import type { Context, MiddlewareHandler } from 'hono';

// WHEP §4.3: endpoints MUST support CORS preflight (Fetch standard) so players on other origins work.
const ALLOW_METHODS = 'POST, PATCH, DELETE, GET, HEAD, OPTIONS';
const ALLOW_HEADERS = 'Authorization, Content-Type, If-Match';
const EXPOSE_HEADERS = 'Location, ETag, Link, Accept-Patch, Accept-Post, Retry-After, WWW-Authenticate';
// Chromium caps the preflight cache at 2 h.
const MAX_AGE_SECONDS = '7200';

/** The `Access-Control-Allow-Origin` value for a request, or undefined when its origin is not allowed. */
function allowedOrigin(config: string | string[], requestOrigin: string | undefined): string | undefined {
  if (typeof config === 'string') return config;
  // A list naming `*` allows every origin, as a config file's `["*"]` means.
  if (config.includes('*')) return '*';
  return requestOrigin !== undefined && config.includes(requestOrigin) ? requestOrigin : undefined;
}

function setOriginHeaders(c: Context, config: string | string[]): void {
  const headers = c.res.headers;
  const origin = allowedOrigin(config, c.req.header('origin'));
  if (origin !== undefined) headers.set('Access-Control-Allow-Origin', origin);
  if (origin !== '*') headers.append('Vary', 'Origin');
  headers.set('Access-Control-Expose-Headers', EXPOSE_HEADERS);
}

/** Adds the CORS response headers to every response of the route it guards, errors included. */
export function corsHeaders(config: string | string[]): MiddlewareHandler {
  return async (c, next) => {
    await next();
    setOriginHeaders(c, config);
  };
}

/**
 * Answers an OPTIONS request: a CORS preflight plus `Accept-Post` (endpoint) or `Accept-Patch`
 * (session). 200, as WHEP §4.3 words it, rather than the usual 204.
 */
export function preflight(kind: 'endpoint' | 'session'): (c: Context) => Response {
  return (c) => {
    c.header('Access-Control-Allow-Methods', ALLOW_METHODS);
    c.header('Access-Control-Allow-Headers', ALLOW_HEADERS);
    c.header('Access-Control-Max-Age', MAX_AGE_SECONDS);
    c.header('Allow', kind === 'endpoint' ? 'POST, GET, HEAD, OPTIONS' : 'PATCH, DELETE, GET, HEAD, OPTIONS');
    if (kind === 'endpoint') c.header('Accept-Post', 'application/sdp');
    else c.header('Accept-Patch', 'application/trickle-ice-sdpfrag');
    c.header('Content-Length', '0');
    return c.body(null, 200);
  };
}
