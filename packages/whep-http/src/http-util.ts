import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BodyTooLargeError, UnauthorizedError, UnsupportedMediaTypeError } from './errors.js';
import type { WhepIceServer } from './options.js';

/**
 * Reads a request body up to `limitBytes`: a larger `Content-Length` is refused before reading,
 * and a body without one (chunked) is cut off as soon as it passes the limit.
 * @throws BodyTooLargeError
 */
export async function readBodyLimited(request: Request, limitBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limitBytes) throw new BodyTooLargeError(limitBytes);
  // With a Content-Length the HTTP parser delivers that many bytes and no more, so the body is read
  // whole. `arrayBuffer()` lets a server adapter read it straight from its socket (@hono/node-server
  // does); `body` would make it build a web stream, a Request and their promises for every offer:
  // 10,000 refused offers grew the old generation by 60 MB that way.
  if (declared !== null && /^\d+$/.test(declared)) return new Uint8Array(await request.arrayBuffer());
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel();
      throw new BodyTooLargeError(limitBytes);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** @throws UnsupportedMediaTypeError unless the media type (parameters ignored) is `expected`. */
export function requireContentType(
  header: string | undefined,
  expected: 'application/sdp' | 'application/trickle-ice-sdpfrag',
): void {
  const mediaType = header?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== expected) throw new UnsupportedMediaTypeError(header, expected);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Compares in constant time (over fixed-length digests, so the length does not leak either). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The token of `Authorization: Bearer …` (RFC 6750 §2.1), if the header carries one. */
function presentedBearer(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * WHEP's bearer rule (RFC 9725 §4.5) as the routes apply it: whether `Authorization` carries one of
 * the accepted tokens (empty ones ignored). No accepted token means no authentication, unless
 * `required`: then nothing opens the door. For a server that must decide before the routes do (say,
 * where to send an offer) without telling an unauthorised client anything.
 * @example bearerAccepted(c.req.header('authorization'), [processToken, globalToken])
 */
export function bearerAccepted(
  header: string | undefined,
  accepted: readonly (string | undefined)[],
  required = false,
): boolean {
  const tokens = accepted.filter((token): token is string => token !== undefined && token.length > 0);
  if (tokens.length === 0 && !required) return true;
  const presented = presentedBearer(header);
  if (presented === undefined) return false;
  // Compare against every token so the time does not tell which one matched.
  let ok = false;
  for (const token of tokens) ok = sameSecret(presented, token) || ok;
  return ok;
}

/**
 * `bearerAccepted`, or why not.
 * @throws UnauthorizedError
 */
export function requireBearer(
  header: string | undefined,
  accepted: readonly (string | undefined)[],
  required = false,
): void {
  if (bearerAccepted(header, accepted, required)) return;
  throw new UnauthorizedError(presentedBearer(header) === undefined ? 'missing' : 'invalid');
}

/** A session id or entity-tag value from a cryptographic random source (RFC 4086), URL- and ETag-safe. */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/** A fresh strong entity-tag (RFC 9110 §8.8.3), quoted. */
export function newEtag(): string {
  return `"${randomId(12)}"`;
}

/**
 * RFC 9110 §13.1.1 If-Match with strong comparison: `*` or any listed strong tag equal to `etag`.
 * Weak tags (`W/"…"`) never match.
 */
export function ifMatchSatisfied(ifMatch: string, etag: string): boolean {
  const trimmed = ifMatch.trim();
  if (trimmed === '*') return true;
  return trimmed
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === etag);
}

function quote(value: string): string {
  return `"${value}"`;
}

/**
 * `Link` header values for the ICE servers (RFC 9725 §4.6): one per URL, with `username`,
 * `credential` and `credential-type="password"` when credentials are set.
 */
export function iceServerLinks(servers: readonly WhepIceServer[]): string[] {
  const links: string[] = [];
  for (const server of servers) {
    const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
    for (const url of urls) {
      let link = `<${url}>; rel="ice-server"`;
      if (server.username !== undefined) link += `; username=${quote(server.username)}`;
      if (server.credential !== undefined) {
        link += `; credential=${quote(server.credential)}; credential-type="password"`;
      }
      links.push(link);
    }
  }
  return links;
}
