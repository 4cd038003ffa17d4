import { posix } from 'node:path';
import { DeclaredRoutes, type RouteDeclaration } from '@dragon/http-routes';
import type { Context } from 'hono';
import { fileCors } from './cors-origins.js';
import { DiskFilesystem } from './disk-filesystem.js';
import { FsFileNotFoundError } from './errors.js';
import { fileReads } from './fs-declarations.js';
import { type FsMount, serveFile } from './fs-http.js';
import { fsPathFromUrl } from './fs-path.js';

export interface StaticSiteOptions {
  /** The directory served (`router.ui_path`); it must exist. */
  root: string;
  /** Where it is served. @default '/ui' */
  mountpoint?: string;
  /** `storage.cors.origins`: datarhei answers CORS on everything outside `/api` with them. */
  corsOrigins?: readonly string[];
}

/**
 * A built single-page app served read-only, as datarhei Core serves `router.ui_path` at `/ui`:
 * `/ui` is redirected (301) to `/ui/`, a directory answers its `index.html`, files get their type
 * by extension. Beyond datarhei's static handler, a path whose last segment has no extension and
 * names no file answers the root `index.html`, so an app that routes by path can be reloaded on a
 * deep link; a missing asset (`/ui/static/x.js`) stays a 404. Nothing outside the directory is
 * reachable: names are normalised and symlinks leading out read as missing (the disk filesystem's
 * rules).
 */
export function createStaticSiteRoutes(options: StaticSiteOptions): DeclaredRoutes {
  const mountpoint = options.mountpoint ?? '/ui';
  const mount: FsMount = {
    filesystem: new DiskFilesystem({ root: options.root }),
    mountpoint,
    allowWrite: false,
    defaultFile: 'index.html',
    defaultContentType: 'application/octet-stream',
  };
  const routes = new DeclaredRoutes();
  routes.app.use(mountpoint, fileCors(options.corsOrigins ?? ['*']));
  routes.app.use(`${mountpoint}/*`, fileCors(options.corsOrigins ?? ['*']));
  const redirect = (c: Context) => {
    const url = new URL(c.req.url);
    return c.redirect(`${mountpoint}/${url.search}`, 301);
  };
  for (const method of ['get', 'head'] as const) {
    const declaration: RouteDeclaration = {
      method,
      path: mountpoint,
      summary: `Redirects to \`${mountpoint}/\``,
      auth: 'none',
      responses: { 301: { description: `To ${mountpoint}/` } },
    };
    routes.declare(declaration, redirect);
  }
  const declared = fileReads(
    `${mountpoint}/{path}`,
    'none',
    'A file of the site (`index.html` for a directory)',
  );
  const read = async (c: Context) => {
    const path = fsPathFromUrl(c.req.path.slice(mountpoint.length) || '/');
    const response = await serveFile(c, mount, path);
    if (response) return response;
    if (posix.extname(path) === '') {
      const index = await serveFile(c, mount, '/');
      if (index) return index;
    }
    throw new FsFileNotFoundError(path);
  };
  routes.declare(declared.get, read).declare(declared.head, read);
  return routes;
}
