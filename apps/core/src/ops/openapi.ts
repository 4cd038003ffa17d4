import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileInfoSchema, filesystemInfoSchema } from '@dragon/filesystems';
import { errorBodySchema } from '@dragon/http-error';
import { rtmpChannelsSchema, srtChannelsJsonSchema } from '@dragon/ingest';
import {
  probeResultSchema,
  processConfigSchema,
  processReportJsonSchema,
  skillsSchema,
} from '@dragon/restream';
import { sessionJsonSchema, sessionSummaryJsonSchema } from '@dragon/sessions';
import { z } from 'zod';
import { aboutSchema, minimalAboutSchema } from '../api/about-route.js';
import { loginSchema, refreshedTokenSchema, tokensSchema } from '../api/auth.js';
import { logSchema } from '../api/ops-routes.js';
import {
  commandBodySchema,
  metadataSchema,
  processSchema,
  processStateSchema,
} from '../api/process-routes.js';
import { widgetProcessSchema } from '../api/widget-routes.js';
import { clusterViewSchema } from '../cluster/cluster-records.js';
import { configViewSchema } from '../config/config-store.js';
import { fieldErrorsSchema } from '../config/errors.js';
import { viewerStatusSchema, webRtcStateSchema } from '../webrtc/webrtc-status.js';
import { metricDescriptionSchema, metricsQuerySchema, metricsResponseSchema } from './metrics-history.js';

/**
 * The response bodies, by component name: each is the zod schema its handler builds the body by, so
 * the document says what the handlers send (a test checks answers against it).
 */
const responseSchemas = {
  Error: errorBodySchema,
  FieldErrors: fieldErrorsSchema,
  Ok: z.literal('OK'),
  About: z.union([aboutSchema, minimalAboutSchema]),
  Tokens: tokensSchema,
  RefreshedToken: refreshedTokenSchema,
  ProcessConfig: processConfigSchema,
  Process: processSchema,
  ProcessList: z.array(processSchema),
  ProcessState: processStateSchema,
  WebRtcState: webRtcStateSchema,
  ProcessReport: processReportJsonSchema,
  Probe: probeResultSchema,
  Metadata: metadataSchema,
  Skills: skillsSchema,
  ConfigView: configViewSchema,
  SessionSummaries: z.record(z.string(), sessionSummaryJsonSchema),
  ActiveSessions: z.record(z.string(), z.array(sessionJsonSchema)),
  Log: logSchema,
  MetricDescriptions: z.array(metricDescriptionSchema),
  MetricsResponse: metricsResponseSchema,
  RtmpChannels: rtmpChannelsSchema,
  SrtChannels: srtChannelsJsonSchema,
  WidgetProcess: widgetProcessSchema,
  Filesystems: z.array(filesystemInfoSchema),
  Files: z.array(fileInfoSchema),
  Cluster: clusterViewSchema,
  ViewerStatus: viewerStatusSchema,
  OpenApi: z.looseObject({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) }),
} satisfies Record<string, z.ZodType>;
export type ResponseSchemaName = keyof typeof responseSchemas;

/** The request bodies, by component name (parsed as their handlers parse them). */
const requestSchemas = {
  Login: loginSchema,
  ProcessConfigInput: processConfigSchema,
  Command: commandBodySchema,
  MetadataValue: metadataSchema,
  MetricsQuery: metricsQuerySchema,
  ConfigUpdate: z
    .record(z.string(), z.unknown())
    .describe('A complete or partial config (see ConfigView.config): named fields change, the rest stays'),
} satisfies Record<string, z.ZodType>;
type RequestSchemaName = keyof typeof requestSchemas;

type Media = 'text/plain' | 'text/html' | 'application/sdp' | 'application/octet-stream';
/** An answer: a JSON body of a named schema, a body of another media type, or none. */
type Answer = { description: string } & ({ json: ResponseSchemaName } | { media: Media } | object);
interface Operation {
  summary: string;
  /** Which credentials: the API's bearer token (default), none, or memfs's Basic auth. */
  auth?: 'none' | 'basic';
  query?: string[];
  body?: RequestSchemaName | Media;
  responses: Record<number, Answer>;
}

