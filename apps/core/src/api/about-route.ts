import { DeclaredRoutes, jsonAnswer, named } from '@dragon/http-routes';
import { z } from 'zod';
import { type DataPlaneStatus, dataPlaneSchema } from '../webrtc/data-plane.js';
import type { Auth } from './auth.js';
import { appName, datarheiVersion } from './datarhei-identity.js';

/** datarhei's `MinimalAbout`: what a client without access learns. */
export const minimalAboutSchema = z.object({
  app: z.string(),
  auths: z.array(z.string()),
  version: z.object({ number: z.string() }),
});

/** datarhei's `About`, with Dragon's name and version under `dragon`. */
export const aboutSchema = minimalAboutSchema.extend({
  name: z.string(),
  id: z.string(),
  created_at: z.string(),
  uptime_seconds: z.number(),
  version: z.object({
    number: z.string(),
    repository_commit: z.string(),
    repository_branch: z.string(),
    build_date: z.string(),
    arch: z.string(),
    compiler: z.string(),
  }),
  dragon: z.object({
    app: z.literal('dragon-core'),
    version: z.string(),
    webrtc: z.object({
      enabled: z.boolean(),
      /** With WebRTC on: which data plane forwards the media, and why that one. */
      data_plane: dataPlaneSchema.optional(),
    }),
  }),
});

export interface AboutOptions {
  auth: Auth;
  /** `id` and `name` of the running config. */
  id: string;
  name: string;
  /** When this server (this config) started; a reload starts it anew, which is how the UI sees a restart. */
  startedAt: Date;
  dragonVersion: string;
  webrtcEnabled: boolean;
  /** The data plane, read when asked (it is the process's, and may start after this route). */
  dataPlane?: (() => DataPlaneStatus) | undefined;
}

/**
 * `GET /api`: datarhei's `About` for a client with access, and its `MinimalAbout` (no `id`: the UI
 * then asks for a login) for one without. Dragon's own name and version ride along under `dragon`.
 */
export function createAboutRoute(options: AboutOptions): DeclaredRoutes {
  const declaration = {
    method: 'get',
    path: '/api',
    summary: "datarhei's About with API access; without, its MinimalAbout (no id: the client should log in)",
    auth: 'none',
    responses: { 200: jsonAnswer('About', named('About', z.union([aboutSchema, minimalAboutSchema]))) },
  } as const;
  return new DeclaredRoutes().declare(declaration, async (c) => {
    if (!(await options.auth.isAuthorized(c))) {
      return c.json({
        app: appName,
        auths: options.auth.methods,
        version: { number: `${datarheiVersion.split('.')[0]}.0.0` },
      } satisfies z.infer<typeof minimalAboutSchema>);
    }
    return c.json({
      app: appName,
      auths: options.auth.methods,
      name: options.name,
      id: options.id,
      created_at: options.startedAt.toISOString(),
      uptime_seconds: Math.floor((Date.now() - options.startedAt.getTime()) / 1000),
      version: {
        number: datarheiVersion,
        repository_commit: '',
        repository_branch: '',
        build_date: '',
        arch: `${process.platform}/${process.arch}`,
        compiler: `node ${process.version}`,
      },
      dragon: {
        app: 'dragon-core',
        version: options.dragonVersion,
        webrtc: {
          enabled: options.webrtcEnabled,
          ...(options.dataPlane ? { data_plane: options.dataPlane() } : {}),
        },
      },
    } satisfies z.infer<typeof aboutSchema>);
  });
}
