import { InvalidSdpError } from '@dragon/webrtc';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { InvalidWhipOptionsError } from './errors.js';
import { ANSWER, BASE, FakePublisher, harness, OFFER, TOKEN } from './testing/fake-engine.js';
import { createWhipRoutes } from './whip-routes.js';

async function detailsCode(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { details: string[] };
  return body.details[0];
}

describe('WHIP publish (POST)', () => {
  it('answers an offer with 201, the answer, Location, ETag, Accept-Patch and the ICE servers', async () => {
    const h = harness({
      iceServers: [
        { urls: ['stun:stun.example.net'] },
        { urls: 'turn:t.example.net', username: 'u', credential: 'p' },
      ],
    });

    const res = await h.post('cam');

    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/sdp');
    expect(await res.text()).toBe(ANSWER);
    expect(res.headers.get('location')).toMatch(/^\/api\/v3\/whip\/cam\/[A-Za-z0-9_-]{22}$/);
    expect(res.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(res.headers.get('accept-patch')).toBe('application/trickle-ice-sdpfrag');
    expect(res.headers.get('link')).toBe(
      '<stun:stun.example.net>; rel="ice-server", <turn:t.example.net>; rel="ice-server"; username="u"; credential="p"; credential-type="password"',
    );
    expect(h.publications.list()).toMatchObject([{ name: 'cam', publisherId: 'p0', remote: '192.0.2.1' }]);
  });

  it('refuses no token, a wrong token and another stream’s token with 401 and WWW-Authenticate', async () => {
    const h = harness({ streamToken: (name) => (name === 'other' ? 'other-secret' : undefined) });

    const none = await h.post('cam', { token: null });
    const wrong = await h.post('cam', { token: 'nope' });
    const others = await h.post('cam', { token: 'other-secret' });
    const own = await h.post('other', { token: 'other-secret' });
    const global = await h.post('cam', { token: TOKEN });

    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="whip"');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('invalid_token');
    expect(others.status).toBe(401);
    expect(own.status).toBe(201);
    expect(global.status).toBe(201);
    expect(h.publishers.map((p) => p.name)).toEqual(['other', 'cam']);
  });

  it('refuses everybody when no token is configured, unless anonymous publishing is allowed', async () => {
    const closed = harness({ token: undefined });
    const open = harness({ token: undefined, allowAnonymous: true });
    const openWithStreamToken = harness({
      token: undefined,
      allowAnonymous: true,
      streamToken: (name) => (name === 'private' ? 'p' : undefined),
    });

    expect((await closed.post('cam', { token: null })).status).toBe(401);
    expect((await closed.post('cam', { token: 'anything' })).status).toBe(401);
    expect((await open.post('cam', { token: null })).status).toBe(201);
    expect((await openWithStreamToken.post('private', { token: null })).status).toBe(401);
  });

  it('answers 429 after too many refused tokens from one address, even to the right token', async () => {
    const h = harness({ tokenFailureLimit: { windowMs: 60_000, max: 3 } });
    for (let i = 0; i < 3; i += 1) expect((await h.post('cam', { token: 'guess' })).status).toBe(401);

    const res = await h.post('cam');

    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(h.publishers).toHaveLength(0);
  });

  it('answers 429 past the offer rate of one address', async () => {
    const h = harness({ offerLimit: { windowMs: 60_000, max: 2 } });
    await h.post('a');
    await h.post('b');

    const res = await h.post('c');

    expect(res.status).toBe(429);
    expect(await detailsCode(res)).toBe('RATE_LIMITED');
  });

  it('answers 409 to a second publisher of a live name and keeps the first', async () => {
    const h = harness();
    await h.post('cam');

    const res = await h.post('cam');

    expect(res.status).toBe(409);
    expect(await detailsCode(res)).toBe('PUBLICATION_CONFLICT');
    expect(h.publishers).toHaveLength(1);
    expect(h.publishers[0]?.closeCalls).toBe(0);
  });

  it('replaces the first publisher when configured to', async () => {
    const h = harness({ onConflict: 'replace' });
    await h.post('cam');

    const res = await h.post('cam');

    expect(res.status).toBe(201);
    expect(h.publishers[0]?.closeCalls).toBe(1);
    expect(h.publications.list()).toMatchObject([{ name: 'cam', publisherId: 'p1' }]);
  });

  it('replaces a stale publisher under the reject rule: ICE disconnected, or silent for staleAfterMs', async () => {
    const h = harness({ staleAfterMs: 2000 });
    await h.post('cam');
    await h.post('mic');
    h.publishers[0]!.state = 'disconnected';
    h.publishers[1]!.lastMediaAt = Date.now() - 5000;

    const cam = await h.post('cam');
    const mic = await h.post('mic');

    expect(cam.status).toBe(201);
    expect(mic.status).toBe(201);
    expect(h.publishers[0]?.closeCalls).toBe(1);
    expect(h.publishers[1]?.closeCalls).toBe(1);
    expect(h.publications.count()).toBe(2);
  });

  it('keeps the old publisher when the replacing offer is refused', async () => {
    const h = harness({ onConflict: 'replace' });
    await h.post('cam');

    const res = await h.post('cam', { body: 'v=0\r\n' });

    expect(res.status).toBe(400);
    expect(h.publishers[0]?.closeCalls).toBe(0);
    expect(h.publications.get('cam')?.publisher.id).toBe('p0');
  });

  it('answers 503 + Retry-After at the publication limit; a replacement does not count', async () => {
    const h = harness({ maxPublications: 1, onConflict: 'replace', retryAfterSeconds: 7 });
    await h.post('cam');

    const second = await h.post('other');
    const replacement = await h.post('cam');

    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('7');
    expect(await detailsCode(second)).toBe('PUBLICATION_LIMIT_REACHED');
    expect(replacement.status).toBe(201);
  });

  it('holds a name while its offer is answered: a concurrent second offer gets 409', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const h = harness({
      onConflict: 'replace',
      createPublisher: async (_offer, { name }) => {
        await gate;
        return { publisher: new FakePublisher('slow', name), answerSdp: ANSWER };
      },
    });

    const first = h.post('cam');
    const second = await h.post('cam');
    release();

    expect(second.status).toBe(409);
    expect((await first).status).toBe(201);
  });

  it('answers 413 to a body over the limit, declared or streamed', async () => {
    const h = harness({ maxBodyBytes: 1024 });
    const big = 'a'.repeat(70 * 1024);
    const streamed = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 70; i += 1) controller.enqueue(new TextEncoder().encode('a'.repeat(1024)));
        controller.close();
      },
    });

    const declared = await h.post('cam', { body: big });
    const chunked = await h.routes.request(`${BASE}/cam`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${TOKEN}` },
      body: streamed,
      duplex: 'half',
    } as RequestInit);

    expect(declared.status).toBe(413);
    expect(chunked.status).toBe(413);
    expect(h.publishers).toHaveLength(0);
  });

  it('answers hostile offers with 400/415/422 and no engine text', async () => {
    const h = harness({
      checkOffer: (sdp) => {
        if (!sdp.startsWith('v=0')) throw new InvalidSdpError('does not start with v=0');
      },
    });

    const binary = await h.post('cam', { body: new Uint8Array([0xff, 0xfe, 0x00, 0x01]) });
    const noMedia = await h.post('cam', { body: 'v=0\r\ns=-\r\n' });
    const wrongType = await h.post('cam', { headers: { 'Content-Type': 'text/plain' } });
    const badCodec = await h.post('cam', {
      body: 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 theora/90000\r\n',
    });

    expect(binary.status).toBe(400);
    expect(noMedia.status).toBe(400);
    expect(await noMedia.json()).toEqual({
      code: 400,
      message: 'The SDP offer cannot be used: no media section',
      details: ['INVALID_SDP'],
    });
    expect(wrongType.status).toBe(415);
    expect(badCodec.status).toBe(422);
    // The refusal is whep-http's, worded for the way a publisher's media flows.
    expect(((await badCodec.json()) as { message: string }).message).toBe(
      'The offer has no codec this server receives (H.264 packetization-mode=1, VP8, Opus; offered: theora)',
    );
    expect(h.publications.count()).toBe(0);
  });

  it('lets an unexpected engine failure through as a 500 for the app to render without its text', async () => {
    const h = harness();
    h.failNext(new Error('werift internal: cannot read properties of undefined'));
    const app = new Hono();
    app.onError((error, c) =>
      error instanceof HTTPException
        ? error.getResponse()
        : c.json({ message: 'Internal server error' }, 500),
    );
    app.route('/', h.routes);

    const res = await app.request(`${BASE}/cam`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${TOKEN}` },
      body: OFFER,
    });

    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('werift');
    expect(h.publications.count()).toBe(0);
  });

  it('refuses a stream name that is not a path-safe word', async () => {
    const h = harness();

    const res = await h.post('a%20b');

    expect(res.status).toBe(400);
    expect(await detailsCode(res)).toBe('INVALID_STREAM_NAME');
  });
});

