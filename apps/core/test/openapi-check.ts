import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import type { InProcessCore } from './in-process-core.js';

type Answer = { content?: Record<string, { schema?: unknown }> };
export type DocumentedOperation = {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema?: unknown }> };
  responses: Record<string, Answer>;
};
export type OpenApiDocument = {
  openapi: string;
  components: { schemas: Record<string, unknown> };
  paths: Record<string, Record<string, DocumentedOperation>>;
};

/** Hono's `/fs/:name/*` as the document writes it: `/fs/{name}/{path}` (`:id{pattern}` is `{id}`). */
export const documentPath = (honoPath: string) =>
  honoPath.replace(/:(\w+)(\{[^/]*\})?/g, '{$1}').replace(/\/\*$/, '/{path}') || '/';

/** The document `server` serves at datarhei's `/api/swagger/doc.json`. */
export async function servedDocument(server: InProcessCore): Promise<OpenApiDocument> {
  const response = await server.request('/api/swagger/doc.json');
  expect(response.status).toBe(200);
  return (await response.json()) as OpenApiDocument;
}

/** Checks of answers against the document `server` serves. */
export async function documentChecks(server: InProcessCore) {
  const document = await servedDocument(server);
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema(document, 'openapi');

  /** The validator of the documented JSON answer of `route` (`GET /api/v3/process`) with `status`. */
  const validatorFor = (route: string, status: number) => {
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
  };

  /** Calls `path` and checks status and JSON body against the document's schema for `route`. */
  const checkAnswer = async (route: string, path: string, status = 200, init?: RequestInit) => {
    const response = await server.request(path, init);
    expect(response.status, `${route}: ${path}`).toBe(status);
    const body: unknown = await response.json();
    const validate = validatorFor(route, status);
    expect(validate(body) ? [] : validate.errors, `${route}: ${path}`).toEqual([]);
    return body;
  };
  return { document, validatorFor, checkAnswer };
}

/** A JSON request. */
export const jsonRequest = (method: string, body: unknown): RequestInit => ({
  method,
  body: JSON.stringify(body),
  headers: { 'Content-Type': 'application/json' },
});
