import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { HttpError } from '@dragon/http-error';
import { DeclaredRoutes, errorAnswer, jsonAnswer, mediaAnswer, named } from '@dragon/http-routes';
import { z } from 'zod';

const swaggerAssets = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js']);
const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** Swagger UI's own files, served from the installed package: the API browser needs no outside host. */
function swaggerAsset(name: string): { body: Buffer; type: string } | undefined {
  if (!swaggerAssets.has(name)) return undefined;
  const type = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
  return { body: readFileSync(join(swaggerDir, name)), type };
}

function swaggerPage(documentUrl: string, assetBase: string): string {
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

/** What `doc.json` answers: an OpenAPI document, checked no further. */
const openApiSchema = z.looseObject({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) });

/**
 * The API browser at `/api/swagger` (datarhei's path) and the document at `/api/swagger/doc.json`.
 * `document` is read per request: it describes the app these routes are mounted in.
 */
export function createSwaggerRoutes(document: () => Record<string, unknown>): DeclaredRoutes {
  return new DeclaredRoutes()
    .declare(
      {
        method: 'get',
        path: '/api/swagger',
        summary: 'The API browser',
        auth: 'none',
        responses: { 200: mediaAnswer('HTML', 'text/html') },
      },
      (c) => c.html(swaggerPage('/api/swagger/doc.json', '/api/swagger/ui')),
    )
    .declare(
      {
        method: 'get',
        path: '/api/swagger/ui/{file}',
        summary: "Swagger UI's own files",
        auth: 'none',
        responses: { 200: mediaAnswer('CSS or JavaScript', 'text/plain'), 404: errorAnswer('No such file') },
      },
      (c) => {
        const asset = swaggerAsset(c.req.param('file') ?? '');
        if (!asset) throw new HttpError(404, 'Not Found');
        return c.body(new Uint8Array(asset.body), 200, {
          'Content-Type': asset.type,
          'Cache-Control': 'max-age=86400',
        });
      },
    )
    .declare(
      {
        method: 'get',
        path: '/api/swagger/doc.json',
        summary: 'This document',
        auth: 'none',
        responses: { 200: jsonAnswer('OpenAPI 3.1', named('OpenApi', openApiSchema)) },
      },
      (c) => c.json(document()),
    );
}
