import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jsonBody, type RunningServer, stopAllServers, waitFor } from '@dragon/test-helpers/server';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offerWhep, type RunningRedis, smallTestPattern, startNode, startRedis } from './cluster-harness.js';

/**
 * What a client that can write to the cluster's Redis (but does not know `cluster.secret`), or that
 * sees one request between nodes, can get out of the cluster. Two nodes with the API login on and
 * viewers without a token (public streams, private API); node B is reached by the other node through
 * a recording proxy (its advertised URL), so the test sees what nodes send each other.
 */

const login = { username: 'admin', password: 'cluster-test-password' };
const secured = {
  CORE_API_AUTH_ENABLE: 'true',
  CORE_API_AUTH_USERNAME: login.username,
  CORE_API_AUTH_PASSWORD: login.password,
};

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** An HTTP listener that notes every request; with a target it forwards them there, else answers 404. */
class Recorder {
  readonly seen: Seen[] = [];
  target: string | undefined;
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<Recorder> {
    const server = createServer();
    const recorder = new Recorder(server);
    server.on('request', (request, response) => {
      void recorder.#handle(request).then(
        ({ status, headers, body }) => {
          response.writeHead(status, headers);
          response.end(body);
        },
        () => {
          response.writeHead(502);
          response.end();
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return recorder;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string' && !['host', 'connection', 'content-length'].includes(name)) {
        headers[name] = value;
      }
    }
    this.seen.push({ method: request.method ?? '', url: request.url ?? '', headers });
    if (!this.target) return { status: 404, headers: {}, body: '' };
    const method = request.method ?? 'GET';
    const response = await fetch(`${this.target}${request.url}`, {
      method,
      headers,
      ...(method === 'GET' || method === 'HEAD' ? {} : { body: Buffer.concat(chunks) }),
      redirect: 'manual',
    });
    const answered: Record<string, string> = {};
    for (const name of ['content-type', 'location']) {
      const value = response.headers.get(name);
      if (value) answered[name] = value;
    }
    return { status: response.status, headers: answered, body: Buffer.from(await response.arrayBuffer()) };
  }
}

let redis: RunningRedis;
let a: RunningServer;
let b: RunningServer;
let proxyOfB: Recorder;
let attacker: Recorder;

async function userHeaders(server: RunningServer): Promise<Record<string, string>> {
  const { access_token } = await server.json<{ access_token: string }>('/api/login', jsonBody(login));
  return { Authorization: `Bearer ${access_token}` };
}

beforeAll(async () => {
  redis = await startRedis();
  [proxyOfB, attacker] = await Promise.all([Recorder.start(), Recorder.start()]);
  [a, b] = await Promise.all([
    startNode(redis, { env: secured }),
    startNode(redis, { env: { ...secured, CORE_CLUSTER_ADVERTISE_URL: proxyOfB.url } }),
  ]);
  proxyOfB.target = b.baseUrl;
  const onA = await userHeaders(a);
  await waitFor('both nodes in the cluster', async () => {
    const view = await a.json<{ nodes: unknown[] }>('/api/v3/cluster', { headers: onA });
    return view.nodes.length === 2 ? true : undefined;
  });
});
afterAll(async () => {
  await stopAllServers();
  await Promise.all([proxyOfB?.close(), attacker?.close()]);
  await redis?.stop();
});

describe('a cluster whose Redis or traffic between nodes an attacker can reach', () => {
  it('believes no node record a Redis writer forged: an anonymous offer makes no node call its URL', async () => {
    const raw = createClient({ url: redis.url });
    await raw.connect();
    try {
      const now = Date.now();
      const load = { viewers: 0, max_viewers: 0, cpu_percent: 0, egress_bps: 0, pulls: 0, processes: 1 };
      // The shapes nodes write, without the signature only cluster.secret can make.
      await raw.set(
        'dragon:node:evil',
        JSON.stringify({
          id: 'evil',
          name: 'evil',
          url: attacker.url,
          version: '0.1.0',
          started_at: new Date(now).toISOString(),
          heartbeat_at: now,
          load,
          pulling: [],
        }),
      );
      await raw.set(
        'dragon:process:ghost',
        JSON.stringify({
          id: 'ghost',
          node: 'evil',
          reference: '',
          created_at: 1,
          updated_at: 1,
          written_at: now,
          order: 'start',
          exec: 'running',
          reconnect: true,
          failover: false,
          webrtc: { enabled: true, audio: true, token: '' },
          config: { id: 'ghost' },
          state: { exec: 'running' },
          metadata: {},
        }),
      );
    } finally {
      await raw.close();
    }
    const offered = await offerWhep(a, 'ghost');
    expect(offered.status).toBe(404);
    const listed = await a.json<{ id: string }[]>('/api/v3/process', { headers: await userHeaders(a) });
    expect(listed.map((process) => process.id)).not.toContain('ghost');
    expect(attacker.seen).toEqual([]);
  });

  it('signs a forwarded call for that one request to that one node: a captured token replays nowhere', async () => {
    const onB = await userHeaders(b);
    await b.json('/api/v3/process', {
      ...jsonBody(smallTestPattern('parked', { autostart: false })),
      headers: { ...onB, 'Content-Type': 'application/json' },
    });
    const onA = await userHeaders(a);
    const state = await waitFor("the state of B's process, asked of A", async () => {
      const response = await a.api('/api/v3/process/parked/state', { headers: onA });
      return response.status === 200 ? ((await response.json()) as { order: string }) : undefined;
    });
    expect(state.order).toBe('stop');
    const forwarded = proxyOfB.seen.find(
      (seen) => seen.url === '/api/v3/process/parked/state' && seen.headers['x-dragon-node-token'],
    );
    expect(forwarded).toBeDefined();
    const captured = forwarded!.headers;

    // The same request again, at once, to the node it was for.
    expect((await b.api('/api/v3/process/parked/state', { headers: captured })).status).toBe(401);
    // Anything else an administrator may do, on either node.
    for (const node of [b, a]) {
      expect((await node.api('/api/v3/config', { headers: captured })).status).toBe(401);
      const create = await node.api('/api/v3/process', {
        method: 'POST',
        headers: { ...captured, 'content-type': 'application/json' },
        body: JSON.stringify(smallTestPattern('planted', { autostart: false })),
      });
      expect(create.status).toBe(401);
    }
    // The same request to the other node.
    expect((await a.api('/api/v3/process/parked/state', { headers: captured })).status).toBe(401);
  });

  it('pulls a stream as a viewer does: the origin gets no node token to replay', async () => {
    const onB = await userHeaders(b);
    await b.json('/api/v3/process', {
      ...jsonBody(smallTestPattern('live')),
      headers: { ...onB, 'Content-Type': 'application/json' },
    });
    const viewer = await waitFor(
      'live watchable on A, pulled from B',
      async () => {
        const offered = await offerWhep(a, 'live');
        return offered.status === 201 ? offered : undefined;
      },
      60_000,
    );
    try {
      const pulls = proxyOfB.seen.filter((seen) => seen.method === 'POST' && seen.url.includes('/live/whep'));
      expect(pulls.length).toBeGreaterThan(0);
      for (const pull of pulls) expect(pull.headers['x-dragon-node-token']).toBeUndefined();
    } finally {
      await viewer.close();
    }
  });
});
