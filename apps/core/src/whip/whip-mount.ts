import { HttpError } from '@dragon/http-error';
import {
  DeclaredRoutes,
  errorAnswer,
  jsonAnswer,
  mediaAnswer,
  named,
  type RouteDeclaration,
} from '@dragon/http-routes';
import {
  checkOffer,
  type FanoutPlane,
  PublisherFactory,
  type PublisherFactoryOptions,
  type RtpSource,
} from '@dragon/webrtc';
import { createWhepRoutes } from '@dragon/whep-http';
import { createWhipRoutes, streamNamePattern } from '@dragon/whip-http';
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { WhepViewerRules } from '../assembly/webrtc-step.js';
import type { Config } from '../config/config-schema.js';
import { playerPage } from '../ops/player-page.js';
import { publishPage } from '../ops/publish-page.js';
import { type PublicationState, Publications } from './publications.js';

export interface WhipMountOptions {
  config: Config;
  plane: FanoutPlane;
  /** The viewers' ICE transport: publishers use the same. */
  transport: PublisherFactoryOptions;
  /**
   * The server's WHEP viewer rules (engine, tokens, limits, client address): viewers of a
   * publication are WHEP viewers like any other.
   */
  viewerRules: WhepViewerRules;
  logger: Logger;
}

export interface WhipMount {
  /** Publishers, viewers of a publication and its player page: mounted before the API's guard. */
  routes: Hono;
  /** What `routes` serves, for the API description. */
  declarations: readonly RouteDeclaration[];
  /** `GET /whip` for the API group (behind its auth): the publications and their viewers. */
  listing: DeclaredRoutes;
  /** What the listing shows, read now (for the metrics). */
  list(): WhipListing[];
  /** A publication's source by stream name (what `{whip,name=…}` reads). */
  source(name: string): RtpSource | undefined;
  close(): Promise<void>;
}

const basePath = '/api/v3/whip';

/** One publication in `GET /api/v3/whip`: its state, who publishes it, its viewers. */
export type WhipListing = PublicationState & {
  publisher?: PublicationState['publisher'] & { address: string; user_agent: string };
  viewers: number;
  session?: { id: string; remote: string; user_agent: string };
};

const pageAnswers = { 200: mediaAnswer('The page', 'text/html'), 404: errorAnswer('Not a stream name') };

const playerPageDeclaration = {
  method: 'get',
  path: '/player/whip/{name}',
  summary: 'A player page for a WHIP publication (WHEP from `/api/v3/whip/{name}/whep`)',
  auth: 'none',
  responses: pageAnswers,
} as const satisfies RouteDeclaration;

const publishPageDeclaration = {
  method: 'get',
  path: '/publish/{name}',
  summary: 'A page that publishes the camera over WHIP to `/api/v3/whip/{name}`',
  auth: 'none',
  responses: pageAnswers,
} as const satisfies RouteDeclaration;

/** One publication of `GET /api/v3/whip`; the fields the listing adds to the publication's state. */
const publicationSchema = z.looseObject({
  name: z.string(),
  viewers: z.number(),
  session: z.object({ id: z.string(), remote: z.string(), user_agent: z.string() }).optional(),
});

const listingDeclaration = {
  method: 'get',
  path: '/whip',
  summary: 'The WHIP publications (with `whip.enable`): their state, publisher session and viewers',
  responses: { 200: jsonAnswer('Publications', named('WhipPublications', z.array(publicationSchema))) },
} as const satisfies RouteDeclaration;

/**
 * WHIP ingest, assembled: publishers at `/api/v3/whip/{name}` (`@dragon/whip-http` over
 * `@dragon/webrtc`'s publisher factory), viewers of a publication at `/api/v3/whip/{name}/whep`
 * (the WHEP routes, a second mount) and `/player/whip/{name}`, and the publish page
 * `/publish/{name}`. Its routes go before the API's guard: both have their own token rules.
 */
export function createWhip(options: WhipMountOptions): WhipMount {
  const { config, logger } = options;
  const publishers = new PublisherFactory(options.transport);
  let viewers: ReturnType<typeof createWhepRoutes<RtpSource>> | undefined;
  const publications = new Publications({
    plane: options.plane,
    publishers,
    logger,
    graceMs: config.whip.reconnect_grace_seconds * 1000,
    onEnded: (name) => viewers?.sessions.closeAll(name),
  });
  const offerLimit =
    config.whip.max_offers_per_minute > 0
      ? { windowMs: 60_000, max: config.whip.max_offers_per_minute }
      : false;
  const whip = createWhipRoutes({
    basePath,
    createPublisher: (offerSdp, { name }) => publications.publish(name, offerSdp),
    checkOffer,
    ...(config.whip.token ? { token: config.whip.token } : {}),
    streamToken: (name) => config.whip.streams[name]?.token || undefined,
    allowAnonymous: config.whip.allow_anonymous,
    onConflict: config.whip.on_conflict,
    maxPublications: config.whip.max_publications,
    offerLimit,
    iceServers: config.webrtc.ice_servers,
    clientAddress: options.viewerRules.clientAddress,
    logger,
  });
  viewers = createWhepRoutes<RtpSource>({
    basePath,
    lookup: (name) => {
      const source = publications.source(name);
      return source === undefined ? undefined : { state: 'running', source };
    },
    ...options.viewerRules,
    logger: logger.child({ component: 'whep' }),
  });
  const viewerRoutes = viewers;
  const routes = new DeclaredRoutes();
  routes.app.route('/', whip.routes);
  routes.document('/', whip.declarations);
  routes.app.route('/', viewerRoutes.routes);
  routes.document('/', viewerRoutes.declarations);
  routes.declare(playerPageDeclaration, (c) => {
    const name = c.req.param('name') ?? '';
    if (!streamNamePattern.test(name)) throw new HttpError(404, 'Not Found');
    return c.html(playerPage(name, { whep: `api/v3/whip/${name}/whep`, status: null }), 200, {
      'Content-Security-Policy': 'frame-ancestors *',
    });
  });
  // Framed like the player (an embedding page grants the camera with its iframe's `allow`).
  routes.declare(publishPageDeclaration, (c) => {
    const name = c.req.param('name') ?? '';
    if (!streamNamePattern.test(name)) throw new HttpError(404, 'Not Found');
    return c.html(publishPage(name), 200, { 'Content-Security-Policy': 'frame-ancestors *' });
  });

  const list = (): WhipListing[] => {
    const sessions = new Map(whip.publications.list().map((info) => [info.name, info]));
    return publications.list().map((publication) => {
      const session = sessions.get(publication.name);
      const { publisher, ...rest } = publication;
      return {
        ...rest,
        // Who publishes, as the RTMP/SRT listings say it: the address the offer came from.
        ...(publisher
          ? {
              publisher: {
                ...publisher,
                address: session?.remote ?? '',
                user_agent: session?.userAgent ?? '',
              },
            }
          : {}),
        viewers: viewerRoutes.sessions.count(publication.name),
        ...(session
          ? {
              session: {
                id: session.sessionId,
                remote: session.remote,
                user_agent: session.userAgent ?? '',
              },
            }
          : {}),
      };
    });
  };
  const listing = new DeclaredRoutes().declare(listingDeclaration, (c) => c.json(list()));

  return {
    routes: routes.app,
    declarations: routes.declarations,
    listing,
    list,
    source: (name) => publications.source(name),
    async close() {
      viewerRoutes.sessions.closeAll();
      whip.publications.closeAll();
      publications.close();
      await publishers.close();
    },
  };
}
