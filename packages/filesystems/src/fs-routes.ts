import { DeclaredRoutes } from '@dragon/http-routes';
import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { FsFileNotFoundError, FsUnknownFilesystemError } from './errors.js';
import type { FileInfo } from './filesystem.js';
import { fsApiDeclarations } from './fs-declarations.js';
import { deleteFile, type FsMount, putFile, serveFile } from './fs-http.js';
import { fsPathFromUrl } from './fs-path.js';
import type { fileInfoSchema, filesystemInfoSchema } from './fs-schemas.js';

const listQuerySchema = z.object({
  glob: z.string().optional(),
  sort: z.string().optional(),
  order: z.string().optional(),
});

const compare: Record<string, (a: FileInfo, b: FileInfo) => number> = {
  name: (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  size: (a, b) => a.size - b.size,
  lastmod: (a, b) => a.lastModified - b.lastModified,
};

/**
 * The app's API guard (its JWT check), handed in: it runs before every `/fs` route and throws (or
 * answers) to refuse. The package knows nothing of how the app authenticates.
 */
export type FsApiGuard = MiddlewareHandler;

/**
 * datarhei's `/api/v3/fs`: the filesystems, their files (`glob`, `sort` name|size|lastmod, `order`
 * asc|desc; anything else sorts by modification time as datarhei does), and get/put/delete of one file.
 * Mounted before the `/api/v3` group so file uploads are not held to its 1 MiB JSON body limit;
 * `guard` is the API's guard.
 */
export function createFsApiRoutes(mounts: FsMount[], guard: FsApiGuard): DeclaredRoutes {
  const routes = new DeclaredRoutes();
  const declared = fsApiDeclarations;
  const byName = new Map(mounts.map((mount) => [mount.filesystem.name, mount]));
  const mountOf = (name: string): FsMount => {
    const mount = byName.get(name);
    if (!mount) throw new FsUnknownFilesystemError(name);
    return mount;
  };
  /** The file path after `…/fs/<name>` in the request path (this router may be mounted anywhere). */
  const pathOf = (c: Context) => {
    const marker = `/fs/${c.req.param('name')}`;
    return fsPathFromUrl(c.req.path.slice(c.req.path.indexOf(marker) + marker.length) || '/');
  };

  routes.app.use('/fs', guard);
  routes.app.use('/fs/*', guard);

  routes.declare(declared.filesystems, (c) =>
    c.json(
      mounts.map((mount) => ({
        name: mount.filesystem.name,
        type: mount.filesystem.type,
        mount: mount.mountpoint || '/',
      })) satisfies z.infer<typeof filesystemInfoSchema>[],
    ),
  );

  routes.declare(declared.files, async (c) => {
    const mount = mountOf(c.req.param('name') ?? '');
    const query = listQuerySchema.parse(c.req.query());
    const files = await mount.filesystem.list(query.glob || undefined);
    const byField = compare[query.sort ?? ''] ?? compare.lastmod!;
    const direction = (query.order ?? 'asc') === 'desc' ? -1 : 1;
    files.sort((a, b) => direction * byField(a, b));
    return c.json(
      files.map((file) => ({
        name: file.name,
        size_bytes: file.size,
        last_modified: Math.floor(file.lastModified / 1000),
      })) satisfies z.infer<typeof fileInfoSchema>[],
    );
  });

  const read = async (c: Context) => {
    const mount = mountOf(c.req.param('name') ?? '');
    const path = pathOf(c);
    const response = await serveFile(c, mount, path);
    if (!response) throw new FsFileNotFoundError(path);
    return response;
  };
  routes.declare(declared.file.get, read).declare(declared.file.head, read);
  routes.declare(declared.fileWrites.put, (c) => putFile(c, mountOf(c.req.param('name') ?? ''), pathOf(c)));
  routes.declare(declared.fileWrites.delete, (c) =>
    deleteFile(c, mountOf(c.req.param('name') ?? ''), pathOf(c)),
  );
  return routes;
}
