import { describe, expect, it } from 'vitest';
import { harness, openSession, running, trickleFragment } from './testing/fake-engine.js';

const HOST = 'candidate:1 1 UDP 2122252543 127.0.0.1 50000 typ host';
const SRFLX = 'candidate:2 1 UDP 1686052607 127.0.0.1 50001 typ srflx raddr 0.0.0.0 rport 0';

function patch(url: string, body: string, headers: Record<string, string> = {}) {
  return {
    url,
    init: {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', ...headers },
      body,
    },
  };
}

describe('PATCH on a WHEP session', () => {
  it('forwards trickled candidates to the peer and answers 204 without body or ETag', async () => {
    const h = harness();
    const { url, etag } = await openSession(h);
    const req = patch(url, trickleFragment([HOST, SRFLX]), { 'If-Match': etag });

    const res = await h.routes.request(req.url, req.init);

    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(res.headers.get('etag')).toBeNull();
    expect(h.peers[0]?.candidates).toEqual([HOST, SRFLX]);
  });

  it('accepts a trickle without If-Match, as the medooze whip-whep client sends it', async () => {
    const h = harness();
    const { url } = await openSession(h);
    const req = patch(url, trickleFragment([HOST]));

    const res = await h.routes.request(req.url, req.init);

    expect(res.status).toBe(204);
    expect(h.peers[0]?.candidates).toEqual([HOST]);
  });

  it('answers 428 to a trickle without If-Match when If-Match is required', async () => {
    const h = harness({ requireIfMatchForTrickle: true });
    const { url } = await openSession(h);
    const req = patch(url, trickleFragment([HOST]));

    const res = await h.routes.request(req.url, req.init);

    expect(res.status).toBe(428);
    expect(h.peers[0]?.candidates).toEqual([]);
  });

  it('answers 412 to a trickle whose If-Match is not the session ETag', async () => {
    const h = harness();
    const { url } = await openSession(h);
    const req = patch(url, trickleFragment([HOST]), { 'If-Match': '"stale"' });

    const res = await h.routes.request(req.url, req.init);

    expect(res.status).toBe(412);
    expect(h.peers[0]?.candidates).toEqual([]);
  });

  it('treats a weak entity-tag as not matching', async () => {
    const h = harness();
    const { url, etag } = await openSession(h);
    const req = patch(url, trickleFragment([HOST]), { 'If-Match': `W/${etag}` });

    expect((await h.routes.request(req.url, req.init)).status).toBe(412);
  });

  it('accepts a trickle with If-Match "*"', async () => {
    const h = harness();
    const { url } = await openSession(h);
    const req = patch(url, trickleFragment([HOST]), { 'If-Match': '*' });

    expect((await h.routes.request(req.url, req.init)).status).toBe(204);
  });

  it('still answers 204 when the peer cannot use one of the candidates', async () => {
    const h = harness();
    const { url } = await openSession(h);
    const bad = 'candidate:3 1 UDP 1 unresolvable.invalid 9 typ host';
    const req = patch(url, trickleFragment([bad, HOST]));

    const res = await h.routes.request(req.url, req.init);

    expect(res.status).toBe(204);
    expect(h.peers[0]?.candidates).toEqual([HOST]);
  });

  it('answers 428 to an ICE restart without If-Match', async () => {
    const h = harness();
    const { url } = await openSession(h);
    const req = patch(url, trickleFragment([HOST], 'newu', 'newpassword'));

    expect((await h.routes.request(req.url, req.init)).status).toBe(428);
  });

  it('answers 412 to an ICE restart with a stale If-Match', async () => {
    const h = harness();
    const { url } = await openSession(h);
    const req = patch(url, trickleFragment([HOST], 'newu', 'newpassword'), { 'If-Match': '"old"' });

    expect((await h.routes.request(req.url, req.init)).status).toBe(412);
  });

  it('answers 422 to an ICE restart the peer cannot do, and keeps the session', async () => {
    const h = harness();
    const { url } = await openSession(h);
    const req = patch(url, trickleFragment([HOST], 'newu', 'newpassword'), { 'If-Match': '*' });

    const res = await h.routes.request(req.url, req.init);

    expect(res.status).toBe(422);
    expect(((await res.json()) as { details: string[] }).details).toEqual(['ICE_RESTART_UNSUPPORTED']);
    expect(h.peers[0]?.state).not.toBe('closed');
    expect(h.peers[0]?.candidates).toEqual([]);
    expect((await h.routes.request(url, { method: 'DELETE' })).status).toBe(200);
  });

  it('answers 415 with Accept-Patch to a body that is not a trickle-ice-sdpfrag', async () => {
    const h = harness();
    const { url } = await openSession(h);

    const res = await h.routes.request(url, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/sdp' },
      body: trickleFragment([HOST]),
    });

    expect(res.status).toBe(415);
    expect(res.headers.get('accept-patch')).toBe('application/trickle-ice-sdpfrag');
  });

  it.each([
    ['a line that is not an SDP line', 'a=ice-ufrag:zjkk\r\nnot sdp\r\n'],
    ['an ice-ufrag without ice-pwd', 'a=ice-ufrag:other\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n'],
    ['binary content', '\u0000\u0001'],
  ])('answers 400 to a fragment with %s', async (_why, body) => {
    const h = harness();
    const { url } = await openSession(h);
    const req = patch(url, body);

    const res = await h.routes.request(req.url, req.init);

    expect(res.status).toBe(400);
    expect(((await res.json()) as { details: string[] }).details).toEqual(['INVALID_SDPFRAG']);
  });

  it('answers 413 to a fragment over the body limit', async () => {
    const h = harness({ maxBodyBytes: 2048 });
    const { url } = await openSession(h);
    const req = patch(url, trickleFragment(Array.from({ length: 100 }, () => HOST)));

    expect((await h.routes.request(req.url, req.init)).status).toBe(413);
  });

  it('answers 404 for an unknown session and for a session of another process', async () => {
    const h = harness();
    h.processes.set('other', running(h.processes.get('cam')!.source!));
    const { url } = await openSession(h);
    const unknown = patch(url.replace(/[^/]+$/, 'nope'), trickleFragment([HOST]));
    const crossed = patch(url.replace('/cam/', '/other/'), trickleFragment([HOST]));

    expect((await h.routes.request(unknown.url, unknown.init)).status).toBe(404);
    expect((await h.routes.request(crossed.url, crossed.init)).status).toBe(404);
  });
});
