import { timingSafeEqual } from 'node:crypto';
import { DeclaredRoutes } from '@dragon/http-routes';
import type { Context, MiddlewareHandler } from 'hono';
import { fileCors } from './cors-origins.js';
import { FsFileNotFoundError, FsSessionRefusedError, FsWriteUnauthorizedError } from './errors.js';
import { chunksOf, type FileBody, type Filesystem } from './filesystem.js';
import { fileReads, fileWrites } from './fs-declarations.js';
import { fsPathFromUrl } from './fs-path.js';
import type { MasterPlaylists } from './hls/master-playlist.js';
import { contentTypeOf } from './mime-types.js';

/** What a request looks like to an HLS viewer counter (see `sessions/hls-sessions.ts`). */
export interface HlsRequest {
  path: string;
  /** datarhei's `?session=` query. */
  session: string | undefined;
  ip: string;
  userAgent: string;
  referrer: string;
}

/** A viewer counter fed from file reads and writes; the filesystem layer knows nothing else of sessions. */
export interface HlsObserver {
  /** Before a playlist is served: refuse it (datarhei's 509 on limits) or say how to rewrite and count it. */
  playlist(
    request: HlsRequest,
  ): { refuse: string } | { rewrite(body: string): string; served(bytes: number): void };
  /** After a segment was served. */
  segment(request: HlsRequest, bytes: number): void;
  /** After a file was written (PUT/POST); `playlist` is the text when it was a playlist. */
  ingress(path: string, bytes: number, playlist: string | undefined): void;
}

export interface FsMount {
  filesystem: Filesystem;
  /** `''` for `/`, `/memfs` for memfs, as datarhei mounts them. */
  mountpoint: string;
  /** PUT/POST/DELETE over HTTP (memfs only in datarhei). */
  allowWrite: boolean;
  /** Basic-auth credentials for writes (`storage.memory.auth`); undefined means writes are open. */
  writeAuth?: { username: string; password: string } | undefined;
  /** Served for a directory (`index.html` on disk). */
  defaultFile?: string;
  /** For unknown extensions: `text/html` on disk, `application/data` on memfs, as datarhei. */
  defaultContentType: string;
  /** Completes the master playlists served from this mount (FFmpeg may leave their variants out). */
  playlists?: MasterPlaylists | undefined;
}

export interface FsHttpOptions {
  mounts: FsMount[];
  /** `storage.cors.origins`. @default ['*'] */
  corsOrigins?: string[];
  clientAddress: (c: Context) => string | undefined;
  hls?: HlsObserver | undefined;
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function writeGuard(credentials: { username: string; password: string }): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const decoded = header.startsWith('Basic ')
      ? Buffer.from(header.slice(6), 'base64').toString('utf8')
      : '';
    const colon = decoded.indexOf(':');
    const userOk = colon >= 0 && sameSecret(decoded.slice(0, colon), credentials.username);
    const passwordOk = colon >= 0 && sameSecret(decoded.slice(colon + 1), credentials.password);
    if (!userOk || !passwordOk) throw new FsWriteUnauthorizedError();
    await next();
  };
}

const isPlaylist = (path: string) => path.endsWith('.m3u8');
const isSegment = (path: string) => path.endsWith('.ts');

/** Playlists above this are stored but not shown to the HLS observer (live playlists are a few KB). */
const maxObservedPlaylistBytes = 1024 * 1024;

/** Keeps the chunks of a body as they pass, up to `limit` bytes. */
class TextCopy {
  readonly #parts: Uint8Array[] = [];
  #size = 0;
  constructor(readonly limit: number) {}

  async *tap(body: FileBody): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunksOf(body)) {
      this.#size += chunk.length;
      if (this.#size <= this.limit) this.#parts.push(chunk);
      else this.#parts.length = 0;
      yield chunk;
    }
  }

  /** The text, or undefined when it was longer than the limit. */
  text(): string | undefined {
    return this.#size <= this.limit ? Buffer.concat(this.#parts).toString('utf8') : undefined;
  }
}

async function readAll(body: FileBody): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of chunksOf(body)) parts.push(part);
  return Buffer.concat(parts);
}

async function discard(body: Uint8Array | ReadableStream<Uint8Array>): Promise<void> {
  if (body instanceof ReadableStream) await body.cancel();
}

/**
 * Answers a GET/HEAD for `path` on a mount; undefined when there is no such file. A directory is
 * answered with its default file; a playlist is shown to the HLS observer, which may rewrite it.
 */
