import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpError } from '@dragon/http-error';
import { DeclaredRoutes, errorAnswer, jsonAnswer, named } from '@dragon/http-routes';
import { isLoopbackAddress } from '@dragon/portalloc';
import type { Context, MiddlewareHandler } from 'hono';
import { sign, verify } from 'hono/jwt';
import { z } from 'zod';
import { readJson } from './api-error.js';
import { AttemptLimiter, type AttemptLimiterOptions } from './attempt-limiter.js';
import { appName } from './datarhei-identity.js';

export interface AuthOptions {
  enable: boolean;
  username: string;
  password: string;
  /** HS256 secret; a random one per boot when empty (tokens then end with the process). */
  jwtSecret: string;
  /** Let requests from loopback through without a token. */
  disableLocalhost: boolean;
  /** The client's address: for `disableLocalhost` and the per-client login limit. */
  clientAddress: (c: Context) => string | undefined;
  /** Added to each failed login's answer, as datarhei does. @default 5000 */
  failedLoginDelayMs?: number;
  /** Login attempts per client. @default { maxAttempts: 10, windowMs: 300_000 } */
  loginLimit?: AttemptLimiterOptions;
}

/** What `GET /api/v3/...` needs: `guard` for a route group, `isAuthorized` for a route that answers both ways. */
export interface Auth {
  /** `POST /api/login`, `GET /api/login/refresh`. */
  readonly routes: DeclaredRoutes;
  /** Middleware: a valid access token, unless auth is off or the client is an exempt loopback one. */
  readonly guard: MiddlewareHandler;
  /** The same rule as `guard`, as a question. */
  isAuthorized(c: Context): Promise<boolean>;
  /** datarhei's `auths` of `GET /api`: `['localjwt']` when login is on. */
  readonly methods: string[];
}

const accessTtlSeconds = 10 * 60;
const refreshTtlSeconds = 24 * 60 * 60;
/** The body of `POST /api/login`. */
export const loginSchema = z.object({ username: z.string().min(1), password: z.string().min(1) });
/** What a login answers; a refresh answers only the access token. */
export const tokensSchema = z.object({ access_token: z.string(), refresh_token: z.string() });
export const refreshedTokenSchema = tokensSchema.pick({ access_token: true });

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

const unauthorized = (reason: string) =>
  new HttpError(401, 'Unauthorized', [reason], { headers: { 'WWW-Authenticate': 'Bearer' } });

/**
 * datarhei's JWT login (`http/jwt`): HS256 tokens with its claims (`iss`, `sub`, `usefor`, `iat`,
 * `exp`, `exi` — the seconds a token lives, from which the Restreamer UI times its refresh — and a
 * `jti`), 10 minutes for access and 24 hours for refresh. As datarhei, the signing key depends on the
 * username and password, so a changed credential ends every token issued before it.
 */
