import { HttpError } from '@dragon/http-error';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';

/** Largest management request body (a process config with many inputs is a few KiB). */
export const apiBodyLimitBytes = 1024 * 1024;
/** Largest login body: two short strings. */
export const loginBodyLimitBytes = 16 * 1024;

/**
 * Refuses a body over `maxBytes` before it is parsed: a larger `Content-Length` is answered at once,
 * a chunked body is cut off as soon as it passes the limit.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new HttpError(413, 'Request Entity Too Large', [`the limit is ${maxBytes} bytes`]);
    },
  });
}

const whepPath = /\/whep(\/|$)/;

/**
 * CORS on `/api` as datarhei answers it (`http/middleware/cors`): any origin, its methods and headers,
 * a day of preflight cache. WHEP endpoints answer their own CORS (they expose `Location`, `Link`, …).
 */
export function apiCors(): MiddlewareHandler {
  const handler = cors({
    origin: '*',
    allowMethods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH'],
    allowHeaders: ['Origin', 'Content-Length', 'Content-Type', 'Authorization'],
    exposeHeaders: ['Content-Length'],
    maxAge: 24 * 60 * 60,
  });
  return async (c, next) => (whepPath.test(c.req.path) ? next() : handler(c, next));
}