export async function serveFile(
  c: Context,
  mount: FsMount,
  requested: string,
  hls?: { observer: HlsObserver; request: HlsRequest },
): Promise<Response | undefined> {
  let path = requested;
  let found = await mount.filesystem.stat(path);
  if (found?.isDirectory && mount.defaultFile) {
    path = path === '/' ? `/${mount.defaultFile}` : `${path}/${mount.defaultFile}`;
    found = await mount.filesystem.stat(path);
  }
  const content = found && !found.isDirectory ? await mount.filesystem.read(path) : undefined;
  if (!content) return undefined;
  const headers: Record<string, string> = {
    'Content-Type': contentTypeOf(path, mount.defaultContentType),
    'Last-Modified': new Date(content.info.lastModified).toUTCString(),
  };
  if (isPlaylist(path) && (hls || mount.playlists)) {
    const decision = hls?.observer.playlist(hls.request);
    if (decision && 'refuse' in decision) {
      await discard(content.body);
      throw new FsSessionRefusedError(path, decision.refuse);
    }
    let text = (await readAll(content.body)).toString('utf8');
    // Completed before the session rewrite, which points the variants it finds at a session.
    if (mount.playlists) text = await mount.playlists.complete(path, text);
    if (decision) text = decision.rewrite(text);
    const bytes = Buffer.byteLength(text);
    decision?.served(bytes);
    if (decision) headers['Cache-Control'] = 'private';
    headers['Content-Length'] = String(bytes);
    return c.req.method === 'HEAD' ? c.body(null, 200, headers) : c.body(text, 200, headers);
  }
  headers['Content-Length'] = String(content.info.size);
  if (c.req.method === 'HEAD') {
    await discard(content.body);
    return c.body(null, 200, headers);
  }
  if (hls && isSegment(path)) hls.observer.segment(hls.request, content.info.size);
  return c.body(content.body, 200, headers);
}

/** PUT/POST: stores the request body; 201 when created, 204 when replaced (datarhei's answers). */
export async function putFile(
  c: Context,
  mount: FsMount,
  path: string,
  hls?: HlsObserver,
): Promise<Response> {
  const body: FileBody = c.req.raw.body ?? new Uint8Array(0);
  // The body streams into the filesystem, which stops reading at its limits; the HLS observer gets
  // a copy of a playlist's text as it passes (a playlist is small; a huge one is not kept for it).
  const playlist = hls && isPlaylist(path) ? new TextCopy(maxObservedPlaylistBytes) : undefined;
  const written = await mount.filesystem.write(path, playlist ? playlist.tap(body) : body);
  hls?.ingress(`${mount.mountpoint}${path}`, written.size, playlist?.text());
  // As the client sent it, percent-encoded: the decoded path may hold characters no header can carry.
  c.header('Content-Location', new URL(c.req.url).pathname);
  return written.created ? c.body('', 201) : c.body(null, 204);
}

export async function deleteFile(c: Context, mount: FsMount, path: string): Promise<Response> {
  if ((await mount.filesystem.remove(path)) < 0) throw new FsFileNotFoundError(path);
  return c.text(`Deleted: ${path}`);
}

/**
 * datarhei's filesystem mounts over HTTP: GET/HEAD for everyone, PUT/POST/DELETE where the mount
 * allows writes (behind its basic-auth credentials), so FFmpeg can write HLS with `-method PUT`.
 * A disk GET that finds nothing falls through to later routes (the app's own `/`, then 404).
 */
export function createFsHttpRoutes(options: FsHttpOptions): DeclaredRoutes {
  const routes = new DeclaredRoutes();
  const hls = options.hls;
  const corsMiddleware = fileCors(options.corsOrigins ?? ['*']);

  // Memfs before disk: disk is mounted at `/` and would otherwise claim `/memfs/…`.
  const mounts = [...options.mounts].sort((a, b) => b.mountpoint.length - a.mountpoint.length);
  for (const mount of mounts) {
    const pattern = `${mount.mountpoint}/*`;
    const path = `${mount.mountpoint}/{path}`;
    const reads = fileReads(
      path,
      'none',
      mount.mountpoint === '' ? 'A file of the disk filesystem (`index.html` for a directory)' : 'A file',
    );
    const pathOf = (c: Context) => fsPathFromUrl(c.req.path.slice(mount.mountpoint.length) || '/');
    const hlsRequest = (c: Context, path: string): HlsRequest => ({
      path: `${mount.mountpoint}${path}`,
      session: c.req.query('session'),
      ip: options.clientAddress(c) ?? '',
      userAgent: c.req.header('user-agent') ?? '',
      referrer: c.req.header('referer') ?? '',
    });
    routes.app.use(pattern, corsMiddleware);

    const read = async (c: Context, next: () => Promise<void>) => {
      const path = pathOf(c);
      const response = await serveFile(
        c,
        mount,
        path,
        hls ? { observer: hls, request: hlsRequest(c, path) } : undefined,
      );
      if (response) return response;
      if (mount.mountpoint === '') return next();
      throw new FsFileNotFoundError(path);
    };
    routes.declare(reads.get, read).declare(reads.head, read);

    if (!mount.allowWrite) continue;
    const writes = fileWrites(path, mount.writeAuth ? 'basic' : 'none');
    const guard: MiddlewareHandler = mount.writeAuth ? writeGuard(mount.writeAuth) : (_c, next) => next();
    const put = (c: Context) => putFile(c, mount, pathOf(c), hls);
    routes.declare(writes.put, guard, put).declare(writes.post, guard, put);
    routes.declare(writes.delete, guard, (c: Context) => deleteFile(c, mount, pathOf(c)));
  }
  return routes;
}
