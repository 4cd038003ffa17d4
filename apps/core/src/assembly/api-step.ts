import { createStaticSiteRoutes } from '@dragon/filesystems';
import { DeclaredRoutes, mediaAnswer } from '@dragon/http-routes';
import { WhepError } from '@dragon/whep-http';
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import { createAboutRoute } from '../api/about-route.js';
import { renderError } from '../api/api-error.js';
import { apiBodyLimitBytes, apiCors, limitBody, loginBodyLimitBytes } from '../api/api-middleware.js';
import type { Auth } from '../api/auth.js';
import { createConfigRoutes } from '../api/config-routes.js';
import { createMetadataRoutes } from '../api/metadata-routes.js';
import { openApiDocument } from '../api/openapi-document.js';
import { createPlayerRoutes } from '../api/player-routes.js';
import { createProcessRoutes } from '../api/process-routes.js';
import { createSwaggerRoutes } from '../api/swagger-routes.js';
import type { Config } from '../config/config-schema.js';
import type { ConfigStore } from '../config/config-store.js';
import { createMetrics } from '../ops/collect-metrics.js';
import { coreVersion } from '../version.js';
import { dataPlaneStatus } from '../webrtc/data-plane.js';
import type { WhipMount } from '../whip/whip-mount.js';
import type { Services } from './services-step.js';
import type { WebRtcParts, Whep } from './webrtc-step.js';

export interface ApiStepOptions {
  config: Config;
  configStore: ConfigStore;
  logger: Logger;
  startedAt: Date;
  requestReload: (() => void) | undefined;
  auth: Auth;
  webrtc: WebRtcParts;
  whep: Whep | undefined;
  /** With `whip.enable`: publishers and their viewers, before the guard; the listing behind it. */
  whip?: WhipMount | undefined;
  services: Services;
}

/** The Prometheus exposition at `/metrics`; per-process series only for a client with API access. */
function metricsRoutes({ services, webrtc, auth, whip }: ApiStepOptions): DeclaredRoutes {
  const metrics = createMetrics({
    manager: services.manager,
    source: (processId) => webrtc.subsystem?.source(processId),
    viewers: (processId) => webrtc.viewers.count(processId),
    dataPlane: webrtc.subsystem?.plane,
    whepViewers: webrtc.subsystem ? () => webrtc.viewers.list() : undefined,
    whipPublications: whip ? () => whip.list() : undefined,
  });
  const declaration = {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (with `metrics.enable_prometheus`); per-process series only with API access',
    auth: 'none',
    responses: { 200: mediaAnswer('Text exposition', 'text/plain') },
  } as const;
  return new DeclaredRoutes().declare(declaration, async (c) => {
    const withProcessIds = await auth.isAuthorized(c);
    return c.body(await metrics.render({ withProcessIds }), 200, { 'Content-Type': metrics.contentType });
  });
}

/** datarhei's `/api/v3` group behind the API guard (in a cluster, answered across nodes). */
function v3Routes({
  configStore,
  requestReload,
  auth,
  webrtc,
  services,
  whip,
}: ApiStepOptions): DeclaredRoutes {
  const { cluster, manager } = services;
  const v3 = new DeclaredRoutes();
  v3.app.use(cluster ? cluster.guard(auth.guard) : auth.guard);
  if (cluster) {
    v3.mount('/', cluster.routes());
    // The same process routes as below, answered across nodes (declared there).
    v3.app.route('/', cluster.processApi());
  }
  const stateExtras = (id: string) => {
    const status = webrtc.subsystem?.status(id);
    return status ? { webrtc: status } : {};
  };
  v3.mount('/', createProcessRoutes(manager, { stateExtras }));
  v3.mount('/', createMetadataRoutes(manager));
  v3.mount('/', createConfigRoutes({ configStore, requestReload }));
  v3.mount('/', services.datarhei.apiRoutes);
  if (whip) v3.mount('/', whip.listing);
  return v3;
}

