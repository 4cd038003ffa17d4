import { clusterViewSchema } from '@dragon/cluster/schemas';
import { fileInfoSchema, filesystemInfoSchema } from '@dragon/filesystems';
import { z } from 'zod';
import {
  type Answer,
  errorAnswer,
  jsonAnswer,
  mediaAnswer,
  named,
  type RouteDeclaration,
} from './declared-routes.js';

/**
 * The declarations of routes apps/core mounts but does not register itself: WHEP (from
 * `@dragon/whep-http`), the filesystems' routes and the cluster's. Each list belongs beside its
 * routes; until their owners export declarations of their own, they are written here, and the
 * document test (every served route documented, every documented route served) keeps them in step.
 */

const noContent = (description: string): Answer => ({ description });

/** A route WHEP answers under its own token rule (no API token). */
const whep = (
  method: RouteDeclaration['method'],
  path: '' | '/{sessionId}',
  summary: string,
  responses: Record<number, Answer>,
  body?: RouteDeclaration['body'],
): RouteDeclaration => ({
  method,
  path: `/api/v3/process/{id}/whep${path}`,
  summary,
  auth: 'none',
  ...(body ? { body } : {}),
  responses,
});

const preflight = { 204: noContent('Allowed methods and headers') };
const unknownSession = { 404: errorAnswer('Unknown session') };

/** `@dragon/whep-http`'s routes, at its default base path. */
export const whepDeclarations: readonly RouteDeclaration[] = [
  whep(
    'post',
    '',
    "WHEP (with WebRTC on): an SDP offer in, an SDP answer out (201, Location of the session); WHEP's token rule",
    {
      201: mediaAnswer('Answer', 'application/sdp'),
      400: errorAnswer('Malformed SDP'),
      401: errorAnswer('Missing or invalid viewer token'),
      404: errorAnswer('Unknown process or WebRTC off'),
      409: errorAnswer('Process not running yet'),
      422: errorAnswer('No usable codec'),
      429: errorAnswer('Too many offers from this address'),
      503: errorAnswer('Viewer limit reached'),
    },
    'application/sdp',
  ),
  whep('get', '', 'WHEP discovery: 200 with Content-Type application/sdp and no body (HEAD alike)', {
    200: noContent('No content'),
    404: errorAnswer('Unknown process or WebRTC off'),
  }),
  whep('options', '', 'CORS preflight of the WHEP endpoint', preflight),
  whep(
    'patch',
    '/{sessionId}',
    'Trickle ICE candidates for a WHEP session (application/trickle-ice-sdpfrag)',
    { 204: noContent('Applied'), ...unknownSession },
    'text/plain',
  ),
  whep('delete', '/{sessionId}', 'End a WHEP session', { 200: noContent('Ended'), ...unknownSession }),
  whep('get', '/{sessionId}', 'A WHEP session resource has no representation: 405', {
    405: errorAnswer('Method not allowed'),
  }),
  whep('options', '/{sessionId}', 'CORS preflight of a WHEP session', preflight),
];

/** GET, HEAD, PUT and DELETE of one file under `path`; reads of memfs need no credentials. */
function fileDeclarations(path: string, auth: 'bearer' | 'basic'): RouteDeclaration[] {
  const write = auth === 'basic' ? ({ auth: 'basic' } as const) : {};
  const read = auth === 'basic' ? ({ auth: 'none' } as const) : {};
  const denied = auth === 'basic' ? { 401: errorAnswer('Missing or invalid credentials') } : {};
  const written = {
    201: mediaAnswer('Created', 'text/plain'),
    204: noContent('Replaced'),
    507: errorAnswer('The filesystem is full'),
    ...denied,
  };
  return [
    {
      method: 'get',
      path,
      summary: 'A file',
      ...read,
      responses: {
        200: mediaAnswer('The file', 'application/octet-stream'),
        404: errorAnswer('No such file'),
      },
    },
    {
      method: 'head',
      path,
      summary: 'A file, headers only',
      ...read,
      responses: { 200: noContent('The headers'), 404: noContent('No such file') },
    },
    {
      method: 'put',
      path,
      summary: 'Write a file',
      ...write,
      body: 'application/octet-stream',
      responses: written,
    },
    ...(auth === 'basic'
      ? [
          {
            method: 'post',
            path,
            summary: 'Write a file (as PUT)',
            ...write,
            body: 'application/octet-stream',
            responses: written,
          } satisfies RouteDeclaration,
        ]
      : []),
    {
      method: 'delete',
      path,
      summary: 'Delete a file',
      ...write,
      responses: { 200: mediaAnswer('Deleted', 'text/plain'), 404: errorAnswer('No such file'), ...denied },
    },
  ];
}

/** datarhei's file API, mounted at `/api/v3`. */
export const fsApiDeclarations: readonly RouteDeclaration[] = [
  {
    method: 'get',
    path: '/fs',
    summary: 'The filesystems',
    responses: { 200: jsonAnswer('Filesystems', named('Filesystems', z.array(filesystemInfoSchema))) },
  },
  {
    method: 'get',
    path: '/fs/{name}',
    summary: 'The files of a filesystem',
    query: {
      glob: 'Only paths matching this glob',
      sort: 'name, size or lastmod (the default)',
      order: 'asc or desc',
    },
    responses: {
      200: jsonAnswer('Files', named('Files', z.array(fileInfoSchema))),
      404: errorAnswer('Unknown filesystem'),
    },
  },
  ...fileDeclarations('/fs/{name}/{path}', 'bearer'),
];

/** The memory filesystem at `/memfs` and the disk filesystem at `/`. */
export const fileRouteDeclarations: readonly RouteDeclaration[] = [
  ...fileDeclarations('/memfs/{path}', 'basic'),
  {
    method: 'get',
    path: '/{path}',
    summary: 'A file of the disk filesystem (`index.html` for a directory)',
    auth: 'none',
    responses: { 200: mediaAnswer('The file', 'application/octet-stream'), 404: errorAnswer('No such file') },
  },
  {
    method: 'head',
    path: '/{path}',
    summary: 'A file of the disk filesystem, headers only',
    auth: 'none',
    responses: { 200: noContent('The headers'), 404: noContent('No such file') },
  },
];

/** A built UI (the Restreamer UI) at `/ui`, with `router.ui_path`. */
export const staticSiteDeclarations: readonly RouteDeclaration[] = (['get', 'head'] as const).flatMap(
  (method) => [
    {
      method,
      path: '/ui',
      summary: 'Redirects to `/ui/`',
      auth: 'none',
      responses: { 301: noContent('To /ui/') },
    },
    {
      method,
      path: '/ui/{path}',
      summary: 'A file of the UI (`index.html` for a directory)',
      auth: 'none',
      responses: {
        200: mediaAnswer('The file', 'application/octet-stream'),
        404: errorAnswer('No such file'),
      },
    },
  ],
);

/** The cluster's view, mounted at `/api/v3` in cluster mode. */
export const clusterDeclarations: readonly RouteDeclaration[] = [
  {
    method: 'get',
    path: '/cluster',
    summary: 'The nodes, their load, and which process runs (and is pulled) where (with `cluster.enable`)',
    responses: {
      200: jsonAnswer('Cluster', named('Cluster', clusterViewSchema)),
      503: errorAnswer('The cluster store is unreachable'),
    },
  },
];
