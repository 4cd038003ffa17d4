import { getToken } from './ffmpeg-token.js';

/**
 * What FFmpeg's protocol layer opens for a URL (`url_find_protocol` in libavformat/avio.c and the
 * protocols that wrap others): a local path, a network address, standard I/O, inline data — or
 * something the policy refuses. `concat:a|b`, `subfile,,start,0,end,0,,:x`, `crypto+file:x`,
 * `async:`, `cache:` and `md5:` are unwrapped to what they finally open.
 */
export type UrlTarget =
  | { kind: 'file'; path: string }
  | { kind: 'network'; url: string }
  | { kind: 'stdio' }
  | { kind: 'inline' }
  | { kind: 'refused'; reason: string };

/** Schemes whose addresses leave the machine's file system; `hls+http` and the like count too. */
const networkSchemes = new Set(
  'http https httpproxy rtmp rtmps rtmpe rtmpt rtmpte rtmpts ffrtmphttp ffrtmpcrypt rtsp rtsps srt udp udplite rtp srtp sctp tcp tls dtls rist icecast mmsh mmst ftp sftp gopher gophers zmq prompeg amqp ipfs ipns librtmp librtmpe librtmps librtmpt librtmpte'.split(
    ' ',
  ),
);

/** FFmpeg's `URL_SCHEME_CHARS`. */
const schemeOf = /^([A-Za-z0-9+.-]+):/;

export function isNetworkScheme(scheme: string): boolean {
  return scheme
    .toLowerCase()
    .split('+')
    .every((part) => networkSchemes.has(part));
}

/** The protocol FFmpeg picks for `url`, or undefined for a plain path. */
export function protocolOf(url: string): string | undefined {
  if (/^subfile,/i.test(url) && url.includes(':', 8)) return 'subfile';
  const scheme = schemeOf.exec(url)?.[1];
  // `C:\…` is a DOS path, not the protocol `c`.
  if (scheme === undefined || (scheme.length === 1 && /^[A-Za-z]:[\\/]/.test(url))) return undefined;
  return scheme.toLowerCase();
}

/**
 * Everything `url` opens, unwrapped. `mode` matters where a protocol only reads (`concat`, `subfile`)
 * or only writes (`md5`, `tee`).
 */
export function urlTargets(url: string, mode: 'read' | 'write', depth = 0): UrlTarget[] {
  if (depth > 16) return [{ kind: 'refused', reason: 'protocols nested too deep' }];
  if (url === '-') return [{ kind: 'stdio' }];
  const protocol = protocolOf(url);
  if (protocol === undefined) return [{ kind: 'file', path: url }];
  const rest = url.slice(protocol.length + 1);
  const nested = (inner: string) => urlTargets(inner, mode, depth + 1);
  switch (protocol) {
    case 'file':
      return [{ kind: 'file', path: rest }];
    case 'pipe':
    case 'fd':
      return [{ kind: 'stdio' }];
    case 'data':
      return [{ kind: 'inline' }];
    case 'concat':
      // Parts are split on `|`, without escapes (libavformat/concat.c).
      return rest.split('|').flatMap(nested);
    case 'concatf':
      return [
        { kind: 'refused', reason: 'concatf: reads a list of URLs from a file the policy cannot judge' },
      ];
    case 'subfile':
      return subfileTargets(url).flatMap(nested);
    case 'async':
    case 'cache':
    case 'crypto':
      return nested(rest);
    case 'md5':
      // `md5:` alone writes the hash to standard output.
      return rest === '' ? [{ kind: 'stdio' }] : nested(rest);
    case 'tee':
      return teeProtocolTargets(rest).flatMap(nested);
    case 'unix':
      return mode === 'write'
        ? [{ kind: 'refused', reason: 'unix: sockets are not allowed for outputs' }]
        : [{ kind: 'file', path: rest.replace(/^\/\//, '') }];
    case 'bluray':
      return [{ kind: 'file', path: rest }];
    case 'hls':
      return hlsTargets(rest, mode, depth);
  }
  // `crypto+file:…`, `hls+file:…`: a protocol that takes a nested scheme after `+`.
  const plus = protocol.indexOf('+');
  if (plus > 0) {
    const outer = protocol.slice(0, plus);
    const inner = url.slice(plus + 1);
    if (outer === 'crypto' || outer === 'async' || outer === 'cache') return nested(inner);
    if (outer === 'hls') return hlsTargets(inner, mode, depth);
  }
  if (isNetworkScheme(protocol)) return [{ kind: 'network', url }];
  // FFmpeg knows no such protocol and fails. A read is judged as the path it spells, to be safe.
  return mode === 'write'
    ? [{ kind: 'refused', reason: `the protocol "${protocol}:" is not allowed for outputs` }]
    : [{ kind: 'file', path: url }];
}

/** The deprecated `hls` protocol reads a playlist and then every segment it names. */
function hlsTargets(playlist: string, mode: 'read' | 'write', depth: number): UrlTarget[] {
  const targets = urlTargets(playlist, mode, depth + 1);
  if (targets.every((target) => target.kind === 'network')) return targets;
  return [
    { kind: 'refused', reason: 'hls: with a local playlist opens the files it names, unseen by the policy' },
  ];
}

/**
 * `subfile,<sep>key<sep>value…<sep><sep>:url` (the separator is the character after the comma), or
 * `subfile:url`: the nested url.
 */
function subfileTargets(url: string): string[] {
  if (/^subfile:/i.test(url)) return [url.slice(8)];
  const separator = url[8];
  if (separator === undefined) return [];
  let position = 9;
  for (;;) {
    const key = url.indexOf(separator, position);
    if (key < 0) return [];
    if (key === position) {
      const rest = url.slice(key + 1);
      // FFmpeg cuts the options out and opens what follows `subfile:`.
      return [rest.startsWith(':') ? rest.slice(1) : `subfile${rest}`];
    }
    const value = url.indexOf(separator, key + 1);
    if (value < 0) return [];
    position = value + 1;
  }
}

/** `tee:a|[opts]b`: children split as `av_get_token(…, "|")`, options in brackets dropped. */
function teeProtocolTargets(rest: string): string[] {
  const children: string[] = [];
  let position = 0;
  while (position < rest.length) {
    const child = getToken(rest, position, '|');
    children.push(child.token.replace(/^\[[^\]]*\]/, ''));
    position = child.end + 1;
  }
  return children;
}
