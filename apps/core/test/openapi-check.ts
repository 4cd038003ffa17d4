import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import { coreVersion } from '../src/core.js';
import { openApiDocument } from '../src/ops/openapi.js';
import type { InProcessCore } from './in-process-core.js';

export type OpenApiDocument = {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
};

/** The document the server serves. */
export const document = openApiDocument(coreVersion) as OpenApiDocument;

/** Hono's `/fs/:name/*` as the document writes it: `/fs/{name}/{path}`. */
export const documentPath = (honoPath: string) =>
  honoPath.replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/{path}') || '/';

const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema(document, 'openapi');

/** The validator of the documented JSON answer of `route` (`GET /api/v3/process`) with `status`. */
export function validatorFor(route: string, status: number) {
  const [method = '', path = ''] = route.split(' ');
  const pointer = [
    'paths',
    path,
    method.toLowerCase(),
    'responses',
    String(status),
    'content',
    'application/json',
    'schema',
  ]
    .map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1'))
    .join('/');
  return ajv.getSchema(`openapi#/${pointer}`) ?? ajv.compile({ $ref: `openapi#/${pointer}` });
}

/** Calls `path` on `server` and checks status and JSON body against the document's schema for `route`. */
export async function checkAnswer(
  server: InProcessCore,
  route: string,
  path: string,
  status = 200,
  init?: RequestInit,
): Promise<unknown> {
  const response = await server.request(path, init);
  expect(response.status, `${route}: ${path}`).toBe(status);
  const body: unknown = await response.json();
  const validate = validatorFor(route, status);
  expect(validate(body) ? [] : validate.errors, `${route}: ${path}`).toEqual([]);
  return body;
}

/** A JSON request. */
export const jsonRequest = (method: string, body: unknown): RequestInit => ({
  method,
  body: JSON.stringify(body),
  headers: { 'Content-Type': 'application/json' },
});
