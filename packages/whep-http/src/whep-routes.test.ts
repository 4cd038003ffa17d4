import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { InvalidWhepOptionsError } from './errors.js';
import {
  FakeSource,
  harness,
  OFFER,
  openSession,
  postOffer,
  running,
  trickleFragment,
  URL_BASE,
} from './testing/fake-engine.js';
import { createWhepRoutes } from './whep-routes.js';

describe('WHEP session lifetime', () => {
  it('deletes a session with 200, closes its peer, and answers 404 the second time', async () => {
    const h = harness();
    const { url } = await openSession(h);

    const first = await h.routes.request(url, { method: 'DELETE' });
    const second = await h.routes.request(url, { method: 'DELETE' });

    expect(first.status).toBe(200);
    expect(h.peers[0]?.closeCalls).toBe(1);
    expect(h.peers[0]?.listenerCount).toBe(0);
    expect(h.sessions.count()).toBe(0);
    expect(second.status).toBe(404);
  });

  it('ignores If-Match on DELETE', async () => {
    const h = harness();
    const { url } = await openSession(h);

    const res = await h.routes.request(url, { method: 'DELETE', headers: { 'If-Match': '"whatever"' } });

    expect(res.status).toBe(200);
  });

  it('drops a session whose peer closed by itself', async () => {
    const h = harness();
    const { url } = await openSession(h);

    h.peers[0]?.emitClosed('ice failed');

    expect(h.sessions.count('cam')).toBe(0);
    expect((await h.routes.request(url, { method: 'DELETE' })).status).toBe(404);
    expect(h.peers[0]?.closeCalls).toBe(0);
  });

  it('closes the sessions of one process with closeAll and leaves the others', async () => {
    const h = harness();
    h.processes.set('other', running());
    const a = await openSession(h);
    await openSession(h);
    const b = await openSession(h, 'other');

    const closed = h.sessions.closeAll('cam');

    expect(closed).toBe(2);
    expect(h.peers.map((p) => p.state)).toEqual(['closed', 'closed', 'new']);
    expect(h.sessions.count('cam')).toBe(0);
    expect(h.sessions.count('other')).toBe(1);
    expect((await h.routes.request(a.url, { method: 'DELETE' })).status).toBe(404);
    expect((await h.routes.request(b.url, { method: 'DELETE' })).status).toBe(200);
  });

  it('lists open sessions with their process, client address, start and bytes sent', async () => {
    const h = harness({ clientAddress: () => '192.0.2.7' });
    const before = Date.now();
    const { url } = await openSession(h);
    h.peers[0]!.bytesSent = 1234;

    const [session, ...others] = h.sessions.list();

    expect(others).toEqual([]);
    expect(session).toMatchObject({ processId: 'cam', remote: '192.0.2.7', bytesSent: 1234 });
    expect(url.endsWith(`/${session?.id}`)).toBe(true);
    expect(session?.createdAt.getTime()).toBeGreaterThanOrEqual(before);
    await h.routes.request(url, { method: 'DELETE' });
    expect(h.sessions.list()).toEqual([]);
  });

  it("lists an adaptive viewer's rendition, link estimate, loss and switches", async () => {
    const h = harness();
    await openSession(h);
    await openSession(h);
    h.peers[0]!.adapting = { rendition: '360p', estimateBps: 550_000, loss: 0.04, switches: 3 };

    const [adaptive, fixed] = h.sessions.list();

    expect(adaptive).toMatchObject({ rendition: '360p', estimateBps: 550_000, loss: 0.04, switches: 3 });
    expect(fixed).not.toHaveProperty('rendition');
  });

  it('gives one session of its own process by id, and nothing for another process or an unknown id', async () => {
    const h = harness();
    h.processes.set('other', running());
    const { url } = await openSession(h);
    h.peers[0]!.adapting = { rendition: 'audio', estimateBps: 120_000, loss: 0, switches: 1 };
    const id = url.split('/').pop()!;

    expect(h.sessions.get('cam', id)).toMatchObject({
      id,
      processId: 'cam',
      rendition: 'audio',
      switches: 1,
    });
    expect(h.sessions.get('other', id)).toBeUndefined();
    expect(h.sessions.get('cam', 'not-a-session')).toBeUndefined();
  });

  it('closes every session with closeAll and no process id', async () => {
    const h = harness();
    h.processes.set('other', running());
    await openSession(h);
    await openSession(h, 'other');

    expect(h.sessions.closeAll()).toBe(2);
    expect(h.sessions.count()).toBe(0);
  });
});