describe('WHIP sessions (PATCH, DELETE)', () => {
  async function publish(h: ReturnType<typeof harness>) {
    const res = await h.post('cam');
    return { url: `http://localhost${res.headers.get('location')}`, etag: res.headers.get('etag')! };
  }
  const patch = (
    h: ReturnType<typeof harness>,
    url: string,
    body: string,
    headers: Record<string, string> = {},
  ) =>
    h.routes.request(url, {
      method: 'PATCH',
      headers: {
        'Content-Type': 'application/trickle-ice-sdpfrag',
        Authorization: `Bearer ${TOKEN}`,
        ...headers,
      },
      body,
    });

  it('hands trickled candidates to the publisher (204), skipping ones it cannot use', async () => {
    const h = harness();
    const { url } = await publish(h);

    const res = await patch(
      h,
      url,
      'a=candidate:1 1 udp 1 192.0.2.9 5000 typ host\r\na=candidate:2 1 udp 1 unusable 5001 typ host\r\na=candidate:3 1 udp 1 192.0.2.9 5002 typ host\r\na=end-of-candidates\r\n',
    );

    expect(res.status).toBe(204);
    expect(h.publishers[0]?.candidates).toEqual([
      'candidate:1 1 udp 1 192.0.2.9 5000 typ host',
      'candidate:3 1 udp 1 192.0.2.9 5002 typ host',
    ]);
  });

  const restart = 'a=ice-ufrag:newu\r\na=ice-pwd:newpasswordnewpassword00\r\n';

  it('needs If-Match for an ICE restart (428) and checks it (412), keeping the session', async () => {
    const h = harness();
    const { url } = await publish(h);

    const without = await patch(h, url, restart);
    const mismatched = await patch(h, url, restart, { 'If-Match': '"other"' });

    expect(without.status).toBe(428);
    expect(mismatched.status).toBe(412);
    expect(h.publishers[0]?.restarts).toEqual([]);
    expect(h.publications.count()).toBe(1);
  });

  it("restarts ICE (200): the server's new credentials and candidates as an sdpfrag, and a new ETag", async () => {
    const h = harness();
    const { url, etag } = await publish(h);
    const body = `${restart}a=candidate:1 1 udp 1 192.0.2.9 6000 typ host\r\n`;

    const res = await patch(h, url, body, { 'If-Match': etag });

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/trickle-ice-sdpfrag');
    const newEtag = res.headers.get('etag');
    expect(newEtag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(newEtag).not.toBe(etag);
    expect(await res.text()).toBe(
      'a=ice-ufrag:srv1\r\na=ice-pwd:serverpasswordserverpw1\r\n' +
        'a=candidate:1 1 udp 2130706431 127.0.0.1 40001 typ host\r\na=end-of-candidates\r\n',
    );
    expect(h.publishers[0]?.restarts).toEqual([
      {
        ufrag: 'newu',
        pwd: 'newpasswordnewpassword00',
        candidates: ['candidate:1 1 udp 1 192.0.2.9 6000 typ host'],
      },
    ]);
    // The new credentials are the session's now: sending them again is a trickle, under the new ETag.
    const stale = await patch(h, url, restart, { 'If-Match': etag });
    const trickle = await patch(h, url, restart, { 'If-Match': newEtag! });
    expect(stale.status).toBe(412);
    expect(trickle.status).toBe(204);
    expect(h.publishers[0]?.restarts).toHaveLength(1);
  });

  it('answers bad restart fragments with 400 and no engine text, keeping the session', async () => {
    const h = harness();
    const { url, etag } = await publish(h);
    const ifMatch = { 'If-Match': etag };

    const shortUfrag = await patch(
      h,
      url,
      'a=ice-ufrag:ab\r\na=ice-pwd:newpasswordnewpassword00\r\n',
      ifMatch,
    );
    const shortPwd = await patch(h, url, 'a=ice-ufrag:newu\r\na=ice-pwd:short\r\n', ifMatch);
    const badChars = await patch(
      h,
      url,
      'a=ice-ufrag:new<u>\r\na=ice-pwd:newpasswordnewpassword00\r\n',
      ifMatch,
    );
    const noPwd = await patch(h, url, 'a=ice-ufrag:newu\r\n', ifMatch);
    const garbage = await patch(h, url, 'a=ice-ufrag:newu\r\n\u0000garbage\r\n', ifMatch);
    h.publishers[0]!.restartFailure = new InvalidSdpError('werift: internal detail');
    const refused = await patch(h, url, restart, ifMatch);

    for (const res of [shortUfrag, shortPwd, badChars, noPwd, garbage, refused]) {
      expect(res.status).toBe(400);
      expect(await detailsCode(res)).toBe('INVALID_SDPFRAG');
    }
    expect(await (await patch(h, url, restart, ifMatch)).text()).not.toContain('werift');
    expect(h.publishers[0]?.restarts).toEqual([]);
    expect(h.publishers[0]?.closeCalls).toBe(0);
    expect(h.publications.count()).toBe(1);
    h.publishers[0]!.restartFailure = undefined;
    expect((await patch(h, url, restart, ifMatch)).status).toBe(200);
  });

  it('answers 422 to an ICE restart when the engine cannot restart, keeping the session', async () => {
    const h = harness({
      createPublisher: async (_offer, { name }) => ({
        publisher: Object.assign(new FakePublisher('p0', name), { restartIce: undefined }),
        answerSdp: ANSWER,
      }),
    });
    const { url, etag } = await publish(h);

    const res = await patch(h, url, restart, { 'If-Match': etag });

    expect(res.status).toBe(422);
    expect(h.publications.count()).toBe(1);
  });

  it('needs the publishing token on the session routes', async () => {
    const h = harness();
    const { url } = await publish(h);

    const res = await h.routes.request(url, { method: 'DELETE', headers: { Authorization: 'Bearer nope' } });

    expect(res.status).toBe(401);
    expect(h.publishers[0]?.closeCalls).toBe(0);
  });

  it('ends the publication on DELETE (200), then 404', async () => {
    const h = harness();
    const { url } = await publish(h);
    const del = () =>
      h.routes.request(url, { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } });

    const first = await del();
    const second = await del();

    expect(first.status).toBe(200);
    expect(h.publishers[0]?.closeCalls).toBe(1);
    expect(h.publishers[0]?.listenerCount).toBe(0);
    expect(h.publications.count()).toBe(0);
    expect(second.status).toBe(404);
  });

  it('forgets a publisher that closed by itself, so the name is free again', async () => {
    const h = harness();
    await publish(h);

    h.publishers[0]?.emitClosed('ice-failed');

    expect(h.publications.count()).toBe(0);
    expect((await h.post('cam')).status).toBe(201);
  });

  it('does not take `…/{name}/whep` for a session: that path is left to the WHEP routes', async () => {
    const h = harness();
    await publish(h);
    const app = new Hono();
    app.route('/', h.routes);
    app.post('/api/v3/whip/:name/whep', (c) => c.text(`whep ${c.req.param('name')}`));

    const res = await app.request(`${BASE}/cam/whep`, { method: 'POST' });

    expect(await res.text()).toBe('whep cam');
  });
});