/**
 * Step three: the HTTP app. Errors render in one place; WHEP (its own token rule) comes before the
 * admin guard; the filesystems come last, since disk is mounted at `/` and falls through when it has
 * no such file. The document at `/api/swagger/doc.json` describes every route declared or
 * documented here.
 */
export function createApi(options: ApiStepOptions): Hono {
  const { config, logger, auth, whep, services } = options;
  const root = new DeclaredRoutes();
  const app = root.app;
  app.onError((error, c) => {
    const response = renderError(error, c);
    // A WHEP 5xx (a viewer limit, a failing input) is an answer, not a failure: the WHEP routes log
    // their refusals themselves, one short line each.
    if (response.status >= 500 && !(error instanceof WhepError)) {
      logger.error({ err: error, path: c.req.path }, 'request failed');
    }
    return response;
  });
  app.notFound((c) => c.json({ code: 404, message: 'Not Found', details: [] }, 404));

  if (whep) {
    // Cluster mode: serve here (pulling if need be) or redirect; session URLs made absolute.
    if (services.cluster) app.use('/api/v3/process/:id/whep', services.cluster.whep());
    app.route('/', whep.routes.routes);
    root.document('/', whep.routes.declarations);
  }
  // WHIP has its own token rules, and its viewers WHEP's: both before the admin guard.
  if (options.whip) {
    app.route('/', options.whip.routes);
    root.document('/', options.whip.declarations);
  }
  root.mount('/', createPlayerRoutes(whep && { routes: whep.routes, subsystem: whep.subsystem }));
  root.declare(
    {
      method: 'get',
      path: '/ping',
      summary: 'Liveness',
      auth: 'none',
      responses: { 200: mediaAnswer('pong', 'text/plain') },
    },
    (c) => c.text('pong'),
  );
  if (config.metrics.enable_prometheus) root.mount('/', metricsRoutes(options));

  app.use('/api/login', limitBody(loginBodyLimitBytes));
  // File uploads (`/api/v3/fs/…`) are bounded by their filesystem's size, not the JSON body limit.
  const jsonBodyLimit = limitBody(apiBodyLimitBytes);
  app.use('/api/*', apiCors(), (c, next) =>
    c.req.path.startsWith('/api/v3/fs/') ? next() : jsonBodyLimit(c, next),
  );
  root.mount('/', auth.routes);
  root.mount(
    '/',
    createAboutRoute({
      auth,
      id: config.id,
      name: config.name,
      startedAt: options.startedAt,
      dragonVersion: coreVersion,
      webrtcEnabled: config.webrtc.enable,
      dataPlane: config.webrtc.enable ? dataPlaneStatus : undefined,
    }),
  );
  // The document of every route declared or documented here; made once, on the first request.
  let document: Record<string, unknown> | undefined;
  root.mount(
    '/',
    createSwaggerRoutes(() => {
      document ??= openApiDocument(root.declarations, coreVersion);
      return document;
    }),
  );

  // Public (the widget) and the file API (its own guard, no JSON body limit) come before the group.
  root.mount('/api/v3', services.publicRoutes);
  root.mount('/api/v3', services.datarhei.fsApiRoutes);
  root.mount('/api/v3', v3Routes(options));
  // A built UI (the Restreamer UI) at `/ui`, as datarhei serves `router.ui_path`.
  if (config.router.ui_path !== '') {
    root.mount(
      '/',
      createStaticSiteRoutes({ root: config.router.ui_path, corsOrigins: config.storage.cors.origins }),
    );
  }
  root.mount('/', services.datarhei.fileRoutes);
  root.declare(
    {
      method: 'get',
      path: '/',
      summary: 'Redirects to the API browser',
      auth: 'none',
      responses: { 302: { description: 'To /api/swagger' } },
    },
    (c) => c.redirect('/api/swagger'),
  );
  return app;
}