describe('GET, HEAD and OPTIONS', () => {
  it('answers GET and HEAD on the endpoint with 200, Content-Type application/sdp and no body', async () => {
    const h = harness();

    const get = await h.routes.request(`${URL_BASE}/cam/whep`);
    const head = await h.routes.request(`${URL_BASE}/cam/whep`, { method: 'HEAD' });

    for (const res of [get, head]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/sdp');
      expect(await res.text()).toBe('');
    }
  });

  it('answers GET on the endpoint of an unknown process with 404', async () => {
    expect((await harness().routes.request(`${URL_BASE}/nope/whep`)).status).toBe(404);
  });

  it('answers GET and HEAD on a session with 204, and 404 for an unknown one', async () => {
    const h = harness();
    const { url } = await openSession(h);

    const get = await h.routes.request(url);
    const head = await h.routes.request(url, { method: 'HEAD' });
    const unknown = await h.routes.request(`${URL_BASE}/cam/whep/nope`);

    expect(get.status).toBe(204);
    expect(await get.text()).toBe('');
    expect(head.status).toBe(204);
    expect(unknown.status).toBe(404);
  });

  it('answers a CORS preflight on the endpoint with 200 and Accept-Post, without a token', async () => {
    const h = harness({ token: 'secret' });

    const res = await h.routes.request(`${URL_BASE}/cam/whep`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://player.test', 'Access-Control-Request-Method': 'POST' },
    });

    expect(res.status).toBe(200);
    expect(res.headers.get('accept-post')).toBe('application/sdp');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toBe('POST, PATCH, DELETE, GET, HEAD, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type, If-Match');
    expect(res.headers.get('access-control-expose-headers')).toContain('Location, ETag, Link');
  });

  it('answers a CORS preflight on a session with Accept-Patch', async () => {
    const res = await harness().routes.request(`${URL_BASE}/cam/whep/any`, { method: 'OPTIONS' });

    expect(res.status).toBe(200);
    expect(res.headers.get('accept-patch')).toBe('application/trickle-ice-sdpfrag');
  });

  it('puts the CORS headers on actual responses, errors included', async () => {
    const h = harness();

    const created = await postOffer(h, 'cam', { Origin: 'http://player.test' });
    const missing = await postOffer(h, 'nope', { Origin: 'http://player.test' });

    for (const res of [created, missing]) {
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-expose-headers')).toContain('Location, ETag, Link');
    }
  });

  it('echoes a listed origin and leaves out an unlisted one', async () => {
    const h = harness({ corsOrigin: ['http://player.test'] });

    const listed = await postOffer(h, 'cam', { Origin: 'http://player.test' });
    const unlisted = await postOffer(h, 'cam', { Origin: 'http://evil.test' });

    expect(listed.headers.get('access-control-allow-origin')).toBe('http://player.test');
    expect(listed.headers.get('vary')).toContain('Origin');
    expect(unlisted.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers any origin with * when the list names *', async () => {
    const h = harness({ corsOrigin: ['*'] });

    const res = await postOffer(h, 'cam', { Origin: 'http://player.test' });

    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('answers 405 with Allow to methods the resources do not have', async () => {
    const h = harness();
    const { url } = await openSession(h);

    const put = await h.routes.request(`${URL_BASE}/cam/whep`, { method: 'PUT' });
    const post = await h.routes.request(url, { method: 'POST' });

    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('POST, GET, HEAD, OPTIONS');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('PATCH, DELETE, GET, HEAD, OPTIONS');
  });
});

describe('bearer tokens', () => {
  it('answers 401 with WWW-Authenticate without a token or with a wrong one', async () => {
    const h = harness({ token: 'secret' });

    const none = await postOffer(h);
    const wrong = await postOffer(h, 'cam', { Authorization: 'Bearer nope' });
    const basic = await postOffer(h, 'cam', { Authorization: 'Basic c2VjcmV0' });

    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(basic.status).toBe(401);
    expect(h.peers).toHaveLength(0);
  });

  it('accepts the global token, whatever the case of the scheme', async () => {
    const res = await postOffer(harness({ token: 'secret' }), 'cam', { Authorization: 'bearer secret' });
    expect(res.status).toBe(201);
  });

  it('accepts a per-process token or the global one for that process', async () => {
    const h = harness({ token: 'global' });
    h.processes.set('cam', running(new FakeSource(), { token: 'cam-token' }));

    expect((await postOffer(h, 'cam', { Authorization: 'Bearer cam-token' })).status).toBe(201);
    expect((await postOffer(h, 'cam', { Authorization: 'Bearer global' })).status).toBe(201);
    expect((await postOffer(h, 'cam')).status).toBe(401);
  });

  it('requires a per-process token even without a global one', async () => {
    const h = harness();
    h.processes.set('cam', running(new FakeSource(), { token: 'cam-token' }));

    expect((await postOffer(h)).status).toBe(401);
    expect((await postOffer(h, 'cam', { Authorization: 'Bearer cam-token' })).status).toBe(201);
  });

  it('answers 401, not 404, for an unknown process when a token is configured', async () => {
    expect((await postOffer(harness({ token: 'secret' }), 'nope')).status).toBe(401);
  });

  it('guards PATCH, DELETE and GET on a session with the token too', async () => {
    const h = harness({ token: 'secret' });
    const { url } = await openSession(h, 'cam', { Authorization: 'Bearer secret' });
    const trickle = {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/trickle-ice-sdpfrag' },
      body: trickleFragment([]),
    };

    expect((await h.routes.request(url, trickle)).status).toBe(401);
    expect((await h.routes.request(url, { method: 'DELETE' })).status).toBe(401);
    expect((await h.routes.request(url)).status).toBe(401);
    expect(h.sessions.count()).toBe(1);
  });
});

describe('authorize, for routes of the app', () => {
  it("applies the WHEP routes' token rule to a route of the app's own", async () => {
    const h = harness({ token: 'global', concealProcessIds: true });
    h.processes.set('cam', running(new FakeSource(), { token: 'cam-token' }));
    const { routes, authorize } = createWhepRoutes<FakeSource>({
      lookup: (id) => h.processes.get(id),
      createPeer: async () => {
        throw new Error('unused');
      },
      token: 'global',
    });
    const app = new Hono();
    app.onError((error, c) => ('getResponse' in error ? error.getResponse() : c.text('error', 500)));
    app.get('/status/:id', (c) => {
      const entry = authorize(c, c.req.param('id'));
      return entry ? c.json({ state: entry.state }) : c.json({ unknown: true }, 404);
    });
    app.route('/', routes);
    const status = (id: string, token?: string) =>
      app.request(
        `http://localhost/status/${id}`,
        token ? { headers: { Authorization: `Bearer ${token}` } } : {},
      );

    expect((await status('cam')).status).toBe(401);
    expect(await (await status('cam', 'cam-token')).json()).toEqual({ state: 'running' });
    expect((await status('nope')).status).toBe(401);
    expect((await status('nope', 'global')).status).toBe(404);
  });
});

describe('options', () => {
  it('refuses invalid options with a readable error', () => {
    expect(() =>
      createWhepRoutes({
        lookup: () => undefined,
        createPeer: async () => {
          throw new Error('unused');
        },
        iceServers: [{ urls: 'http://not-ice' }],
        maxBodyBytes: 0,
      }),
    ).toThrow(InvalidWhepOptionsError);
  });
});

describe('mounting the routes in another app', () => {
  it('serves WHEP under the app without touching its other routes', async () => {
    const h = harness();
    const app = new Hono();
    app.get('/ping', (c) => c.text('pong'));
    app.route('/', h.routes);

    const ping = await app.request('http://localhost/ping');
    const offer = await app.request(`${URL_BASE}/cam/whep`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Origin: 'http://player.test' },
      body: OFFER,
    });
    const missing = await app.request(`${URL_BASE}/nope/whep`, { method: 'POST', body: OFFER });

    expect(await ping.text()).toBe('pong');
    expect(ping.headers.get('access-control-allow-origin')).toBeNull();
    expect(offer.status).toBe(201);
    expect(offer.headers.get('access-control-allow-origin')).toBe('*');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { details: string[] }).details).toEqual(['PROCESS_NOT_FOUND']);
  });

  it('serves the routes under a custom basePath', async () => {
    const h = harness({ basePath: '/whep' });

    const res = await h.routes.request('http://localhost/whep/cam/whep', {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: OFFER,
    });

    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toMatch(/^\/whep\/cam\/whep\/[\w-]+$/);
  });
});
