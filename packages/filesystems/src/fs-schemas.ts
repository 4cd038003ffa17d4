import { z } from 'zod';

/** datarhei's `api.FilesystemInfo`: one filesystem of `GET /api/v3/fs`. */
export const filesystemInfoSchema = z.object({ name: z.string(), type: z.string(), mount: z.string() });
/** datarhei's `api.FileInfo`: one file of `GET /api/v3/fs/{name}`. */
export const fileInfoSchema = z.object({
  name: z.string(),
  size_bytes: z.number(),
  last_modified: z.number(),
});
