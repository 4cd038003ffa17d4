import {
  IcePortsExhaustedError,
  InvalidSdpError,
  NoUsableCodecError,
  SourceClosedError,
} from '@dragon/webrtc';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import {
  ANSWER,
  FakeSource,
  harness,
  OFFER,
  openSession,
  postOffer,
  running,
  URL_BASE,
} from './testing/fake-engine.js';

async function errorBody(res: Response) {
  return (await res.json()) as { code: number; message: string; details: string[] };
}

describe('POST on the WHEP endpoint', () => {
  it('answers an offer with 201, the answer, a Location, a strong ETag and the ICE server links', async () => {
    const h = harness({
      iceServers: [
        { urls: 'stun:127.0.0.1:3478' },
        {
          urls: ['turn:127.0.0.1:3478?transport=udp', 'turns:127.0.0.1:5349'],
          username: 'u',
          credential: 'p',
        },
      ],
    });

    const res = await postOffer(h);

    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/sdp');
    expect(await res.text()).toBe(ANSWER);
    expect(res.headers.get('location')).toMatch(/^\/api\/v3\/process\/cam\/whep\/[A-Za-z0-9_-]{22}$/);
    expect(res.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(res.headers.get('link')).toBe(
      '<stun:127.0.0.1:3478>; rel="ice-server", ' +
        '<turn:127.0.0.1:3478?transport=udp>; rel="ice-server"; username="u"; credential="p"; credential-type="password", ' +
        '<turns:127.0.0.1:5349>; rel="ice-server"; username="u"; credential="p"; credential-type="password"',
    );
    expect(h.peers[0]?.offerSdp).toBe(OFFER);
    expect(h.sessions.count('cam')).toBe(1);
  });

  it('gives every session its own id and ETag', async () => {
    const h = harness();

    const first = await postOffer(h);
    const second = await postOffer(h);

    expect(first.headers.get('location')).not.toBe(second.headers.get('location'));
    expect(first.headers.get('etag')).not.toBe(second.headers.get('etag'));
    expect(h.sessions.count()).toBe(2);
  });

  it('sends no Link header when no ICE server is configured', async () => {
    const res = await postOffer(harness());
    expect(res.headers.get('link')).toBeNull();
  });

  it('answers 404 for a process the lookup does not know (unknown, or WebRTC off)', async () => {
    const h = harness();

    const unknown = await postOffer(h, 'nope');

    expect(unknown.status).toBe(404);
    expect(await errorBody(unknown)).toMatchObject({ code: 404, details: ['PROCESS_NOT_FOUND'] });
    expect(h.peers).toHaveLength(0);
  });

  it('answers 409 with the short Retry-After while the process starts or has no media yet', async () => {
    const h = harness({ retryAfterSeconds: 3 });
    const waiting = new FakeSource();
    waiting.hasMedia = false;
    h.processes.set('starting', { state: 'starting' });
    h.processes.set('no-media', running(waiting));

    for (const id of ['starting', 'no-media']) {
      const res = await postOffer(h, id);
      expect(res.status).toBe(409);
      expect(res.headers.get('retry-after')).toBe('3');
      expect(await errorBody(res)).toMatchObject({ code: 409, details: ['PROCESS_STARTING'] });
    }
    expect(h.peers).toHaveLength(0);
  });

  it('answers 503 with the longer Retry-After and a generic message while the input is failing', async () => {
    const h = harness({ retryAfterSeconds: 3, failingRetryAfterSeconds: 20 });
    // A failing input may still have a source with media from its last good run.
    h.processes.set('cam', { state: 'failing', source: new FakeSource() });

    const res = await postOffer(h);
    const body = await errorBody(res);

    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('20');
    expect(body).toEqual({
      code: 503,
      message: 'The input of process "cam" is failing; retry later',
      details: ['INPUT_FAILING'],
    });
    expect(h.peers).toHaveLength(0);
  });

  it('answers 409 without Retry-After for a stopped process', async () => {
    const h = harness();
    h.processes.set('cam', { state: 'stopped' });

    const res = await postOffer(h);

    expect(res.status).toBe(409);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(await errorBody(res)).toMatchObject({ details: ['PROCESS_STOPPED'] });
  });

  it('tells where a process stands only to a client that passed the token check', async () => {
    const h = harness({ token: 'secret' });
    h.processes.set('cam', { state: 'stopped' });
    h.processes.set('broken', { state: 'failing' });

    for (const id of ['cam', 'broken', 'nope']) {
      const anonymous = await postOffer(h, id);
      expect(anonymous.status).toBe(401);
      expect(await errorBody(anonymous)).toMatchObject({ details: ['UNAUTHORIZED'] });
    }
    expect((await postOffer(h, 'cam', { Authorization: 'Bearer secret' })).status).toBe(409);
    expect((await postOffer(h, 'broken', { Authorization: 'Bearer secret' })).status).toBe(503);
    expect((await postOffer(h, 'nope', { Authorization: 'Bearer secret' })).status).toBe(404);
  });

  it('answers 415 with Accept-Post for a body that is not application/sdp', async () => {
    const h = harness();

    const json = await postOffer(h, 'cam', { 'Content-Type': 'application/json' });
    const none = await h.routes.request(`${URL_BASE}/cam/whep`, { method: 'POST', body: OFFER });

    expect(json.status).toBe(415);
    expect(json.headers.get('accept-post')).toBe('application/sdp');
    expect(none.status).toBe(415);
    expect(h.peers).toHaveLength(0);
  });

  it('accepts application/sdp with parameters and in any case', async () => {
    const res = await postOffer(harness(), 'cam', { 'Content-Type': 'Application/SDP; charset=utf-8' });
    expect(res.status).toBe(201);
  });

  it('hands the offer text to the engine, which alone judges the SDP', async () => {
    const h = harness();

    const res = await postOffer(h, 'cam', {}, 'not sdp at all');

    expect(res.status).toBe(201);
    expect(h.peers[0]?.offerSdp).toBe('not sdp at all');
  });

  it("asks the engine's checkOffer first: a malformed offer is 400 even while the process has no media", async () => {
    const checked: string[] = [];
    const h = harness({
      checkOffer: (offerSdp) => {
        checked.push(offerSdp);
        throw new InvalidSdpError('it does not start with v=0');
      },
    });
    h.processes.get('cam')!.source!.hasMedia = false;

    const res = await postOffer(h, 'cam', {}, 'not sdp at all');

    expect(res.status).toBe(400);
    expect(await errorBody(res)).toMatchObject({ code: 400, details: ['INVALID_SDP'] });
    expect(checked).toEqual(['not sdp at all']);
    expect(h.peers).toHaveLength(0);
  });

  it('answers 400 for a body that is not valid UTF-8', async () => {
    const h = harness();
    const bytes = new Uint8Array([0x76, 0x3d, 0x30, 0x0d, 0x0a, 0xff, 0xfe, 0x6d, 0x3d]);

    const res = await h.routes.request(`${URL_BASE}/cam/whep`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: bytes,
    });

    expect(res.status).toBe(400);
    expect(h.peers).toHaveLength(0);
  });

  it.each([
    ['INVALID_SDP', 400, new InvalidSdpError('it has no usable m= line')],
    ['NO_USABLE_CODEC', 422, new NoUsableCodecError(['VP8/90000'])],
    ['ICE_PORTS_EXHAUSTED', 503, new IcePortsExhaustedError()],
  ])('answers the engine failure %s with %i', async (code, status, failure) => {
    const h = harness();
    h.failWith = failure;

    const res = await postOffer(h);

    expect(res.status).toBe(status);
    expect(await errorBody(res)).toMatchObject({ code: status, details: [code] });
    if (status === 503) expect(res.headers.get('retry-after')).toBe('5');
    expect(h.sessions.count()).toBe(0);
  });

  it("keeps a library's exception text out of the answer and in the log", async () => {
    const logged: object[] = [];
    const logger = { debug() {}, warn() {}, error() {}, info: (obj: object) => logged.push(obj) };
    const h = harness({ logger });
    const internal = new TypeError("Cannot read properties of undefined (reading 'codecs')");
    h.failWith = new InvalidSdpError('the WebRTC stack could not apply it', { cause: internal });

    const res = await postOffer(h);
    const body = await errorBody(res);

    expect(res.status).toBe(400);
    expect(body.message).toBe('The SDP offer cannot be used: the WebRTC stack could not apply it');
    expect(JSON.stringify(body)).not.toContain('codecs');
    expect(logged).toEqual([
      {
        processId: 'cam',
        status: 400,
        code: 'INVALID_SDP',
        reason:
          "invalid SDP offer: the WebRTC stack could not apply it: Cannot read properties of undefined (reading 'codecs')",
      },
    ]);
    expect((h.failWith as Error).cause).toBe(internal);
  });

  it('logs refused offers as one short line each, no stack trace, at most one per code in 10 s', async () => {
    const lines: { level: string; line: object; msg: string }[] = [];
    const record = (level: string) => (line: object, msg: string) => lines.push({ level, line, msg });
    const logger = { debug() {}, info: record('info'), warn: record('warn'), error: record('error') };
    const h = harness({ logger });
    h.failWith = new NoUsableCodecError(['VP8/90000']);

    for (let offer = 0; offer < 20; offer++) expect((await postOffer(h)).status).toBe(422);
    for (let offer = 0; offer < 20; offer++) expect((await postOffer(h, 'nope')).status).toBe(404);
    h.failWith = new IcePortsExhaustedError();
    expect((await postOffer(h)).status).toBe(503);

    expect(lines.map(({ level, line }) => [level, (line as { code: string }).code])).toEqual([
      ['info', 'NO_USABLE_CODEC'],
      ['info', 'PROCESS_NOT_FOUND'],
      ['warn', 'ICE_PORTS_EXHAUSTED'],
    ]);
    for (const { line, msg } of lines) {
      expect(msg).toBe('whep offer refused');
      expect(JSON.stringify(line).length).toBeLessThan(300);
      expect(JSON.stringify(line)).not.toMatch(/stack|\n/);
    }
  });

  it("hands any other engine failure unchanged to the host app's onError", async () => {
    const h = harness();
    const failure = new Error('secret internal detail');
    h.failWith = failure;
    const seen: Error[] = [];
    const app = new Hono();
    app.onError((error, c) => {
      seen.push(error);
      return c.json({ code: 500, message: 'Internal server error', details: [] }, 500);
    });
    app.route('/', h.routes);

    const res = await app.request(`${URL_BASE}/cam/whep`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: OFFER,
    });

    expect(res.status).toBe(500);
    expect(seen).toEqual([failure]);
    expect(h.sessions.count()).toBe(0);
  });

  it('names the codecs an offer had when none is usable', async () => {
    const h = harness();
    h.failWith = new NoUsableCodecError(['VP8/90000', 'AV1/90000']);

    const body = await errorBody(await postOffer(h));

    expect(body.message).toContain('offered: VP8/90000, AV1/90000');
  });

  it('answers with where the process stands when its source closed while the offer was answered', async () => {
    const h = harness();
    h.duringCreate = () => h.processes.set('cam', { state: 'stopped' });
    h.failWith = new SourceClosedError('cam');

    const res = await postOffer(h);

    expect(res.status).toBe(409);
    expect(await errorBody(res)).toMatchObject({ details: ['PROCESS_STOPPED'] });
    expect(h.sessions.count()).toBe(0);
  });

  it('answers 413 from Content-Length alone for a body over the limit', async () => {
    const h = harness({ maxBodyBytes: 100 });

    const res = await postOffer(h, 'cam', { 'Content-Length': '101' }, OFFER.slice(0, 101));

    expect(res.status).toBe(413);
    expect(h.peers).toHaveLength(0);
  });

  it('answers 413 while reading a streamed body that passes the limit', async () => {
    const h = harness({ maxBodyBytes: 1024 });
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        if (pulled > 1000) controller.close();
        else controller.enqueue(new TextEncoder().encode('a=x\r\n'.repeat(20)));
      },
    });

    const res = await h.routes.request(`${URL_BASE}/cam/whep`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body,
      duplex: 'half',
    } as RequestInit);

    expect(res.status).toBe(413);
    expect(pulled).toBeLessThan(1000);
  });

  it('answers 503 with Retry-After when the process viewer limit is reached', async () => {
    const h = harness();
    h.processes.set('cam', running(new FakeSource(), { maxViewers: 1 }));
    h.processes.set('other', running());
    await openSession(h);

    const full = await postOffer(h);
    const other = await postOffer(h, 'other');

    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('5');
    expect(await errorBody(full)).toMatchObject({ details: ['VIEWER_LIMIT_REACHED'] });
    expect(other.status).toBe(201);
  });

  it('answers 503 when the server-wide viewer limit is reached', async () => {
    const h = harness({ maxViewers: 1 });
    h.processes.set('other', running());
    await openSession(h);

    const res = await postOffer(h, 'other');

    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
  });

  it('counts offers still being answered against the viewer limit', async () => {
    const h = harness({ maxViewers: 1 });
    let during = -1;
    h.duringCreate = () => {
      during = h.sessions.count();
    };

    await openSession(h);

    expect(during).toBe(1);
    expect(h.sessions.count()).toBe(1);
  });

  it('answers 409 and closes the new peer when the process stopped while the answer was made', async () => {
    const h = harness();
    h.duringCreate = () => h.processes.set('cam', { state: 'stopped' });

    const res = await postOffer(h);

    expect(res.status).toBe(409);
    expect(await errorBody(res)).toMatchObject({ details: ['PROCESS_STOPPED'] });
    expect(h.peers[0]?.state).toBe('closed');
    expect(h.sessions.count()).toBe(0);
  });

  it('answers 429 with Retry-After when one address sends too many offers', async () => {
    const h = harness({
      rateLimit: { windowMs: 60_000, maxOffers: 2 },
      clientAddress: (c) => c.req.header('x-test-address') ?? 'unknown',
    });
    const from = (address: string) => postOffer(h, 'cam', { 'X-Test-Address': address });

    await from('10.0.0.1');
    await from('10.0.0.1');
    const third = await from('10.0.0.1');
    const otherAddress = await from('10.0.0.2');

    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(otherAddress.status).toBe(201);
    expect(h.peers).toHaveLength(3);
  });

  it('rate-limits by the node socket address by default', async () => {
    const h = harness({ rateLimit: { windowMs: 60_000, maxOffers: 1 } });
    const post = (address: string) =>
      h.routes.request(
        `${URL_BASE}/cam/whep`,
        { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: OFFER },
        { incoming: { socket: { remoteAddress: address } } },
      );

    expect((await post('127.0.0.1')).status).toBe(201);
    expect((await post('127.0.0.1')).status).toBe(429);
    expect((await post('::1')).status).toBe(201);
  });
});
