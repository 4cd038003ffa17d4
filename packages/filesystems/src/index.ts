/**
 * datarhei Core's filesystems: a disk and a memory filesystem with their limits and cleanup rules,
 * their HTTP routes (`/memfs/…`, `/…`, `/api/v3/fs/…`), HLS master-playlist completion and CORS for
 * files. The API guard and the HLS viewer accounting are handed in by the app.
 * @packageDocumentation
 */
export {
  CleanupManager,
  type CleanupManagerOptions,
  type CleanupRule,
  cleanupRuleSchema,
} from './cleanup-manager.js';
export { isValidCorsOrigin } from './cors-origins.js';
export { unpublishableReason } from './disk-dir-policy.js';
export { DiskFilesystem, type DiskFilesystemOptions } from './disk-filesystem.js';
export {
  FsFileNotFoundError,
  FsFileTooBigError,
  FsFullError,
  FsPathInvalidError,
  FsSessionRefusedError,
  FsUnknownFilesystemError,
  FsWriteFailedError,
  FsWriteUnauthorizedError,
} from './errors.js';
export { continueOnRead } from './expect-continue.js';
export type { FileBody, FileInfo, Filesystem, FsUsage } from './filesystem.js';
export {
  createFilesystems,
  type Filesystems,
  type FilesystemsConfig,
  type FilesystemsSeams,
  filesystemsConfigSchema,
} from './filesystems.js';
export {
  createFsHttpRoutes,
  type FsHttpOptions,
  type FsMount,
  type HlsObserver,
  type HlsRequest,
} from './fs-http.js';
export { normalizeFsPath } from './fs-path.js';
export { createFsApiRoutes, type FsApiGuard } from './fs-routes.js';
export { fileInfoSchema, filesystemInfoSchema } from './fs-schemas.js';
export { type LocateFile, MasterPlaylistIndex } from './hls/hls-outputs.js';
export { MasterPlaylists, type MasterPlaylistsOptions } from './hls/master-playlist.js';
export { MemFilesystem, type MemFilesystemOptions } from './mem-filesystem.js';
export { createStaticSiteRoutes, type StaticSiteOptions } from './static-site.js';
