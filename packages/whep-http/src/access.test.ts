import { describe, expect, it } from 'vitest';
import { FakeSource, harness, postOffer, running, trickleFragment, URL_BASE } from './testing/fake-engine.js';

const from = (address: string, token?: string) => ({
  'X-Test-Address': address,
  ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
});
const byHeader = {
  clientAddress: (c: { req: { header(name: string): string | undefined } }) =>
    c.req.header('x-test-address') ?? 'unknown',
};

async function errorBody(res: Response) {
  return (await res.json()) as { code: number; message: string; details: string[] };
}

describe('refused tokens are limited per client address', () => {
  it('answers 429 with Retry-After once an address had too many tokens refused, whatever it sends then', async () => {
    const h = harness({
      token: 'secret',
      tokenFailureLimit: { windowMs: 60_000, maxFailures: 3 },
      ...byHeader,
    });

    const guesses = [];
    for (const guess of ['a', 'b', 'c'])
      guesses.push((await postOffer(h, 'cam', from('10.0.0.1', guess))).status);
    const fourth = await postOffer(h, 'cam', from('10.0.0.1', 'd'));
    const right = await postOffer(h, 'cam', from('10.0.0.1', 'secret'));
    const otherAddress = await postOffer(h, 'cam', from('10.0.0.2', 'secret'));

    expect(guesses).toEqual([401, 401, 401]);
    expect(fourth.status).toBe(429);
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await errorBody(fourth)).toMatchObject({ details: ['RATE_LIMITED'] });
    expect(right.status).toBe(429);
    expect(otherAddress.status).toBe(201);
  });

  it('counts guesses made with GET, HEAD and on sessions too', async () => {
    const h = harness({
      token: 'secret',
      tokenFailureLimit: { windowMs: 60_000, maxFailures: 3 },
      ...byHeader,
    });
    const endpoint = `${URL_BASE}/cam/whep`;

    const get = await h.routes.request(endpoint, { headers: from('10.0.0.3', 'a') });
    const head = await h.routes.request(endpoint, { method: 'HEAD', headers: from('10.0.0.3', 'b') });
    const patch = await h.routes.request(`${endpoint}/some-session`, {
      method: 'PATCH',
      headers: { ...from('10.0.0.3', 'c'), 'Content-Type': 'application/trickle-ice-sdpfrag' },
      body: trickleFragment([]),
    });
    const next = await h.routes.request(endpoint, { method: 'HEAD', headers: from('10.0.0.3', 'secret') });

    expect([get.status, head.status, patch.status]).toEqual([401, 401, 401]);
    expect(next.status).toBe(429);
    expect(next.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('does not count requests that pass the token check', async () => {
    const h = harness({
      token: 'secret',
      tokenFailureLimit: { windowMs: 60_000, maxFailures: 1 },
      ...byHeader,
    });

    for (let i = 0; i < 5; i++) {
      expect(
        (await h.routes.request(`${URL_BASE}/cam/whep`, { headers: from('10.0.0.4', 'secret') })).status,
      ).toBe(200);
    }
  });

  it('can be turned off', async () => {
    const h = harness({ token: 'secret', tokenFailureLimit: false, ...byHeader });

    for (let i = 0; i < 30; i++)
      expect((await postOffer(h, 'cam', from('10.0.0.5', `guess-${i}`))).status).toBe(401);
  });
});

describe('which process ids exist stays hidden from anonymous clients', () => {
  it('answers an unknown id like a process with a token, while ids are concealed', async () => {
    const h = harness({ concealProcessIds: () => true });
    h.processes.set('cam', running(new FakeSource(), { token: 'cam-token' }));

    const known = await postOffer(h, 'cam');
    const unknown = await postOffer(h, 'nope');
    const unknownWithSomeToken = await postOffer(h, 'nope', { Authorization: 'Bearer cam-token' });

    expect([known.status, unknown.status]).toEqual([401, 401]);
    expect(unknown.headers.get('www-authenticate')).toBe(known.headers.get('www-authenticate'));
    expect(await errorBody(unknown)).toEqual(await errorBody(known));
    expect(unknownWithSomeToken.status).toBe(401);
  });

  it('tells the holder of the global token that an id does not exist', async () => {
    const h = harness({ token: 'global', concealProcessIds: true });

    expect((await postOffer(h, 'nope', { Authorization: 'Bearer global' })).status).toBe(404);
  });

  it('answers 404 for unknown ids when no token is in use', async () => {
    let tokensInUse = false;
    const h = harness({ concealProcessIds: () => tokensInUse });

    expect((await postOffer(h, 'nope')).status).toBe(404);
    tokensInUse = true;
    expect((await postOffer(h, 'nope')).status).toBe(401);
  });
});