export function createAuth(options: AuthOptions): Auth {
  const signingKey = createHmac('sha256', options.jwtSecret || randomBytes(32))
    .update(`${options.username}\0${options.password}`)
    .digest('hex');
  const failedLoginDelayMs = options.failedLoginDelayMs ?? 5000;
  const limiter = new AttemptLimiter(options.loginLimit);

  const issue = (use: 'access' | 'refresh') => {
    const now = Math.floor(Date.now() / 1000);
    const ttl = use === 'access' ? accessTtlSeconds : refreshTtlSeconds;
    const claims = {
      iss: appName,
      sub: options.username,
      usefor: use,
      iat: now,
      exp: now + ttl,
      exi: ttl,
      jti: randomUUID(),
    };
    return sign(claims, signingKey, 'HS256');
  };

  const verifyToken = async (c: Context, use: 'access' | 'refresh'): Promise<void> => {
    const header = c.req.header('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!token) throw unauthorized('Missing or invalid JWT token');
    const valid = await verify(token, signingKey, 'HS256').then(
      (claims) => claims.usefor === use && claims.iss === appName && claims.sub === options.username,
      () => false,
    );
    if (!valid) throw unauthorized('Missing or invalid JWT token');
  };

  const exempt = (c: Context) =>
    !options.enable || (options.disableLocalhost && isLoopbackAddress(options.clientAddress(c)));

  const routes = new DeclaredRoutes();
  const loginDeclaration = {
    method: 'post',
    path: '/api/login',
    summary: 'Log in with username and password; returns access and refresh JWTs',
    auth: 'none',
    body: named('Login', loginSchema),
    responses: {
      200: jsonAnswer('Tokens', named('Tokens', tokensSchema)),
      400: errorAnswer('Missing credentials'),
      401: errorAnswer('Invalid credentials'),
      404: errorAnswer('Auth off'),
      413: errorAnswer('Body over 16 KiB'),
      429: errorAnswer('Too many attempts from this address (see Retry-After)'),
    },
  } as const;
  routes.declare(loginDeclaration, async (c) => {
    if (!options.enable) throw new HttpError(404, 'Not Found');
    const client = options.clientAddress(c) ?? 'unknown';
    const retryAfter = limiter.take(client);
    if (retryAfter > 0) {
      throw new HttpError(429, 'Too Many Requests', ['too many login attempts from this address'], {
        headers: { 'Retry-After': String(retryAfter) },
      });
    }
    const parsed = loginSchema.safeParse(await readJson(c).catch(() => undefined));
    if (!parsed.success) {
      await sleep(failedLoginDelayMs);
      throw new HttpError(400, 'Bad Request', ['Missing authorization credentials']);
    }
    const userOk = safeEqual(parsed.data.username, options.username);
    const passwordOk = safeEqual(parsed.data.password, options.password);
    if (!userOk || !passwordOk) {
      await sleep(failedLoginDelayMs);
      throw unauthorized('Invalid authorization credentials: invalid username or password');
    }
    limiter.forgive(client);
    return c.json({
      access_token: await issue('access'),
      refresh_token: await issue('refresh'),
    } satisfies z.infer<typeof tokensSchema>);
  });
  const refreshDeclaration = {
    method: 'get',
    path: '/api/login/refresh',
    summary: 'New access token; the bearer token is the refresh token',
    responses: {
      200: jsonAnswer('Token', named('RefreshedToken', refreshedTokenSchema)),
      401: errorAnswer('Missing or invalid refresh token'),
      404: errorAnswer('Auth off'),
    },
  } as const;
  routes.declare(refreshDeclaration, async (c) => {
    if (!options.enable) throw new HttpError(404, 'Not Found');
    await verifyToken(c, 'refresh');
    return c.json({ access_token: await issue('access') } satisfies z.infer<typeof refreshedTokenSchema>);
  });

  const guard: MiddlewareHandler = async (c, next) => {
    if (!exempt(c)) await verifyToken(c, 'access');
    await next();
  };

  const isAuthorized = async (c: Context): Promise<boolean> =>
    exempt(c) ||
    verifyToken(c, 'access').then(
      () => true,
      () => false,
    );

  return { routes, guard, isAuthorized, methods: options.enable ? ['localjwt'] : [] };
}

/**
 * HTTP Basic auth for a route (datarhei guards memfs writes with `storage.memory.auth` this way; FFmpeg
 * sends the credentials from the output URL). Answers 401 with a `WWW-Authenticate` challenge.
 */
export function basicAuth(
  credentials: { username: string; password: string },
  realm = appName,
): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const decoded = header.startsWith('Basic ')
      ? Buffer.from(header.slice(6).trim(), 'base64').toString()
      : '';
    const separator = decoded.indexOf(':');
    const ok =
      separator > 0 &&
      safeEqual(decoded.slice(0, separator), credentials.username) &&
      safeEqual(decoded.slice(separator + 1), credentials.password);
    if (!ok)
      throw new HttpError(401, 'Unauthorized', [], {
        headers: { 'WWW-Authenticate': `Basic realm="${realm}"` },
      });
    await next();
  };
}