const error = (description: string): Answer => ({ description, json: 'Error' });
const json = (description: string, name: ResponseSchemaName): Answer => ({ description, json: name });
const unknownProcess = { 404: error('Unknown process') };

/**
 * Every route the server serves, as `METHOD /path/{param}` (Hono's `:param` and `*` written
 * `{param}` and `{path}`). Routes that exist only with a feature on (WebRTC, Prometheus, RTMP, SRT,
 * cluster) say so.
 */
export const operations: Record<string, Operation> = {
  'GET /': {
    summary: 'Redirects to the API browser',
    auth: 'none',
    responses: { 302: { description: 'To /api/swagger' } },
  },
  'GET /ping': {
    summary: 'Liveness',
    auth: 'none',
    responses: { 200: { description: 'pong', media: 'text/plain' } },
  },
  'GET /metrics': {
    summary: 'Prometheus metrics (with `metrics.enable_prometheus`); per-process series only with API access',
    auth: 'none',
    responses: { 200: { description: 'Text exposition', media: 'text/plain' } },
  },
  'GET /player/{id}': {
    summary: 'The player page for a process',
    auth: 'none',
    responses: { 200: { description: 'HTML', media: 'text/html' } },
  },
  'GET /player/{id}/status': {
    summary:
      "What the player tells its viewer: the process's state, the plan's codecs and the video's health (WHEP's token rule; no input address, no log; with WebRTC on)",
    auth: 'none',
    responses: {
      200: json('Status', 'ViewerStatus'),
      401: error('Missing or invalid viewer token'),
      404: error('Unknown process or WebRTC off'),
    },
  },
  'GET /api': {
    summary: "datarhei's About with API access; without, its MinimalAbout (no id: the client should log in)",
    auth: 'none',
    responses: { 200: json('About', 'About') },
  },
  'POST /api/login': {
    summary: 'Log in with username and password; returns access and refresh JWTs',
    auth: 'none',
    body: 'Login',
    responses: {
      200: json('Tokens', 'Tokens'),
      400: error('Missing credentials'),
      401: error('Invalid credentials'),
      404: error('Auth off'),
      413: error('Body over 16 KiB'),
      429: error('Too many attempts from this address (see Retry-After)'),
    },
  },
  'GET /api/login/refresh': {
    summary: 'New access token; the bearer token is the refresh token',
    responses: {
      200: json('Token', 'RefreshedToken'),
      401: error('Missing or invalid refresh token'),
      404: error('Auth off'),
    },
  },
  'GET /api/swagger': {
    summary: 'The API browser',
    auth: 'none',
    responses: { 200: { description: 'HTML', media: 'text/html' } },
  },
  'GET /api/swagger/doc.json': {
    summary: 'This document',
    auth: 'none',
    responses: { 200: json('OpenAPI 3.1', 'OpenApi') },
  },
  'GET /api/swagger/ui/{file}': {
    summary: "Swagger UI's own files",
    auth: 'none',
    responses: { 200: { description: 'CSS or JavaScript', media: 'text/plain' }, 404: error('No such file') },
  },
  'GET /api/v3/process': {
    summary: 'List processes',
    query: ['filter', 'reference', 'id', 'idpattern', 'refpattern'],
    responses: { 200: json('Processes', 'ProcessList') },
  },
  'POST /api/v3/process': {
    summary: 'Add a process',
    body: 'ProcessConfigInput',
    responses: { 200: json('The stored config', 'ProcessConfig'), 400: error('Invalid config') },
  },
  'GET /api/v3/process/{id}': {
    summary: 'One process',
    query: ['filter'],
    responses: { 200: json('Process', 'Process'), ...unknownProcess },
  },
  'PUT /api/v3/process/{id}': {
    summary:
      "Merge a body into the process's config, as datarhei does: named fields change, the rest stays; another id renames (restarts it when running)",
    body: 'ProcessConfigInput',
    responses: {
      200: json('The stored config', 'ProcessConfig'),
      400: error('Invalid config'),
      ...unknownProcess,
    },
  },
  'DELETE /api/v3/process/{id}': {
    summary: 'Stop and delete a process',
    responses: { 200: json('OK', 'Ok'), ...unknownProcess },
  },
  'PUT /api/v3/process/{id}/command': {
    summary: 'start, stop, restart or reload',
    body: 'Command',
    responses: { 200: json('OK', 'Ok'), 400: error('Unknown command or process') },
  },
  'GET /api/v3/process/{id}/config': {
    summary: "The process's config",
    responses: { 200: json('Config', 'ProcessConfig'), ...unknownProcess },
  },
  'GET /api/v3/process/{id}/state': {
    summary:
      "The process state, as datarhei's; with WebRTC on, Dragon adds `webrtc`: the latest start's media plan and its legs' health",
    responses: { 200: json('State', 'ProcessState'), ...unknownProcess },
  },
  'GET /api/v3/process/{id}/report': {
    summary: "The current (or last) run's prelude and log, and the runs before it",
    responses: { 200: json('Report', 'ProcessReport'), ...unknownProcess },
  },
  'GET /api/v3/process/{id}/probe': {
    summary: "The streams FFmpeg finds in the process's inputs (an unknown id: 200 with the reason in `log`)",
    responses: { 200: json('Probe', 'Probe') },
  },
  'GET /api/v3/process/{id}/metadata': {
    summary: "The process's metadata (null when none)",
    responses: { 200: json('Metadata', 'Metadata'), ...unknownProcess },
  },
  'GET /api/v3/process/{id}/metadata/{key}': {
    summary: 'One metadata value',
    responses: { 200: json('Value', 'Metadata'), 404: error('Unknown process or key') },
  },
  'PUT /api/v3/process/{id}/metadata/{key}': {
    summary: 'Set a metadata value (null deletes)',
    body: 'MetadataValue',
    responses: { 200: json('The value', 'Metadata'), 400: error('Invalid key or JSON'), ...unknownProcess },
  },
  'GET /api/v3/metadata': {
    summary: 'The global metadata (null when none)',
    responses: { 200: json('Metadata', 'Metadata') },
  },
  'GET /api/v3/metadata/{key}': {
    summary: 'One global metadata value',
    responses: { 200: json('Value', 'Metadata'), 404: error('Unknown key') },
  },
  'PUT /api/v3/metadata/{key}': {
    summary: 'Set a global metadata value (null deletes)',
    body: 'MetadataValue',
    responses: { 200: json('The value', 'Metadata'), 400: error('Invalid key or JSON') },
  },
  'POST /api/v3/process/{id}/whep': {
    summary:
      "WHEP (with WebRTC on): an SDP offer in, an SDP answer out (201, Location of the session); WHEP's token rule",
    auth: 'none',
    body: 'application/sdp',
    responses: {
      201: { description: 'Answer', media: 'application/sdp' },
      400: error('Malformed SDP'),
      401: error('Missing or invalid viewer token'),
      404: error('Unknown process or WebRTC off'),
      409: error('Process not running yet'),
      422: error('No usable codec'),
      429: error('Too many offers from this address'),
      503: error('Viewer limit reached'),
    },
  },
  'GET /api/v3/process/{id}/whep': {
    summary: 'WHEP discovery: 200 with Content-Type application/sdp and no body (HEAD alike)',
    auth: 'none',
    responses: { 200: { description: 'No content' }, 404: error('Unknown process or WebRTC off') },
  },
  'OPTIONS /api/v3/process/{id}/whep': {
    summary: 'CORS preflight of the WHEP endpoint',
    auth: 'none',
    responses: { 204: { description: 'Allowed methods and headers' } },
  },
  'PATCH /api/v3/process/{id}/whep/{sessionId}': {
    summary: 'Trickle ICE candidates for a WHEP session (application/trickle-ice-sdpfrag)',
    auth: 'none',
    body: 'text/plain',
    responses: { 204: { description: 'Applied' }, 404: error('Unknown session') },
  },
  'DELETE /api/v3/process/{id}/whep/{sessionId}': {
    summary: 'End a WHEP session',
    auth: 'none',
    responses: { 200: { description: 'Ended' }, 404: error('Unknown session') },
  },
  'GET /api/v3/process/{id}/whep/{sessionId}': {
    summary: 'A WHEP session resource has no representation: 405',
    auth: 'none',
    responses: { 405: error('Method not allowed') },
  },
  'OPTIONS /api/v3/process/{id}/whep/{sessionId}': {
    summary: 'CORS preflight of a WHEP session',
    auth: 'none',
    responses: { 204: { description: 'Allowed methods and headers' } },
  },
  'GET /api/v3/config': {
    summary:
      'The saved config with the environment applied (secrets redacted), which keys the environment overrides',
    responses: { 200: json('Config', 'ConfigView') },
  },
  'PUT /api/v3/config': {
    summary: 'Merge a complete or partial config into the saved one (applied by reload)',
    body: 'ConfigUpdate',
    responses: {
      200: json('Saved', 'Ok'),
      400: error('Malformed JSON or a wrong type'),
      409: json('Invalid values: messages per field', 'FieldErrors'),
    },
  },
  'GET /api/v3/config/reload': {
    summary: 'Apply the saved config; one that cannot start is rolled back to the last that ran',
    responses: { 200: json('OK', 'Ok'), 501: error('This server cannot reload') },
  },
  'GET /api/v3/skills': {
    summary: 'What the installed FFmpeg can do',
    responses: { 200: json('Skills', 'Skills') },
  },
  'GET /api/v3/skills/reload': {
    summary: 'Detect FFmpeg skills again',
    responses: { 200: json('Skills', 'Skills') },
  },
  'GET /api/v3/session': {
    summary: 'Session summary per collector (`collectors=hls,rtmp,srt,webrtc,…`)',
    query: ['collectors'],
    responses: { 200: json('Summaries', 'SessionSummaries') },
  },
  'GET /api/v3/session/active': {
    summary: 'Active sessions per collector',
    query: ['collectors'],
    responses: { 200: json('Sessions', 'ActiveSessions') },
  },
  'GET /api/v3/log': {
    summary: "The server's recent log lines (`format=raw` for their fields)",
    query: ['format'],
    responses: { 200: json('Log', 'Log') },
  },
  'GET /api/v3/metrics': {
    summary: 'The metrics the history keeps',
    responses: { 200: json('Metrics', 'MetricDescriptions') },
  },
  'POST /api/v3/metrics': {
    summary: 'Query the metrics history',
    body: 'MetricsQuery',
    responses: { 200: json('Series', 'MetricsResponse'), 400: error('Invalid query') },
  },
  'GET /api/v3/rtmp': {
    summary: 'The channels published to the RTMP server (with `rtmp.enable`)',
    responses: { 200: json('Channels', 'RtmpChannels') },
  },
  'GET /api/v3/srt': {
    summary: 'The channels of the SRT server (with `srt.enable`)',
    responses: { 200: json('Channels', 'SrtChannels') },
  },
  'GET /api/v3/cluster': {
    summary: 'The nodes, their load, and which process runs (and is pulled) where (with `cluster.enable`)',
    responses: { 200: json('Cluster', 'Cluster'), 503: error('The cluster store is unreachable') },
  },
  'GET /api/v3/widget/process/{id}': {
    summary: 'Uptime and viewer counts for an embeddable widget',
    auth: 'none',
    responses: { 200: json('Widget', 'WidgetProcess'), ...unknownProcess },
  },
  'GET /api/v3/fs': { summary: 'The filesystems', responses: { 200: json('Filesystems', 'Filesystems') } },
  'GET /api/v3/fs/{name}': {
    summary: 'The files of a filesystem (`glob`, `sort` name|size|lastmod, `order` asc|desc)',
    query: ['glob', 'sort', 'order'],
    responses: { 200: json('Files', 'Files'), 404: error('Unknown filesystem') },
  },
  ...fileRoutes('/api/v3/fs/{name}/{path}', 'bearer'),
  ...fileRoutes('/memfs/{path}', 'basic'),
  'POST /memfs/{path}': {
    summary: 'Write a file to the memory filesystem (as PUT)',
    auth: 'basic',
    body: 'application/octet-stream',
    responses: {
      201: { description: 'Created', media: 'text/plain' },
      204: { description: 'Replaced' },
      401: error('Missing or invalid credentials'),
    },
  },
  'GET /{path}': {
    summary: 'A file of the disk filesystem (`index.html` for a directory)',
    auth: 'none',
    responses: {
      200: { description: 'The file', media: 'application/octet-stream' },
      404: error('No such file'),
    },
  },
  'HEAD /{path}': {
    summary: 'A file of the disk filesystem, headers only',
    auth: 'none',
    responses: { 200: { description: 'The headers' }, 404: { description: 'No such file' } },
  },
};

