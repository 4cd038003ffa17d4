import { randomBytes, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { sign, verify } from 'hono/jwt';
import { z } from 'zod';
import { ApiError, readJson } from './api-error.js';

export interface AuthOptions {
  enable: boolean;
  username: string;
  password: string;
  /** HS256 secret; a random one per boot when empty (tokens then end with the process). */
  jwtSecret: string;
  /** Let requests from loopback through without a token. */
  disableLocalhost: boolean;
  /** The client's address, for `disableLocalhost`. */
  clientAddress: (c: Context) => string | undefined;
  /** Added to each failed login's answer, against guessing. @default 1000 */
  failedLoginDelayMs?: number;
}

const accessTtlSeconds = 10 * 60;
const refreshTtlSeconds = 24 * 60 * 60;
const issuer = 'dragon-core';
const loginSchema = z.object({ username: z.string(), password: z.string() });

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  return plain === '::1' || plain.startsWith('127.');
}

/** datarhei-style JWT login: `POST /api/login`, `GET /api/login/refresh`, and a guard for `/api`. */
export function createAuth(options: AuthOptions) {
  const secret = options.jwtSecret || randomBytes(32).toString('hex');
  const failedLoginDelayMs = options.failedLoginDelayMs ?? 1000;

  const issue = async (username: string, use: 'access' | 'refresh') => {
    const now = Math.floor(Date.now() / 1000);
    const ttl = use === 'access' ? accessTtlSeconds : refreshTtlSeconds;
    return sign({ iss: issuer, sub: username, usefor: use, iat: now, exp: now + ttl }, secret, 'HS256');
  };

  const verifyToken = async (c: Context, use: 'access' | 'refresh'): Promise<void> => {
    const header = c.req.header('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!token) throw new ApiError(401, 'Missing or invalid JWT', [], { 'WWW-Authenticate': 'Bearer' });
    try {
      const claims = await verify(token, secret, 'HS256');
      if (claims.usefor !== use || claims.iss !== issuer || claims.sub !== options.username) {
        throw new Error('wrong token kind');
      }
    } catch {
      throw new ApiError(401, 'Invalid or expired JWT', [], {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
      });
    }
  };

  const routes = new Hono();
  routes.post('/api/login', async (c) => {
    if (!options.enable) throw new ApiError(404, 'Authentication is disabled');
    const parsed = loginSchema.safeParse(await readJson(c));
    if (!parsed.success || !parsed.data.username || !parsed.data.password) {
      throw new ApiError(400, 'Missing username or password');
    }
    const userOk = safeEqual(parsed.data.username, options.username);
    const passwordOk = safeEqual(parsed.data.password, options.password);
    if (!userOk || !passwordOk || !options.password) {
      await sleep(failedLoginDelayMs);
      throw new ApiError(401, 'Wrong username or password');
    }
    return c.json({
      access_token: await issue(options.username, 'access'),
      refresh_token: await issue(options.username, 'refresh'),
    });
  });
  routes.get('/api/login/refresh', async (c) => {
    if (!options.enable) throw new ApiError(404, 'Authentication is disabled');
    await verifyToken(c, 'refresh');
    return c.json({ access_token: await issue(options.username, 'access') });
  });

  /** Guards a route group; a no-op when auth is off or the client is local and exempt. */
  const guard: MiddlewareHandler = async (c, next) => {
    if (options.enable && !(options.disableLocalhost && isLoopback(options.clientAddress(c)))) {
      await verifyToken(c, 'access');
    }
    await next();
  };

  /** Whether this request carries a valid access token (for the public `GET /api` about). */
  const isAuthorized = async (c: Context): Promise<boolean> => {
    if (!options.enable) return true;
    if (options.disableLocalhost && isLoopback(options.clientAddress(c))) return true;
    return verifyToken(c, 'access').then(
      () => true,
      () => false,
    );
  };

  return { routes, guard, isAuthorized };
}
