import { HttpError } from '@dragon/http-error';
import { vp8OnlyOffer, waitFor } from '@dragon/test-helpers';
import { SyntheticSender } from '@dragon/test-helpers/werift';
import { PeerFactory, RtpSource } from '@dragon/webrtc';
import { createWhepRoutes } from '@dragon/whep-http';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderError } from './api-error.js';

// The one renderer, fed by the real WHEP routes over the real engine: every failure, whoever
// raised it, becomes datarhei's `{code, message, details}` with its headers and no internal text.

let source: RtpSource;
let sender: SyntheticSender;
const factory = new PeerFactory({ interfaceAddresses: ['127.0.0.1'] });
let failure: Error | undefined;

function app(): Hono {
  const whep = createWhepRoutes({
    lookup: (id) => (id === 'cam' ? { state: 'running', source } : undefined),
    createPeer: (offerSource, offer) => {
      if (failure !== undefined) return Promise.reject(failure);
      return factory.createPeer(offerSource, offer);
    },
  });
  const host = new Hono();
  host.onError(renderError);
  host.route('/', whep.routes);
  host.get('/api/thing', () => {
    throw new HttpError(418, 'A teapot', ['short and stout'], { headers: { 'X-Kind': 'teapot' } });
  });
  return host;
}

const post = (body: string) =>
  app().request('http://localhost/api/v3/process/cam/whep', {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp' },
    body,
  });

beforeAll(async () => {
  source = await RtpSource.open({ id: 'cam', video: { payloadType: 96 } });
  sender = new SyntheticSender({ video: source.videoPort });
  await waitFor('media in the source', () => {
    sender.sendFrame();
    return source.hasMedia;
  });
});
afterAll(async () => {
  sender?.close();
  source?.close();
  await factory.close();
});

describe('errors become HTTP answers in one place', () => {
  it("answers the engine's NoUsableCodecError with 422 and its code", async () => {
    failure = undefined;
    const res = await post(vp8OnlyOffer);

    expect(res.status).toBe(422);
    const body = (await res.json()) as { code: number; message: string; details: string[] };
    expect(body).toMatchObject({ code: 422, details: ['NO_USABLE_CODEC'] });
    expect(body.message).toMatch(/^The offer has no codec this server sends \(.*offered: .*vp8/i);
  });

  it("answers the engine's InvalidSdpError with 400 and the reason written for the client", async () => {
    failure = undefined;
    const res = await post('v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n');
    const body = (await res.json()) as { code: number; message: string; details: string[] };

    expect(res.status).toBe(400);
    expect(body.details).toEqual(['INVALID_SDP']);
    expect(body.message).toMatch(/^The SDP offer cannot be used: /);
  });

  it("keeps a library's exception text out of the answer", async () => {
    failure = new TypeError("Cannot read properties of undefined (reading 'kind')");
    const res = await post(vp8OnlyOffer);
    const text = await res.text();

    expect(res.status).toBe(500);
    expect(JSON.parse(text)).toEqual({ code: 500, message: 'Internal server error', details: [] });
    expect(text).not.toContain('kind');
  });

  it('renders WHEP answers with their headers: 401 with WWW-Authenticate, 405 with Allow', async () => {
    const host = new Hono();
    host.onError(renderError);
    host.route(
      '/',
      createWhepRoutes({
        lookup: () => ({ state: 'stopped' as const }),
        createPeer: () => Promise.reject(new Error('unused')),
        token: 'secret',
      }).routes,
    );

    const unauthorized = await host.request('http://localhost/api/v3/process/cam/whep', { method: 'POST' });
    const notAllowed = await host.request('http://localhost/api/v3/process/cam/whep', { method: 'PUT' });

    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('www-authenticate')).toBe('Bearer realm="whep"');
    expect(unauthorized.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await unauthorized.json()).toEqual({
      code: 401,
      message: 'A bearer token is required',
      details: ['UNAUTHORIZED'],
    });
    expect(notAllowed.status).toBe(405);
    expect(notAllowed.headers.get('allow')).toBe('POST, GET, HEAD, OPTIONS');
  });

  it("renders the API's own errors the same way", async () => {
    const res = await app().request('http://localhost/api/thing');

    expect(res.status).toBe(418);
    expect(res.headers.get('x-kind')).toBe('teapot');
    expect(await res.json()).toEqual({ code: 418, message: 'A teapot', details: ['short and stout'] });
  });
});
