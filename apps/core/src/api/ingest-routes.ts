import { DeclaredRoutes, jsonAnswer, type Named, named } from '@dragon/http-routes';
import { type RtmpServer, rtmpChannelsSchema, type SrtServer, srtChannelsJsonSchema } from '@dragon/ingest';
import type { z } from 'zod';

/** `GET /<path>`: a listing of channels of schema `schema`. */
function channelsRoute(path: string, summary: string, schema: Named, list: () => unknown): DeclaredRoutes {
  const declaration = {
    method: 'get',
    path,
    summary,
    responses: { 200: jsonAnswer('Channels', schema) },
  } as const;
  return new DeclaredRoutes().declare(declaration, (c) => c.json(list()));
}

/** `GET /api/v3/rtmp` and `GET /api/v3/srt`: the channels of the servers that are on. */
export function createIngestRoutes(rtmp: RtmpServer | undefined, srt: SrtServer | undefined): DeclaredRoutes {
  const routes = new DeclaredRoutes();
  if (rtmp) {
    const list = (): z.infer<typeof rtmpChannelsSchema> => rtmp.channels().map((name) => ({ name }));
    routes.mount(
      '/',
      channelsRoute(
        '/rtmp',
        'The channels published to the RTMP server (with `rtmp.enable`)',
        named('RtmpChannels', rtmpChannelsSchema),
        list,
      ),
    );
  }
  if (srt) {
    // datarhei's handler answers one object, though its API description says an array; the
    // Restreamer UI reads `publisher` of the object.
    routes.mount(
      '/',
      channelsRoute(
        '/srt',
        'The channels of the SRT server (with `srt.enable`)',
        named('SrtChannels', srtChannelsJsonSchema),
        () => srt.channelsJson(),
      ),
    );
  }
  return routes;
}
