import { Hono } from 'hono';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { NodeRecord } from './cluster-records.js';
import { type PlacementTarget, type WhepPlacementOptions, whepPlacement } from './whep-placement.js';

function node(id: string, viewers: number): NodeRecord {
  return {
    id,
    name: id,
    url: `http://${id}.test:8080`,
    version: '0.1.0',
    started_at: '2026-11-25T00:00:00.000Z',
    heartbeat_at: 0,
    load: { viewers, max_viewers: 10, cpu_percent: 0, egress_bps: 0, pulls: 0, processes: 0 },
    pulling: [],
  };
}

/** The middleware in front of a stand-in for the WHEP routes, which answers 201 like them. */
function app(overrides: Partial<WhepPlacementOptions> & { targets?: Record<string, PlacementTarget> }) {
  const pulls: string[] = [];
  const reached: string[] = [];
  const options: WhepPlacementOptions = {
    nodeId: 'self',
    advertisedUrl: () => 'http://self.test:8080',
    target: async (id) => overrides.targets?.[id],
    isLocal: () => false,
    pull: async (id) => {
      pulls.push(id);
    },
    liveNodes: () => [node('self', 0), node('other', 0)],
    load: () => ({ viewers: 0, maxViewers: 10 }),
    globalToken: '',
    margin: 0.2,
    logger: pino({ level: 'silent' }),
    ...overrides,
  };
  const routes = new Hono();
  routes.use('/api/v3/process/:id/whep', whepPlacement(options));
  routes.post('/api/v3/process/:id/whep', (c) => {
    reached.push(c.req.param('id'));
    c.header('Location', `/api/v3/process/${c.req.param('id')}/whep/session-1`);
    return c.body('answer', 201);
  });
  return { routes, pulls, reached };
}

const offer = (headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/sdp', ...headers },
  body: 'v=0',
});

describe('WHEP placement', () => {
  it("pulls another node's process before the WHEP routes answer, and makes the session URL absolute", async () => {
    const { routes, pulls, reached } = app({ targets: { cam: { owner: 'origin', token: '' } } });
    const response = await routes.request('http://self.test/api/v3/process/cam/whep', offer());
    expect(response.status).toBe(201);
    expect(response.headers.get('Location')).toBe('http://self.test:8080/api/v3/process/cam/whep/session-1');
    expect(pulls).toEqual(['cam']);
    expect(reached).toEqual(['cam']);
  });

  it('does not pull a process this node runs', async () => {
    const { routes, pulls } = app({ targets: { cam: { owner: 'self', token: '' } }, isLocal: () => true });
    expect((await routes.request('http://self.test/api/v3/process/cam/whep', offer())).status).toBe(201);
    expect(pulls).toEqual([]);
  });

  it("redirects a full node's offer to a node with room, keeping method and body (307), with CORS", async () => {
    const { routes, pulls, reached } = app({
      targets: { cam: { owner: 'origin', token: '' } },
      load: () => ({ viewers: 10, maxViewers: 10 }),
    });
    const response = await routes.request('http://self.test/api/v3/process/cam/whep', offer());
    expect(response.status).toBe(307);
    expect(response.headers.get('Location')).toBe('http://other.test:8080/api/v3/process/cam/whep?placed=1');
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(pulls).toEqual([]);
    expect(reached).toEqual([]);
  });

  it('serves an offer that was redirected once, even when full', async () => {
    const { routes, reached } = app({
      targets: { cam: { owner: 'origin', token: '' } },
      load: () => ({ viewers: 10, maxViewers: 10 }),
    });
    const response = await routes.request('http://self.test/api/v3/process/cam/whep?placed=1', offer());
    expect(response.status).toBe(201);
    expect(reached).toEqual(['cam']);
  });

  it('neither pulls nor redirects an offer without the token: the WHEP routes refuse it', async () => {
    const { routes, pulls, reached } = app({
      targets: { cam: { owner: 'origin', token: 'viewer-secret' } },
      load: () => ({ viewers: 10, maxViewers: 10 }),
    });
    await routes.request(
      'http://self.test/api/v3/process/cam/whep',
      offer({ Authorization: 'Bearer wrong' }),
    );
    expect(pulls).toEqual([]);
    expect(reached).toEqual(['cam']);
    await routes.request(
      'http://self.test/api/v3/process/cam/whep?placed=1',
      offer({ Authorization: 'Bearer viewer-secret' }),
    );
    expect(pulls).toEqual(['cam']);
  });

  it('leaves an unknown process to the WHEP routes', async () => {
    const { routes, pulls, reached } = app({});
    await routes.request('http://self.test/api/v3/process/nope/whep', offer());
    expect(pulls).toEqual([]);
    expect(reached).toEqual(['nope']);
  });
});
