import { randomInt } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { basename, extname, posix } from 'node:path';
import type { SessionCollector } from './session-collector.js';

/** shortuuid's alphabet: datarhei's HLS session ids are 22 characters of it. */
const alphabet = '23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const sessionIdPattern = new RegExp(`^[${alphabet}]{22}$`);
/** Segments remembered between their PUT and the playlist PUT that lists them. */
const maxPendingSegments = 4096;

/**
 * What HLS session tracking reads of a request for a file: its path inside the filesystem, datarhei's
 * `?session=` query, and the client. The file server declares the observer it calls; this satisfies it.
 */
export type HlsRequest = Readonly<
  Record<'path' | 'ip' | 'userAgent' | 'referrer', string> & { session: string | undefined }
>;

/** `playlist(request)` (refuse, or rewrite and count), `segment(request, bytes)`, `ingress(path, bytes, playlist)`. */
export type HlsSessions = ReturnType<typeof createHlsSessions>;

function newSessionId(): string {
  let id = '';
  for (let index = 0; index < 22; index++) id += alphabet[randomInt(alphabet.length)];
  return id;
}

/** datarhei anonymises the address it shows: the last IPv4 octet, the last 80 bits of IPv6. */
export function anonymizeIp(ip: string): string {
  const plain = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (isIPv4(plain)) return plain.replace(/\.\d+$/, '.0');
  if (isIPv6(plain)) return `${plain.split(':').slice(0, 3).join(':')}::`;
  return plain;
}

const referenceOf = (path: string) => basename(path, extname(path));

function isMediaLine(line: string): boolean {
  return line.length > 0 && !line.startsWith('#');
}

function withQuery(uri: string, key: string, value: string): string {
  const url = new URL(uri, 'http://x/');
  url.searchParams.set(key, value);
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(uri);
  if (absolute) return url.toString();
  const path = uri.startsWith('/') ? url.pathname : uri.split('?')[0]!;
  return `${path}?${url.searchParams.toString()}`;
}

/**
 * HLS viewers counted as datarhei counts them: a playlist fetched without `?session=` is answered
 * with a one-entry master playlist pointing back at it with a fresh session id; the media playlist
 * fetched with that id gets the id appended to its segment URIs; the first segment read activates
 * the session and every read adds its bytes. Clients in `sessions.ip_ignorelist` get the files
 * untouched. Writes (FFmpeg's PUTs) feed the `hlsingress` collector.
 */
export function createHlsSessions(egress: SessionCollector, ingress: SessionCollector) {
  const pendingSegments = new Map<string, number>();
  const untouched = { rewrite: (body: string) => body, served: () => {} };

  return {
    playlist(request: HlsRequest) {
      if (!egress.isCollectableIp(request.ip)) return untouched;
      let session = request.session ?? '';
      if (!egress.isKnown(session)) {
        if (egress.isSessionsExceeded()) return { refuse: 'Number of sessions exceeded' };
        if (egress.isTxBitrateExceeded()) return { refuse: 'Bitrate limit exceeded' };
        if (session) {
          if (!sessionIdPattern.test(session)) return { refuse: 'Invalid session' };
          let referrer = request.referrer;
          try {
            referrer = new URL(referrer).host;
          } catch {
            // not a URL: shown as sent
          }
          egress.register(session, referenceOf(request.path), request.path, referrer);
          egress.extra(session, `[${anonymizeIp(request.ip)}] ${request.userAgent}`);
        }
      }
      return {
        rewrite: (body: string) => {
          let master = false;
          const lines = body.split('\n').map((line) => {
            const trimmed = line.trim();
            if (!isMediaLine(trimmed)) return line;
            const path = trimmed.split('?')[0]!;
            if (path.endsWith('.m3u8')) {
              const target = path.startsWith('/') ? path : posix.join(posix.dirname(request.path), path);
              master = true;
              if (target === request.path) return `# m3u8 is referencing itself: ${trimmed}`;
              return withQuery(trimmed, 'session', newSessionId());
            }
            return path.endsWith('.ts') && session ? withQuery(trimmed, 'session', session) : line;
          });
          if (!master && !session) {
            session = newSessionId();
            return `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=1024\n${posix.basename(request.path)}?session=${session}`;
          }
          return lines.join('\n');
        },
        served: (bytes: number) => egress.egress(session, bytes),
      };
    },

    segment(request: HlsRequest, bytes: number) {
      if (!request.session || !egress.isCollectableIp(request.ip)) return;
      egress.egress(request.session, bytes);
      egress.activate(request.session);
    },

    ingress(path: string, bytes: number, playlist: string | undefined) {
      if (playlist === undefined) {
        if (!path.endsWith('.ts')) return;
        if (pendingSegments.size >= maxPendingSegments) pendingSegments.clear();
        pendingSegments.set(path, bytes);
        return;
      }
      ingress.registerAndActivate(path, referenceOf(path), path, '');
      ingress.ingress(path, bytes);
      for (const line of playlist.split('\n')) {
        const trimmed = line.trim();
        if (!isMediaLine(trimmed) || /^[a-z]+:/i.test(trimmed)) continue;
        const uri = trimmed.split('?')[0]!;
        const segment = uri.startsWith('/') ? uri : posix.join(posix.dirname(path), uri);
        const size = pendingSegments.get(segment);
        if (size === undefined) continue;
        ingress.ingress(path, size);
        pendingSegments.delete(segment);
      }
    },
  };
}
