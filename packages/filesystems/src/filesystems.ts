import type { DeclaredRoutes } from '@dragon/http-routes';
import type { Context } from 'hono';
import { z } from 'zod';
import { DiskFilesystem } from './disk-filesystem.js';
import { createFsHttpRoutes, type FsMount, type HlsObserver } from './fs-http.js';
import { createFsApiRoutes, type FsApiGuard } from './fs-routes.js';
import { MasterPlaylists, type VariantRef } from './hls/master-playlist.js';
import { MemFilesystem } from './mem-filesystem.js';

/** The filesystems' own configuration; an app maps its config into it (datarhei: `storage.*`). */
export const filesystemsConfigSchema = z.object({
  disk: z.object({
    /** The directory served at `/` (`storage.disk.dir`); created when missing. */
    dir: z.string().min(1),
    /** Capacity for writes through the API, in bytes; 0 is unlimited. @default 0 */
    maxBytes: z.number().int().min(0).default(0),
  }),
  memory: z
    .object({
      /** Capacity in bytes; 0 is unlimited. @default 0 */
      maxBytes: z.number().int().min(0).default(0),
      /** When full, remove the oldest files until a new one fits. @default false */
      purge: z.boolean().default(false),
      /** Basic-auth credentials for PUT/POST/DELETE on `/memfs`; absent, writes are open. */
      writeAuth: z.object({ username: z.string(), password: z.string().min(1) }).optional(),
    })
    .prefault({}),
  /** Origins the file routes answer CORS for: `*`, `https://*.example.com` patterns, exact origins. @default ['*'] */
  corsOrigins: z.array(z.string()).default(['*']),
});
export type FilesystemsConfig = z.input<typeof filesystemsConfigSchema>;

/** What the app hands in: its API guard, its idea of a client's address, its HLS viewer accounting. */
export interface FilesystemsSeams {
  /** Runs before every `/fs` API route (the app's JWT guard). */
  guard: FsApiGuard;
  clientAddress: (c: Context) => string | undefined;
  /** Counts HLS viewers and may refuse them; absent, nothing is counted. */
  hls?: HlsObserver | undefined;
  /** The variants of a master playlist the app knows are written (from its processes' outputs). */
  variantsOf?: ((filesystem: string, path: string) => readonly VariantRef[] | undefined) | undefined;
}

export interface Filesystems {
  disk: DiskFilesystem;
  mem: MemFilesystem;
  /** Disk at `/` (read-only, `index.html` for directories), memfs at `/memfs` (writable). */
  mounts: FsMount[];
  /**
   * `/memfs/…` and `/…`: mount `.app` after every other route (a disk miss falls through); their
   * `.declarations` (`@dragon/http-routes`) are for the app's API description.
   */
  fileRoutes: DeclaredRoutes;
  /** `/fs…` behind the guard: mount `.app` at `/api/v3`, before any JSON body limit (uploads stream). */
  apiRoutes: DeclaredRoutes;
}

/**
 * datarhei Core's two filesystems and their routes, from one configuration.
 * @example const fs = createFilesystems({ disk: { dir: './data' } }, { guard, clientAddress: () => undefined });
 */
export function createFilesystems(config: FilesystemsConfig, seams: FilesystemsSeams): Filesystems {
  const { disk: diskConfig, memory, corsOrigins } = filesystemsConfigSchema.parse(config);
  const disk = new DiskFilesystem({ root: diskConfig.dir, maxBytes: diskConfig.maxBytes });
  const mem = new MemFilesystem({ maxBytes: memory.maxBytes, purge: memory.purge });
  const playlistsOf = (filesystem: DiskFilesystem | MemFilesystem) =>
    new MasterPlaylists(filesystem, {
      variantsOf: (path) => seams.variantsOf?.(filesystem.name, path),
    });
  const mounts: FsMount[] = [
    {
      filesystem: disk,
      mountpoint: '',
      allowWrite: false,
      defaultFile: 'index.html',
      defaultContentType: 'text/html',
      playlists: playlistsOf(disk),
    },
    {
      filesystem: mem,
      mountpoint: '/memfs',
      allowWrite: true,
      writeAuth: memory.writeAuth,
      defaultContentType: 'application/data',
      playlists: playlistsOf(mem),
    },
  ];
  return {
    disk,
    mem,
    mounts,
    fileRoutes: createFsHttpRoutes({
      mounts,
      corsOrigins,
      clientAddress: seams.clientAddress,
      hls: seams.hls,
    }),
    apiRoutes: createFsApiRoutes(mounts, seams.guard),
  };
}