/** GET, HEAD, PUT and DELETE of one file under `path`; reads of memfs need no credentials. */
function fileRoutes(path: string, auth: 'bearer' | 'basic'): Record<string, Operation> {
  const write: Operation['auth'] = auth === 'basic' ? 'basic' : undefined;
  const read: Operation['auth'] = auth === 'basic' ? 'none' : undefined;
  const denied = auth === 'basic' ? { 401: error('Missing or invalid credentials') } : {};
  return {
    [`GET ${path}`]: {
      summary: 'A file',
      ...(read ? { auth: read } : {}),
      responses: {
        200: { description: 'The file', media: 'application/octet-stream' },
        404: error('No such file'),
      },
    },
    [`HEAD ${path}`]: {
      summary: 'A file, headers only',
      ...(read ? { auth: read } : {}),
      responses: { 200: { description: 'The headers' }, 404: { description: 'No such file' } },
    },
    [`PUT ${path}`]: {
      summary: 'Write a file',
      ...(write ? { auth: write } : {}),
      body: 'application/octet-stream',
      responses: {
        201: { description: 'Created', media: 'text/plain' },
        204: { description: 'Replaced' },
        507: error('The filesystem is full'),
        ...denied,
      },
    },
    [`DELETE ${path}`]: {
      summary: 'Delete a file',
      ...(write ? { auth: write } : {}),
      responses: {
        200: { description: 'Deleted', media: 'text/plain' },
        404: error('No such file'),
        ...denied,
      },
    },
  };
}

