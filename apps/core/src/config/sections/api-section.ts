import { z } from 'zod';
import { cidr, randomSecret, stringList } from './shared-fields.js';

const auth0TenantSchema = z.object({
  domain: z.string().default(''),
  audience: z.string().default(''),
  clientid: z.string().default(''),
  users: stringList.default([]),
});

/** `api`: read-only mode, IP access lists, and the login (username/password, JWT, Auth0). */
export const apiSection = z
  .object({
    read_only: z.boolean().default(false),
    access: z
      .object({
        http: z.object({ allow: z.array(cidr).default([]), block: z.array(cidr).default([]) }).prefault({}),
        https: z.object({ allow: z.array(cidr).default([]), block: z.array(cidr).default([]) }).prefault({}),
      })
      .prefault({}),
    auth: z
      .object({
        enable: z.boolean().default(false),
        disable_localhost: z.boolean().default(false),
        username: z.string().default(''),
        password: z.string().default(''),
        jwt: z.object({ secret: z.string().default(() => randomSecret(32)) }).prefault({}),
        auth0: z
          .object({ enable: z.boolean().default(false), tenants: z.array(auth0TenantSchema).default([]) })
          .prefault({}),
      })
      .prefault({}),
  })
  .prefault({});