describe('WHIP methods and CORS', () => {
  it('answers OPTIONS with a preflight, Accept-Post on the endpoint and Accept-Patch on a session', async () => {
    const h = harness({ corsOrigin: 'https://app.example' });
    const location = (await h.post('cam')).headers.get('location');

    const endpoint = await h.routes.request(`${BASE}/cam`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example' },
    });
    const session = await h.routes.request(`http://localhost${location}`, { method: 'OPTIONS' });

    expect(endpoint.status).toBe(204);
    expect(endpoint.headers.get('accept-post')).toBe('application/sdp');
    expect(endpoint.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(endpoint.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    expect(endpoint.headers.get('access-control-expose-headers')).toContain('Location');
    expect(session.headers.get('accept-patch')).toBe('application/trickle-ice-sdpfrag');
  });

  it('answers other methods with 405 and Allow', async () => {
    const h = harness();
    const location = (await h.post('cam')).headers.get('location');

    const get = await h.routes.request(`${BASE}/cam`, { method: 'GET' });
    const put = await h.routes.request(`http://localhost${location}`, { method: 'PUT' });

    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('PATCH, DELETE, OPTIONS');
  });

  it('refuses options that do not validate', () => {
    expect(() => createWhipRoutes({ createPublisher: 'no' as never })).toThrow(InvalidWhipOptionsError);
  });
});