/** Components from zod: each named schema once, references between them as `$ref`. */
function components(schemas: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: converted } = z.toJSONSchema(registry, {
    io,
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(
    Object.entries(converted).map(([id, { $schema: _, $id: __, ...schema }]) => [id, schema]),
  );
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function answerOf(answer: Answer): Record<string, unknown> {
  if ('json' in answer) {
    return { description: answer.description, content: { 'application/json': { schema: ref(answer.json) } } };
  }
  if ('media' in answer) {
    return { description: answer.description, content: { [answer.media]: { schema: { type: 'string' } } } };
  }
  return { description: answer.description };
}

function operationOf(path: string, operation: Operation): Record<string, unknown> {
  const parameters = [
    ...[...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
    })),
    ...(operation.query ?? []).map((name) => ({
      name,
      in: 'query',
      required: false,
      schema: { type: 'string' },
    })),
  ];
  const body = operation.body;
  return {
    summary: operation.summary,
    ...(operation.auth === 'none' ? { security: [] } : {}),
    ...(operation.auth === 'basic' ? { security: [{ basic: [] }] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body
      ? {
          requestBody: {
            required: true,
            content: body.includes('/')
              ? { [body]: { schema: { type: 'string' } } }
              : { 'application/json': { schema: ref(body) } },
          },
        }
      : {}),
    responses: Object.fromEntries(
      Object.entries(operation.responses).map(([status, answer]) => [status, answerOf(answer)]),
    ),
  };
}

/** The OpenAPI 3.1 document: the route table above, its schemas generated from the handlers' zod schemas. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [key, operation] of Object.entries(operations)) {
    const [method = '', path = ''] = key.split(' ');
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = operationOf(path, operation);
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
      schemas: { ...components(responseSchemas, 'output'), ...components(requestSchemas, 'input') },
    },
    security: [{ bearer: [] }],
    paths,
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
