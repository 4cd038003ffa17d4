import {
  type Answer,
  errorAnswer,
  jsonAnswer,
  mediaAnswer,
  named,
  noContent,
  type RouteDeclaration,
} from '@dragon/http-routes';
import { z } from 'zod';
import { fileInfoSchema, filesystemInfoSchema } from './fs-schemas.js';

/** Whose credentials a file route takes: the app's API guard (bearer), a mount's Basic auth, or none. */
export type FileAccess = 'bearer' | 'basic' | 'none';

const authOf = (access: FileAccess): Pick<RouteDeclaration, 'auth'> =>
  access === 'bearer' ? {} : { auth: access };

/** GET and HEAD of one file under `path` (`/memfs/{path}`): what a mount's reads are registered from. */
export function fileReads(path: string, access: FileAccess, what = 'A file') {
  return {
    get: {
      method: 'get',
      path,
      summary: what,
      ...authOf(access),
      responses: {
        200: mediaAnswer('The file', 'application/octet-stream'),
        404: errorAnswer('No such file'),
      },
    },
    head: {
      method: 'head',
      path,
      summary: `${what}, headers only`,
      ...authOf(access),
      responses: { 200: noContent('The headers'), 404: noContent('No such file') },
    },
  } satisfies Record<string, RouteDeclaration>;
}

/** PUT, POST (as PUT) and DELETE of one file under `path`: what a mount's writes are registered from. */
export function fileWrites(path: string, access: FileAccess) {
  const denied: Record<number, Answer> =
    access === 'basic' ? { 401: errorAnswer('Missing or invalid credentials') } : {};
  const written: Record<number, Answer> = {
    201: mediaAnswer('Created', 'text/plain'),
    204: noContent('Replaced'),
    507: errorAnswer('The filesystem is full'),
    ...denied,
  };
  const put = (method: 'put' | 'post', summary: string): RouteDeclaration => ({
    method,
    path,
    summary,
    ...authOf(access),
    body: 'application/octet-stream',
    responses: written,
  });
  return {
    put: put('put', 'Write a file'),
    post: put('post', 'Write a file (as PUT)'),
    delete: {
      method: 'delete',
      path,
      summary: 'Delete a file',
      ...authOf(access),
      responses: {
        200: mediaAnswer('Deleted', 'text/plain'),
        404: errorAnswer('No such file'),
        ...denied,
      },
    } satisfies RouteDeclaration,
  };
}

/** datarhei's file API (`/fs…`, mounted at `/api/v3` behind the API's guard). */
export const fsApiDeclarations = {
  filesystems: {
    method: 'get',
    path: '/fs',
    summary: 'The filesystems',
    responses: { 200: jsonAnswer('Filesystems', named('Filesystems', z.array(filesystemInfoSchema))) },
  } satisfies RouteDeclaration,
  files: {
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
  } satisfies RouteDeclaration,
  file: fileReads('/fs/{name}/{path}', 'bearer'),
  fileWrites: fileWrites('/fs/{name}/{path}', 'bearer'),
};
