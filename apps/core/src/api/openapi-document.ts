import type { Answer, Named, RouteDeclaration } from '@dragon/http-routes';
import { z } from 'zod';

/** Components from zod: each named schema once, references between them as `$ref`. */
function components(schemas: Map<string, z.ZodType>, io: 'input' | 'output'): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of schemas) registry.add(schema, { id });
  const { schemas: converted } = z.toJSONSchema(registry, {
    io,
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(
    Object.entries(converted).map(([id, { $schema: _, $id: __, ...schema }]) => [id, schema]),
  );
}

/** Collects named schemas; one name stands for one schema (a second under the same name is a bug). */
function collect(into: Map<string, z.ZodType>, { name, schema }: Named): void {
  const known = into.get(name);
  if (known && known !== schema) throw new Error(`two schemas are documented as ${name}`);
  into.set(name, schema);
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function answerOf(answer: Answer): Record<string, unknown> {
  if (answer.json) {
    return {
      description: answer.description,
      content: { 'application/json': { schema: ref(answer.json.name) } },
    };
  }
  if (answer.media) {
    return { description: answer.description, content: { [answer.media]: { schema: { type: 'string' } } } };
  }
  return { description: answer.description };
}

function operationOf(declaration: RouteDeclaration): Record<string, unknown> {
  const parameters = [
    ...[...declaration.path.matchAll(/\{(\w+)\}/g)].map(([, name = '']) => {
      const pattern = declaration.params?.[name];
      return {
        name,
        in: 'path',
        required: true,
        schema: pattern ? { type: 'string', pattern: `^${pattern}$` } : { type: 'string' },
      };
    }),
    ...Object.entries(declaration.query ?? {}).map(([name, description]) => ({
      name,
      in: 'query',
      required: false,
      description,
      schema: { type: 'string' },
    })),
  ];
  const { body, auth } = declaration;
  return {
    summary: declaration.summary,
    ...(auth === 'none' ? { security: [] } : {}),
    ...(auth === 'basic' ? { security: [{ basic: [] }] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body
      ? {
          requestBody: {
            required: true,
            content:
              typeof body === 'string'
                ? { [body]: { schema: { type: 'string' } } }
                : { 'application/json': { schema: ref(body.name) } },
          },
        }
      : {}),
    responses: Object.fromEntries(
      Object.entries(declaration.responses).map(([status, answer]) => [status, answerOf(answer)]),
    ),
  };
}

/**
 * The OpenAPI 3.1 document of the routes an app declares: paths from the declarations, components
 * from the zod schemas their handlers parse requests and build answers by.
 */
export function openApiDocument(
  declarations: readonly RouteDeclaration[],
  version: string,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const answers = new Map<string, z.ZodType>();
  const requests = new Map<string, z.ZodType>();
  for (const declaration of declarations) {
    paths[declaration.path] ??= {};
    paths[declaration.path]![declaration.method] = operationOf(declaration);
    for (const answer of Object.values(declaration.responses)) if (answer.json) collect(answers, answer.json);
    if (declaration.body && typeof declaration.body !== 'string') collect(requests, declaration.body);
  }
  for (const name of requests.keys()) {
    if (answers.has(name)) throw new Error(`${name} is documented as both a request and an answer`);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Dragon Core API',
      version,
      description: 'datarhei Core v3 compatible process API with WHEP playback.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        basic: { type: 'http', scheme: 'basic' },
      },
      schemas: { ...components(answers, 'output'), ...components(requests, 'input') },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
