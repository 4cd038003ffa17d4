import { isValidCorsOrigin } from '@dragon/filesystems';
import { z } from 'zod';
import { count, randomSecret, stringList } from './shared-fields.js';

const s3StorageSchema = z.object({
  name: z.string().min(1),
  mountpoint: z.string().default(''),
  auth: z
    .object({
      enable: z.boolean().default(false),
      username: z.string().default(''),
      password: z.string().default(''),
    })
    .prefault({}),
  endpoint: z.string().default(''),
  access_key_id: z.string().default(''),
  secret_access_key: z.string().default(''),
  bucket: z.string().default(''),
  region: z.string().default(''),
  use_ssl: z.boolean().default(false),
});

/** `storage`: the disk and memory filesystems, S3 mounts, their CORS origins and MIME types. */
export const storageSection = z
  .object({
    disk: z
      .object({
        dir: z.string().trim().min(1, 'path name must not be empty').default('./data'),
        max_size_mbytes: count.default(0),
        cache: z
          .object({
            enable: z.boolean().default(true),
            max_size_mbytes: count.default(0),
            ttl_seconds: z.number().int().min(0, 'must be equal or greater than 0').default(300),
            max_file_size_mbytes: count.default(1),
            types: z
              .object({ allow: stringList.default([]), block: stringList.default(['.m3u8', '.mpd']) })
              .prefault({}),
          })
          .prefault({}),
      })
      .prefault({}),
    memory: z
      .object({
        auth: z
          .object({
            enable: z.boolean().default(true),
            username: z.string().default('admin'),
            password: z.string().default(() => randomSecret(18)),
          })
          .prefault({}),
        max_size_mbytes: count.default(0),
        purge: z.boolean().default(false),
      })
      .prefault({}),
    s3: z.array(s3StorageSchema).default([]),
    cors: z
      .object({
        /** Origins the filesystems answer: `*` for any, `https://*.example.com` patterns, exact origins. */
        origins: z
          .array(z.string().refine(isValidCorsOrigin, "must contain '*' or start with http:// or https://"))
          .default(['*']),
      })
      .prefault({}),
    mimetypes_file: z.string().default('./mime.types'),
  })
  .prefault({});
