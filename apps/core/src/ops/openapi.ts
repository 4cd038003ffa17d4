import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { processConfigSchema } from '@dragon/restream';
import { z } from 'zod';
import { configSchema } from '../config/config-schema.js';
import { viewerStatusSchema, webRtcStateSchema } from '../webrtc/webrtc-status.js';

const errorSchema = {
  type: 'object',
  properties: {
    code: { type: 'integer' },
    message: { type: 'string' },
    details: { type: 'array', items: { type: 'string' } },
  },
  required: ['code', 'message', 'details'],
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
}

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const keyParam = { name: 'key', in: 'path', required: true, schema: { type: 'string' } };
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const ok = (description: string, schema: unknown = {}) => ({ description, ...json(schema) });
const failures = {
  '400': ok('Invalid request', errorSchema),
  '401': ok('Missing or invalid token', errorSchema),
  '404': ok('Unknown process', errorSchema),
};

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function openApiDocument(version: string): Record<string, unknown> {
  const processConfig = { $ref: '#/components/schemas/ProcessConfig' };
  const filters = ['filter', 'reference', 'id', 'idpattern', 'refpattern'].map((name) => ({
    name,
    in: 'query',
    required: false,
    schema: { type: 'string' },
  }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Dragon Core API',
      version,
      description: 'datarhei Core v3 compatible process API with WHEP playback.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        ProcessConfig: jsonSchema(processConfigSchema),
        Config: jsonSchema(configSchema),
        WebRtcState: jsonSchema(webRtcStateSchema, 'output'),
        ViewerStatus: jsonSchema(viewerStatusSchema, 'output'),
        Error: errorSchema,
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/api/login': {
        post: {
          summary: 'Log in with username and password; returns access and refresh JWTs',
          security: [],
          requestBody: json({
            type: 'object',
            properties: { username: { type: 'string' }, password: { type: 'string' } },
          }),
          responses: {
            '200': ok('Tokens'),
            '400': failures['400'],
            '401': failures['401'],
            '413': ok('Body over 16 KiB', errorSchema),
            '429': ok('Too many attempts from this address (see Retry-After)', errorSchema),
          },
        },
      },
      '/api/login/refresh': {
        get: { summary: 'New access token from a refresh token', responses: { '200': ok('Token') } },
      },
      '/api/v3/process': {
        get: {
          summary: 'List processes',
          parameters: filters,
          responses: { '200': ok('Processes', { type: 'array' }) },
        },
        post: {
          summary: 'Add a process',
          requestBody: json(processConfig),
          responses: { '200': ok('The stored config', processConfig), '400': failures['400'] },
        },
      },
      '/api/v3/process/{id}': {
        get: {
          summary: 'One process',
          parameters: [idParam, filters[0]],
          responses: { '200': ok('Process'), '404': failures['404'] },
        },
        put: {
          summary:
            "Merge a body into the process's config, as datarhei does: named fields change, the rest stays; another id renames (restarts it when running)",
          parameters: [idParam],
          requestBody: json(processConfig),
          responses: { '200': ok('The stored config', processConfig), ...failures },
        },
        delete: {
          summary: 'Stop and delete a process',
          parameters: [idParam],
          responses: { '200': ok('OK', { type: 'string' }), '404': failures['404'] },
        },
      },
      '/api/v3/process/{id}/command': {
        put: {
          summary: 'start, stop, restart or reload',
          parameters: [idParam],
          requestBody: json({
            type: 'object',
            properties: { command: { enum: ['start', 'stop', 'restart', 'reload'] } },
          }),
          responses: { '200': ok('OK', { type: 'string' }), ...failures },
        },
      },
      '/api/v3/process/{id}/state': {
        get: {
          summary:
            "The process state, as datarhei's; with WebRTC on, Dragon adds `webrtc`: the latest start's media plan and its legs' health",
          parameters: [idParam],
          responses: {
            '200': ok('state', {
              type: 'object',
              properties: { webrtc: { $ref: '#/components/schemas/WebRtcState' } },
              additionalProperties: true,
            }),
            '404': failures['404'],
          },
        },
      },
      '/player/{id}/status': {
        get: {
          summary:
            "What the player tells its viewer: the process's state, the plan's codecs and the video's health (WHEP's token rule; no input address, no log)",
          security: [],
          parameters: [idParam],
          responses: {
            '200': ok('Status', { $ref: '#/components/schemas/ViewerStatus' }),
            '401': failures['401'],
            '404': ok('Unknown process or WebRTC off', errorSchema),
          },
        },
      },
      ...Object.fromEntries(
        ['config', 'report', 'probe', 'metadata'].map((part) => [
          `/api/v3/process/{id}/${part}`,
          {
            get: {
              summary: `The process ${part}`,
              parameters: [idParam],
              responses: { '200': ok(part), '404': failures['404'] },
            },
          },
        ]),
      ),
      '/api/v3/process/{id}/metadata/{key}': {
        get: {
          summary: 'One metadata value',
          parameters: [idParam, keyParam],
          responses: { '200': ok('Value'), '404': failures['404'] },
        },
        put: {
          summary: 'Set a metadata value (null deletes)',
          parameters: [idParam, keyParam],
          requestBody: json({}),
          responses: { '200': ok('Value') },
        },
      },
      '/api/v3/metadata/{key}': {
        get: {
          summary: 'One global metadata value',
          parameters: [keyParam],
          responses: { '200': ok('Value'), '404': failures['404'] },
        },
        put: {
          summary: 'Set a global metadata value (null deletes)',
          parameters: [keyParam],
          requestBody: json({}),
          responses: { '200': ok('Value') },
        },
      },
      '/api/v3/process/{id}/whep': {
        post: {
          summary: 'WHEP: an SDP offer in, an SDP answer out (201, Location of the session)',
          security: [],
          parameters: [idParam],
          requestBody: { content: { 'application/sdp': { schema: { type: 'string' } } } },
          responses: {
            '201': { description: 'Answer', content: { 'application/sdp': { schema: { type: 'string' } } } },
            '400': ok('Malformed SDP', errorSchema),
            '404': ok('Unknown process or WebRTC off', errorSchema),
            '409': ok('Process not running yet', errorSchema),
            '422': ok('No usable codec', errorSchema),
            '503': ok('Viewer limit reached', errorSchema),
          },
        },
      },
      '/api/v3/process/{id}/whep/{session}': {
        delete: {
          summary: 'End a WHEP session',
          security: [],
          parameters: [idParam, { ...idParam, name: 'session' }],
          responses: { '200': { description: 'Ended' } },
        },
      },
      '/api/v3/config': {
        get: {
          summary:
            'The saved config with the environment applied (secrets redacted), which keys the environment overrides',
          responses: { '200': ok('Config') },
        },
        put: {
          summary: 'Merge a complete or partial config into the saved one (applied by reload)',
          requestBody: json({ type: 'object' }),
          responses: {
            '200': ok('Saved', { type: 'string', const: 'OK' }),
            '400': ok('Malformed JSON or a wrong type', errorSchema),
            '409': ok('Invalid values: messages per field', {
              type: 'object',
              additionalProperties: { type: 'array', items: { type: 'string' } },
            }),
          },
        },
      },
      '/api/v3/config/reload': {
        get: {
          summary: 'Apply the saved config; one that cannot start is rolled back to the last that ran',
          responses: { '200': ok('OK') },
        },
      },
      '/api/v3/skills': {
        get: { summary: 'What the installed FFmpeg can do', responses: { '200': ok('Skills') } },
      },
      '/api/v3/skills/reload': {
        get: { summary: 'Detect FFmpeg skills again', responses: { '200': ok('Skills') } },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security: [],
          responses: { '200': { description: 'Text exposition' } },
        },
      },
      '/ping': { get: { summary: 'Liveness', security: [], responses: { '200': { description: 'pong' } } } },
    },
  };
}

const swaggerAssets = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js']);
const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** Swagger UI's own files, served from the installed package: the API browser needs no outside host. */
export function swaggerAsset(name: string): { body: Buffer; type: string } | undefined {
  if (!swaggerAssets.has(name)) return undefined;
  const type = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
  return { body: readFileSync(join(swaggerDir, name)), type };
}

export function swaggerPage(documentUrl: string, assetBase: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Dragon API</title>
<link rel="stylesheet" href="${assetBase}/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="${assetBase}/swagger-ui-bundle.js"></script>
<script src="${assetBase}/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({ url: ${JSON.stringify(documentUrl)}, dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });
</script></body></html>`;
}
